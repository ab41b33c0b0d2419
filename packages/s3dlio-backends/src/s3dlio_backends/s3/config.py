"""Where an S3 store talks to and as whom: endpoint, region, addressing style, TLS and credentials.

Each comes from the store's `S3Config` when it sets it (a caller passes one to `S3Store` or
`new_store("s3://", config)` instead of mutating os.environ), else from the environment:
* Endpoint: the URI's `host:port` (http unless the port is 443 or listed in S3DLIO_S3_ENDPOINT_TLS_PORTS),
  else `endpoint_url`, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS
  (`s3.<region>.amazonaws.com`, https).
* Region: `region`, else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
* Addressing: `addressing_style` (else AWS_S3_ADDRESSING_STYLE): 'auto' is path style whenever an endpoint
  is set (as the original forces) and virtual-host style on AWS for DNS-safe bucket names; 'path' and
  'virtual' force one.
* TLS: verifying; `ca_bundle` (else AWS_CA_BUNDLE) adds trusted roots.
* Credentials: `access_key_id` + `secret_access_key` (+ `session_token`), else botocore's resolver for
  `profile` (else AWS_PROFILE / the default chain: environment, profile, SSO, role, IMDS); static keys in
  the environment, that chain's first choice, are taken without importing botocore. Refreshable
  credentials are re-frozen when botocore says they need a refresh; nothing here ever prints a secret.
"""

from __future__ import annotations

import os
import re
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from s3dlio_core.errors import InvalidUriError, PermissionDeniedError
from s3dlio_core.store_config import StoreConfig

__all__ = ["S3Config", "Endpoint", "resolve_endpoint", "resolve_region", "Credentials", "CredentialSource",
           "ADDRESSING_STYLES"]

_DNS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
ADDRESSING_STYLES = ("auto", "path", "virtual")


@dataclass(frozen=True, repr=False)
class S3Config(StoreConfig):
    """Where and as whom an S3 store talks, plus the common tunables of StoreConfig (retries, timeouts,
    part size, thresholds). Every field left at None comes from the environment (see the module
    docstring). repr() never shows a key, secret or token."""

    endpoint_url: str | None = None  # e.g. "http://127.0.0.1:9000" or "https://s3.example.com/prefix"
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    profile: str | None = None  # a profile of the AWS config / credentials files
    ca_bundle: str | None = None  # a PEM file of extra trusted roots (https endpoints)
    addressing_style: str | None = None  # 'auto', 'path' or 'virtual'

    def __post_init__(self) -> None:
        if bool(self.access_key_id) != bool(self.secret_access_key):
            given = "access_key_id" if self.access_key_id else "secret_access_key"
            raise ValueError(f"S3Config: access_key_id and secret_access_key go together (only {given} is set)")
        if self.session_token and not self.access_key_id:
            raise ValueError("S3Config: session_token needs access_key_id and secret_access_key")
        if self.addressing_style is not None and self.addressing_style not in ADDRESSING_STYLES:
            raise ValueError(f"S3Config: addressing_style must be one of {', '.join(ADDRESSING_STYLES)}, "
                             f"got {self.addressing_style!r}")


def resolve_region(config: S3Config | None = None) -> str:
    return ((config.region if config is not None else None) or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")


def _addressing(config: S3Config | None) -> str:
    style = (config.addressing_style if config is not None else None) or \
        os.environ.get("AWS_S3_ADDRESSING_STYLE", "").strip().lower() or "auto"
    return style if style in ADDRESSING_STYLES else "auto"


def _tls_ports() -> set[int]:
    raw = os.environ.get("S3DLIO_S3_ENDPOINT_TLS_PORTS", "")
    return {int(p) for p in re.split(r"[,\s]+", raw) if p.strip().isdigit()}


@dataclass(frozen=True)
class Endpoint:
    """One S3 service address. `custom` is True for any endpoint other than AWS's own."""

    scheme: str  # http or https
    host: str
    port: int
    custom: bool
    region: str
    base_path: str = ""  # an endpoint URL may carry a path prefix
    addressing: str = "auto"  # 'auto', 'path' or 'virtual' (see the module docstring)

    @property
    def url(self) -> str:
        default = 443 if self.scheme == "https" else 80
        hp = self.host if self.port == default else f"{self.host}:{self.port}"
        if ":" in self.host and not self.host.startswith("["):
            hp = f"[{self.host}]" if self.port == default else f"[{self.host}]:{self.port}"
        return f"{self.scheme}://{hp}{self.base_path}"

    def host_header(self, host: str | None = None) -> str:
        h = host or self.host
        if ":" in h and not h.startswith("["):
            h = f"[{h}]"
        default = 443 if self.scheme == "https" else 80
        return h if self.port == default else f"{h}:{self.port}"

    def virtual_host(self, bucket: str) -> str | None:
        """The host for virtual-hosted addressing of `bucket`, or None for path style."""
        if self.addressing == "path" or (self.custom and self.addressing != "virtual"):
            return None
        if _DNS_BUCKET.match(bucket) and ".." not in bucket:
            return f"{bucket}.{self.host}"
        return None


def _parse_endpoint_url(url: str, region: str, addressing: str) -> Endpoint:
    if "://" not in url:
        url = "http://" + url
    sp = urlsplit(url)
    if sp.scheme not in ("http", "https") or not sp.hostname:
        raise InvalidUriError(f"bad S3 endpoint URL {url!r} (expected http(s)://host[:port])", url)
    port = sp.port or (443 if sp.scheme == "https" else 80)
    return Endpoint(sp.scheme, sp.hostname, port, True, region, sp.path.rstrip("/"), addressing)


def resolve_endpoint(uri_endpoint: str | None, config: S3Config | None = None) -> Endpoint:
    """The endpoint for a URI's `host:port` part (or None: the config's endpoint URL, else the
    environment's, else AWS)."""
    region = resolve_region(config)
    addressing = _addressing(config)
    if uri_endpoint:
        host, _, port_s = uri_endpoint.rpartition(":")
        if uri_endpoint.startswith("[") and "]" in uri_endpoint:
            close = uri_endpoint.index("]")
            host = uri_endpoint[1:close]
            port_s = uri_endpoint[close + 2:] if uri_endpoint[close + 1:close + 2] == ":" else ""
        port = int(port_s) if port_s else 80
        scheme = "https" if (port == 443 or port in _tls_ports()) else "http"
        return Endpoint(scheme, host, port, True, region, "", addressing)
    url = (config.endpoint_url if config is not None else None) or os.environ.get("AWS_ENDPOINT_URL_S3") \
        or os.environ.get("AWS_ENDPOINT_URL")
    if url:
        return _parse_endpoint_url(url.strip(), region, addressing)
    return Endpoint("https", f"s3.{region}.amazonaws.com", 443, False, region, "", addressing)


def tls_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """Verifying TLS context; `ca_bundle` (else AWS_CA_BUNDLE) adds a PEM bundle of trusted roots."""
    ctx = ssl.create_default_context()
    bundle = ca_bundle or os.environ.get("AWS_CA_BUNDLE")
    if bundle:
        ctx.load_verify_locations(cafile=bundle)
    return ctx


class Credentials:
    """A frozen (access key, secret, token) triple; repr and str never show the secret parts."""

    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token or None

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("S3 credentials are not picklable")


class _EnvKeys:
    """Static keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN or
    AWS_SECURITY_TOKEN): botocore's EnvProvider, first in its default chain, returns exactly these.
    Taking them directly saves importing botocore on a process's first request (0.25-0.5 s measured here,
    a large part of a first get_many). Keys with AWS_CREDENTIAL_EXPIRATION (refreshable), and any
    explicit profile (which makes botocore skip the environment), go to botocore."""

    __slots__ = ("_creds",)

    def __init__(self, creds: Credentials) -> None:
        self._creds = creds

    @classmethod
    def from_environ(cls) -> _EnvKeys | None:
        e = os.environ
        ak, sk = e.get("AWS_ACCESS_KEY_ID"), e.get("AWS_SECRET_ACCESS_KEY")
        if not ak or not sk or e.get("AWS_CREDENTIAL_EXPIRATION"):
            return None
        return cls(Credentials(ak, sk, e.get("AWS_SESSION_TOKEN") or e.get("AWS_SECURITY_TOKEN")))

    def get_frozen_credentials(self) -> Credentials:
        return self._creds

    def __repr__(self) -> str:
        return "_EnvKeys(<redacted>)"


class CredentialSource:
    """Static keys from an S3Config, or credentials resolved once per process with botocore (for the
    config's profile, else the default chain), handed out as fresh frozen copies."""

    RECHECK_S = 30.0  # how often a refreshable source is asked whether it needs a refresh

    def __init__(self, config: S3Config | None = None) -> None:
        self._lock = threading.Lock()
        self._source: Any = None
        self._frozen: Credentials | None = None
        self._checked = 0.0
        self._refreshable = False
        self._static: Credentials | None = None
        self._profile = config.profile if config is not None else None
        if config is not None and config.access_key_id and config.secret_access_key:
            self._static = Credentials(config.access_key_id, config.secret_access_key, config.session_token)
            self._frozen = self._static

    def __repr__(self) -> str:
        return "CredentialSource(<redacted>)"

    def get(self) -> Credentials:
        c = self._frozen
        if c is not None and (not self._refreshable or time.monotonic() - self._checked < self.RECHECK_S):
            return c
        with self._lock:
            c = self._frozen
            if c is not None and (not self._refreshable
                                  or time.monotonic() - self._checked < self.RECHECK_S):
                return c
            if self._source is None:
                self._source = self._resolve()
            fc = self._source.get_frozen_credentials()  # refreshes when botocore says it must
            c = Credentials(fc.access_key, fc.secret_key, fc.token)
            self._frozen = c
            self._checked = time.monotonic()
            return c

    def invalidate(self) -> None:
        """Forget the frozen copy (e.g. after an ExpiredToken answer) so the next call re-reads (static
        keys stay: there is nothing to re-read)."""
        with self._lock:
            self._frozen = self._static

    def _resolve(self) -> Any:
        if self._profile is None:
            env = _EnvKeys.from_environ()
            if env is not None:  # what botocore's first provider would return, without importing botocore
                self._refreshable = False
                return env
        import botocore.exceptions
        import botocore.session

        try:
            session = botocore.session.Session(profile=self._profile)
            creds = session.get_credentials()
        except botocore.exceptions.ProfileNotFound:
            raise PermissionDeniedError(f"the AWS profile {self._profile!r} is not in the AWS config or "
                                        "credentials files") from None
        if creds is None:
            raise PermissionDeniedError(
                "Missing AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a "
                "profile or role that botocore can find (or pass an S3Config with keys or a profile)")
        self._refreshable = hasattr(creds, "refresh_needed")
        return creds
