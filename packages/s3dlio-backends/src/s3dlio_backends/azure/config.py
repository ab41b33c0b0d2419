"""Azure Blob settings from the environment: account, endpoint and credential, and the URI rule.

Variables (first match wins for the credential):
* `AZURE_STORAGE_CONNECTION_STRING`: account, key or SAS, and endpoint in one string.
* `AZURE_STORAGE_ACCOUNT` + `AZURE_STORAGE_KEY`: shared-key credential (the spec's example).
* `AZURE_STORAGE_SAS_TOKEN` / `S3DLIO_AZURE_SAS_TOKEN`: a SAS token appended to every request.
* otherwise `DefaultAzureCredential` when azure-identity is installed and the endpoint is https, else
  anonymous (public containers, emulators).
* `S3DLIO_AZURE_CREDENTIAL` (the original's switch) overrides the choice: `auto` (default, the order
  above), `none` (anonymous), `sas` (the SAS token, which must be set), `key` (the account key), or with
  azure-identity installed `cli`, `managed-identity`, `workload-identity`, `client-secret`.
* `AZURE_STORAGE_ENDPOINT` / `AZURE_BLOB_ENDPOINT_URL`: the blob service URL. An endpoint with no path on a
  loopback/IP host (an emulator such as Azurite) gets `/{account}` appended; any other is used as is.
  Default: `https://{account}.blob.core.windows.net`.

URI rule: `az://A/B/rest` is the account form (account A, container B, blob rest) when A equals the
configured account name (`AZURE_STORAGE_ACCOUNT` or the connection string's AccountName), or when no account
is configured at all. Otherwise it is the container form: container A, blob `B/rest`, in the configured
account. `azure://` is the same scheme.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from s3dlio_core.store_config import StoreConfig

from ..store_configs import common_fields

__all__ = ["AzureConfig", "parse_connection_string", "redact", "install_sas_log_redaction"]

_SECRET_KEYS = ("accountkey", "sharedaccesssignature", "sig")


def parse_connection_string(cs: str) -> dict[str, str]:
    """`Key=Value;...` into a dict with lower-case keys (values may contain '=')."""
    out: dict[str, str] = {}
    for part in cs.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip().lower()] = v.strip()
    return out


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret replaced by '***' (for messages that might echo a credential)."""
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


_SIG_RE = re.compile(r"(?i)\b(sig|AccountKey|SharedAccessSignature)=[^&;\s\"']*")
_redaction_installed = False


class _SasRedactingFilter(logging.Filter):
    """Scrubs SAS signatures from records of loggers that print request URLs (urllib3 at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            if any(isinstance(a, str) and "=" in a for a in args):
                record.args = tuple(_SIG_RE.sub(r"\1=REDACTED", a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = _SIG_RE.sub(r"\1=REDACTED", record.msg)
        return True


def install_sas_log_redaction() -> None:
    """A SAS travels in the URL query; urllib3 logs URLs at DEBUG. Scrub signatures there (once)."""
    global _redaction_installed
    if not _redaction_installed:
        _redaction_installed = True
        logging.getLogger("urllib3.connectionpool").addFilter(_SasRedactingFilter())


def _is_ip_or_localhost(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


@dataclass(frozen=True, repr=False)
class AzureConfig(StoreConfig):
    """What the Azure store needs to reach an account, plus the common tunables of StoreConfig (retries,
    timeouts, part size, thresholds). Pass one to `AzureStore(config)` or `new_store("az://", config)`
    instead of setting AZURE_* variables. Secrets (key, SAS, connection string) never appear in repr()."""

    account: str | None = None
    endpoint: str | None = None  # the blob service URL as configured (may lack the account path)
    account_key: str | None = None
    sas_token: str | None = None
    connection_string: str | None = None
    credential_mode: str = "auto"  # S3DLIO_AZURE_CREDENTIAL: auto, none, sas, key, cli, managed-identity, ...

    def __post_init__(self) -> None:
        cs = self.connection_string
        if cs:  # the connection string's parts fill what was not given explicitly
            parts = parse_connection_string(cs)
            account = self.account or parts.get("accountname")
            endpoint = self.endpoint or parts.get("blobendpoint")
            if not endpoint and account:
                proto = parts.get("defaultendpointsprotocol", "https")
                endpoint = f"{proto}://{account}.blob.{parts.get('endpointsuffix', 'core.windows.net')}"
            object.__setattr__(self, "account", account)
            object.__setattr__(self, "endpoint", endpoint)
            object.__setattr__(self, "account_key", self.account_key or parts.get("accountkey"))
            object.__setattr__(self, "sas_token", self.sas_token or parts.get("sharedaccesssignature"))
        if self.endpoint:
            object.__setattr__(self, "endpoint", self.endpoint.rstrip("/"))
        if self.sas_token:
            object.__setattr__(self, "sas_token", self.sas_token.lstrip("?"))
        object.__setattr__(self, "credential_mode", (self.credential_mode or "auto").strip().lower())

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, tunables: StoreConfig | None = None) -> AzureConfig:
        """The configuration the AZURE_* variables describe (`tunables`: a StoreConfig whose common fields
        are kept)."""
        e = os.environ if env is None else env
        cs = e.get("AZURE_STORAGE_CONNECTION_STRING") or None
        account = e.get("AZURE_STORAGE_ACCOUNT") or None
        key = e.get("AZURE_STORAGE_KEY") or None
        sas = e.get("AZURE_STORAGE_SAS_TOKEN") or e.get("S3DLIO_AZURE_SAS_TOKEN") or None
        endpoint = e.get("AZURE_STORAGE_ENDPOINT") or e.get("AZURE_BLOB_ENDPOINT_URL") or None
        mode = e.get("S3DLIO_AZURE_CREDENTIAL") or "auto"
        return cls(account=account, endpoint=endpoint, account_key=key, sas_token=sas, connection_string=cs,
                   credential_mode=mode, **common_fields(tunables))

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret string this config holds (to scrub from messages)."""
        out = [s for s in (self.account_key, self.sas_token, self.connection_string) if s]
        if self.sas_token:
            for kv in self.sas_token.split("&"):
                if kv.startswith("sig="):
                    out.append(kv[4:])
        return tuple(out)

    def account_url(self, account: str) -> str:
        """The blob service URL of `account`."""
        if self.endpoint:
            parts = urlsplit(self.endpoint)
            if parts.path.strip("/") == "" and _is_ip_or_localhost(parts.hostname or ""):
                return f"{self.endpoint}/{account}"
            return self.endpoint
        return f"https://{account}.blob.core.windows.net"

    def split(self, first: str, rest: str) -> tuple[str, str, str]:
        """Apply the URI rule to `az://{first}/{rest}`: (account, container, blob)."""
        if self.account is None or first == self.account:
            container, _, blob = rest.partition("/")
            return first, container, blob
        return self.account, first, rest
