"""AzureClient: the Azure SDK pipeline of each account, the credentials, and the blob requests of the az://
store, with retries (retry_policy.py) and typed errors.

One pipeline (BlobServiceClient) per account and process (a forked child builds its own). Data-path
requests are sent through that pipeline directly (auth, retries, pooled connections, no SDK copies), and a
refused request becomes the typed error of http_errors.py, naming the URI and never a secret.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from s3dlio_core.adaptive import AdaptiveLimit
from s3dlio_core.errors import (
    BackendNotInstalledError,
    InvalidUriError,
    PermissionDeniedError,
    S3dlioError,
    StorageIOError,
)
from s3dlio_core.settings import Settings
from s3dlio_core.uri import ObjectUri

from .._requests_env import ca_bundle, needs_trust_env
from ..http_errors import error_for_status
from ..requests_body import discard_body
from .config import AzureConfig, install_sas_log_redaction, redact

__all__ = ["AzureClient", "BlobLocation"]

log = logging.getLogger("s3dlio.azure")
MiB = 1 << 20
_POOL_SIZE = 128  # pooled connections per host: covers get_many's default 64 in flight plus ranges


class BlobLocation:
    """One resolved blob address: account, container, blob name and the normalised URI."""

    __slots__ = ("account", "blob", "container", "u")

    def __init__(self, account: str, container: str, blob: str, u: ObjectUri) -> None:
        self.account = account
        self.container = container
        self.blob = blob
        self.u = u


class AzureClient:
    """The pipelines and blob requests of one Azure configuration (see the module docstring)."""

    def __init__(self, config: AzureConfig, settings_of: Callable[[], Settings]) -> None:
        self.config = config
        self._settings = settings_of
        self._services: dict[str, Any] = {}
        self._limits: dict[str, AdaptiveLimit | None] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()

    # ---------------------------------------------------------------- pipelines (per account and process)
    def service(self, account: str, uri: str | None = None) -> Any:
        if self._pid != os.getpid():  # forked child: never share the parent's connections
            with self._lock:
                if self._pid != os.getpid():
                    self._services = {}
                    self._limits = {}
                    self._pid = os.getpid()
        svc = self._services.get(account)
        if svc is None:
            with self._lock:
                svc = self._services.get(account)
                if svc is None:
                    try:
                        svc = self._make_service(account)
                    except S3dlioError as e:  # name the URI that needed the account
                        raise type(e)(f"{e} (for {uri or account})", uri) from None
                    self._services[account] = svc
        return svc

    def _make_service(self, account: str) -> Any:
        from azure.storage.blob import BlobServiceClient

        from .retry_policy import AzureRetryPolicy

        url = self.config.account_url(account)
        policy = AzureRetryPolicy(self._settings)
        kw: dict[str, Any] = {"transport": _pooled_transport(self._settings()), "max_single_put_size": 64 * MiB,
                              "retry_policy": policy}
        svc = BlobServiceClient(url, credential=self._credential(account, url), **kw)
        self._limits[account] = policy.limit
        return svc

    def limit(self, account: str) -> AdaptiveLimit | None:
        """The adaptive in-flight limit of `account`'s endpoint in this process (None: turned off)."""
        self.service(account)
        return self._limits.get(account)

    def _credential(self, account: str, url: str) -> Any:
        """The credential for `account` (see config.py: S3DLIO_AZURE_CREDENTIAL and the `auto` order)."""
        from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential

        cfg = self.config
        mode = cfg.credential_mode
        has_key = bool(cfg.account_key) and account == cfg.account
        if mode in ("key", "shared-key") or (mode == "auto" and has_key):
            if not has_key:
                raise PermissionDeniedError(
                    f"S3DLIO_AZURE_CREDENTIAL={mode} but no account key for account {account!r} "
                    "(set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, or a connection string)")
            return AzureNamedKeyCredential(account, cfg.account_key)  # type: ignore[arg-type]
        if mode == "sas" or (mode == "auto" and cfg.sas_token):
            if not cfg.sas_token:
                raise PermissionDeniedError("S3DLIO_AZURE_CREDENTIAL=sas but no SAS token "
                                            "(set AZURE_STORAGE_SAS_TOKEN or S3DLIO_AZURE_SAS_TOKEN)")
            install_sas_log_redaction()
            return AzureSasCredential(cfg.sas_token)
        if mode == "none":
            return None
        if mode == "auto":
            # token credentials need https; an http endpoint (an emulator) without a key or SAS is anonymous
            return _default_credential() if url.startswith("https://") else None
        return _identity_credential(mode)

    def container(self, loc: BlobLocation) -> Any:
        return self.service(loc.account, loc.u.uri).get_container_client(loc.container)

    def blob_url(self, loc: BlobLocation) -> str:
        svc = self.service(loc.account, loc.u.uri)
        return f"{svc.scheme}://{svc.primary_hostname}/{loc.container}/{quote(loc.blob, safe='~/')}"

    def run(self, loc: BlobLocation, method: str, url: str, headers: dict[str, str], *, data: Any = None,
            stream: bool = False) -> Any:
        """Send one request through the account's pipeline (retried by its policy); the requests.Response."""
        from azure.core.pipeline.transport import HttpRequest

        svc = self.service(loc.account, loc.u.uri)
        headers["x-ms-version"] = svc.api_version
        req = HttpRequest(method, url, headers=headers)
        if data is not None:
            req.data = data
        try:
            resp = svc._pipeline.run(req, stream=stream)
        except Exception as e:
            raise self.error(e, loc.u.uri, method) from None
        return resp.http_response.internal_response

    # ---------------------------------------------------------------- errors
    def error(self, e: BaseException | None, uri: str, what: str, status: int | None = None,
              code: str | None = None) -> S3dlioError:
        """The typed error of a failed call: an SDK exception, or a refused answer's status and code."""
        from .retry_policy import last_retried

        if isinstance(e, S3dlioError):  # already typed (e.g. a credential misconfiguration)
            return e
        if e is not None and status is None:
            status = getattr(e, "status_code", None)
            code = getattr(e, "error_code", None)
            resp = getattr(e, "response", None)
            if code is None and resp is not None:
                code = resp.headers.get("x-ms-error-code")
        if code:
            detail = str(code)
        elif e is None:
            detail = "(no error code)"
        else:
            detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        if status is None:
            msg = f"Azure {what} for {uri} failed: {detail}"
        else:
            msg = f"Azure {what} for {uri} failed: {detail} (HTTP {status})"
            if status == 404:
                msg += " — not found"
            elif status in (401, 403):
                msg += " — access denied"
        err = error_for_status(redact(msg, self.config.secrets), uri, status, code)
        if isinstance(err, StorageIOError):
            err.retried = last_retried()
        return err

    def check(self, resp: Any, loc: BlobLocation, what: str, ok: tuple[int, ...]) -> None:
        """Raise the typed error unless the answer's status is in `ok` (the body is drained)."""
        if resp.status_code not in ok:
            code = resp.headers.get("x-ms-error-code")
            discard_body(resp)
            raise self.error(None, loc.u.uri, what, resp.status_code, code)

    # ---------------------------------------------------------------- writes
    def put_one(self, loc: BlobLocation, data: memoryview) -> None:
        """Put Blob: the whole blob in one request."""
        resp = self.run(loc, "PUT", self.blob_url(loc),
                        {"x-ms-blob-type": "BlockBlob", "Content-Length": str(data.nbytes),
                         "Content-Type": "application/octet-stream"}, data=data)
        self.check(resp, loc, "PUT", (201,))
        discard_body(resp)

    def stage_block(self, loc: BlobLocation, block_id: str, data: memoryview) -> None:
        encoded = base64.b64encode(block_id.encode()).decode()  # the SDK encodes ids on commit likewise
        url = f"{self.blob_url(loc)}?comp=block&blockid={quote(encoded, safe='')}"
        resp = self.run(loc, "PUT", url, {"Content-Length": str(data.nbytes)}, data=data)
        self.check(resp, loc, "PUT (stage block)", (201,))
        discard_body(resp)

    def commit_blocks(self, loc: BlobLocation, block_ids: list[str]) -> None:
        from azure.storage.blob import BlobBlock, ContentSettings

        bc = self.container(loc).get_blob_client(loc.blob)
        try:
            bc.commit_block_list([BlobBlock(block_id=b) for b in block_ids],
                                 content_settings=ContentSettings(content_type="application/octet-stream"))
        except Exception as e:
            raise self.error(e, loc.u.uri, "PUT (commit block list)") from None


def _pooled_transport(s: Settings) -> Any:
    """The SDK's requests transport with a connection pool as large as our fan-out (its default keeps 10
    connections and discards the rest, with a warning each, under get_many/put_many)."""
    from azure.core.pipeline.transport import RequestsTransport
    from urllib3.util.retry import Retry

    Adapter: type[Any]
    try:  # the SDK's adapter (larger socket reads); plain requests' one if it ever moves
        from azure.core.pipeline.transport._bigger_block_size_http_adapters import BiggerBlockSizeHTTPAdapter

        Adapter = BiggerBlockSizeHTTPAdapter
    except ImportError:  # pragma: no cover
        from requests.adapters import HTTPAdapter

        Adapter = HTTPAdapter

    class PooledTransport(RequestsTransport):
        def _init_session(self, session: Any) -> None:
            session.trust_env = self._use_env_settings and needs_trust_env()
            adapter = Adapter(max_retries=Retry(total=False, redirect=False,
                                                       raise_on_status=False),
                              pool_connections=4, pool_maxsize=_POOL_SIZE)
            for p in self._protocols:
                session.mount(p, adapter)

    kw: dict[str, Any] = {"connection_timeout": s.connect_timeout_s, "read_timeout": s.operation_timeout_s}
    bundle = ca_bundle()
    if bundle:
        kw["connection_verify"] = bundle
    return PooledTransport(**kw)


_IDENTITY_CLASSES = {"cli": "AzureCliCredential", "managed-identity": "ManagedIdentityCredential",
                     "workload-identity": "WorkloadIdentityCredential", "client-secret": "EnvironmentCredential",
                     "default": "DefaultAzureCredential"}


def _identity_credential(mode: str) -> Any:
    """An azure-identity credential named by S3DLIO_AZURE_CREDENTIAL."""
    name = _IDENTITY_CLASSES.get(mode)
    if name is None:
        raise InvalidUriError(f"S3DLIO_AZURE_CREDENTIAL={mode!r} is not one of: auto, none, sas, key, "
                              f"{', '.join(_IDENTITY_CLASSES)}")
    try:
        import azure.identity as identity
    except ImportError:
        raise BackendNotInstalledError(f"S3DLIO_AZURE_CREDENTIAL={mode} needs azure-identity "
                                       "(pip install 's3dlio-backends[azure-identity]')") from None
    return getattr(identity, name)()


def _default_credential() -> Any:
    """DefaultAzureCredential when azure-identity is installed, else None (anonymous)."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        log.debug("azure-identity not installed; using anonymous access")
        return None
    return DefaultAzureCredential()


