"""Where an S3 store talks to and as whom: endpoint, region, addressing style, TLS and credentials.

* Endpoint: the URI's `host:port` (http unless the port is 443 or listed in S3DLIO_S3_ENDPOINT_TLS_PORTS),
  else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS (`s3.<region>.amazonaws.com`, https).
* Region: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
* Path-style addressing whenever an endpoint is set (as the original forces); virtual-host style on AWS
  for DNS-safe bucket names.
* Credentials come from botocore's resolver (environment, profile, SSO, role, IMDS); static keys in the
  environment, the resolver's first choice, are taken directly without importing botocore. Refreshable
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

__all__ = ["Endpoint", "resolve_endpoint", "resolve_region", "Credentials", "CredentialSource"]

_DNS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def resolve_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


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
        """The host for virtual-hosted addressing of `bucket` on AWS, or None for path style."""
        if self.custom or os.environ.get("AWS_S3_ADDRESSING_STYLE", "").lower() == "path":
            return None
        if _DNS_BUCKET.match(bucket) and ".." not in bucket:
            return f"{bucket}.{self.host}"
        return None


def _parse_endpoint_url(url: str, region: str) -> Endpoint:
    if "://" not in url:
        url = "http://" + url
    sp = urlsplit(url)
    if sp.scheme not in ("http", "https") or not sp.hostname:
        raise InvalidUriError(f"bad S3 endpoint URL {url!r} (expected http(s)://host[:port])", url)
    port = sp.port or (443 if sp.scheme == "https" else 80)
    return Endpoint(sp.scheme, sp.hostname, port, True, region, sp.path.rstrip("/"))


def resolve_endpoint(uri_endpoint: str | None) -> Endpoint:
    """The endpoint for a URI's `host:port` part (or None: the environment's endpoint, else AWS)."""
    region = resolve_region()
    if uri_endpoint:
        host, _, port_s = uri_endpoint.rpartition(":")
        if uri_endpoint.startswith("[") and "]" in uri_endpoint:
            close = uri_endpoint.index("]")
            host = uri_endpoint[1:close]
            port_s = uri_endpoint[close + 2:] if uri_endpoint[close + 1:close + 2] == ":" else ""
        port = int(port_s) if port_s else 80
        scheme = "https" if (port == 443 or port in _tls_ports()) else "http"
        return Endpoint(scheme, host, port, True, region)
    env = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if env:
        return _parse_endpoint_url(env.strip(), region)
    return Endpoint("https", f"s3.{region}.amazonaws.com", 443, False, region)


def tls_context() -> ssl.SSLContext:
    """Verifying TLS context; AWS_CA_BUNDLE adds a PEM bundle of trusted roots."""
    ctx = ssl.create_default_context()
    bundle = os.environ.get("AWS_CA_BUNDLE")
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
    AWS_SECURITY_TOKEN): botocore's EnvProvider, which comes first in its chain, returns exactly these.
    Taking them directly saves importing botocore on a process's first request (0.25-0.5 s measured here,
    a large part of a first get_many). Keys with AWS_CREDENTIAL_EXPIRATION (refreshable) go to botocore."""

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
    """Resolves credentials once per process with botocore and hands out fresh frozen copies."""

    RECHECK_S = 30.0  # how often a refreshable source is asked whether it needs a refresh

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: Any = None
        self._frozen: Credentials | None = None
        self._checked = 0.0
        self._refreshable = False

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
        """Forget the frozen copy (e.g. after an ExpiredToken answer) so the next call re-reads."""
        with self._lock:
            self._frozen = None

    def _resolve(self) -> Any:
        env = _EnvKeys.from_environ()
        if env is not None:  # what botocore's first provider would return, without importing botocore
            self._refreshable = False
            return env
        import botocore.session

        session = botocore.session.Session()
        creds = session.get_credentials()
        if creds is None:
            raise PermissionDeniedError(
                "Missing AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a "
                "profile or role that botocore can find")
        self._refreshable = hasattr(creds, "refresh_needed")
        return creds
