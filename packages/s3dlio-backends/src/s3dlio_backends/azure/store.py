"""The az:// (azure://) store: Azure Blob Storage through azure-storage-blob.

* GET: one ranged request through the SDK's pipeline (auth, retries) whose body is read straight into the
  returned BytesView; objects above the range threshold are fetched as concurrent ranges into one buffer.
* PUT: one Put Blob up to the multipart threshold; above it, blocks staged in parallel from slices of the
  caller's buffer (no copies) and committed only after every block landed, so nothing half-written shows.
* list / delete / buckets go through the SDK (paged listing, batch delete, containers as buckets).
See config.py for the account / container URI rule and the credentials read from the environment.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from s3dlio_core import instrument as _ins
from s3dlio_core.bucket_store import BucketCapabilities, BucketStore
from s3dlio_core.bytes_view import BytesView
from s3dlio_core.concurrency import bounded_map
from s3dlio_core.errors import (
    BackendNotInstalledError,
    InvalidUriError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3dlioError,
    StorageIOError,
)
from s3dlio_core.metadata import make_stat, rfc3339_s
from s3dlio_core.settings import settings
from s3dlio_core.uri import ObjectUri

from .._put_verify import put_verified, verify_size
from .._ranged_read import discard_body, into_result, read_with_rest, readinto_body
from .._requests_env import ca_bundle, needs_trust_env
from .config import AzureConfig, install_sas_log_redaction, redact
from .writer import AzureBlockWriter, block_upload

__all__ = ["AzureStore"]

log = logging.getLogger("s3dlio.azure")
MiB = 1 << 20
_POOL_SIZE = 128  # pooled connections per host: covers get_many's default 64 in flight plus ranges


class AzureCapabilities(BucketCapabilities):
    get_into = True
    head = True


class _Loc:
    """One resolved blob address: account, container, blob name and the normalised URI."""

    __slots__ = ("account", "blob", "container", "u")

    def __init__(self, account: str, container: str, blob: str, u: ObjectUri) -> None:
        self.account = account
        self.container = container
        self.blob = blob
        self.u = u


class AzureStore(BucketStore):
    """az:// and azure:// URIs (see the module docstring)."""

    scheme = "az"
    capabilities = AzureCapabilities
    delete_batch_size = 256  # the Blob Batch API's limit per request
    list_page_size = 5000

    def __init__(self, config: AzureConfig | None = None) -> None:
        self.config = config if config is not None else AzureConfig.from_env()
        self._services: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()

    @classmethod
    def store_key(cls, u: ObjectUri) -> Any:
        return (cls.scheme,)

    @classmethod
    def from_uri(cls, u: ObjectUri) -> AzureStore:
        return cls()

    def __repr__(self) -> str:
        return f"AzureStore(account={self.config.account!r}, endpoint={self.config.endpoint!r})"

    # ---------------------------------------------------------------- addressing and clients
    def _loc(self, u: ObjectUri) -> _Loc:
        account, container, blob = self.config.split(u.bucket, u.key)
        if not container:
            raise InvalidUriError(f"missing container in {u.written_scheme}:// URI: {u.uri}", u.uri)
        account_form = self.config.account is None or u.bucket == self.config.account
        bucket = f"{u.bucket}/{container}" if account_form else container
        return _Loc(account, container, blob, ObjectUri(u.uri, u.scheme, u.written_scheme, bucket, blob))

    def _loc_of_normalised(self, u: ObjectUri) -> _Loc:
        if "/" in u.bucket:
            account, container = u.bucket.split("/", 1)
        else:
            account, container = self.config.account or "", u.bucket
        return _Loc(account, container, u.key, u)

    def _service(self, account: str, uri: str | None = None) -> Any:
        if self._pid != os.getpid():  # forked child: never share the parent's connections
            with self._lock:
                if self._pid != os.getpid():
                    self._services = {}
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

        cfg = self.config
        url = cfg.account_url(account)
        kw: dict[str, Any] = {"transport": _pooled_transport(), "max_single_put_size": 64 * MiB}
        return BlobServiceClient(url, credential=self._credential(account, url), **kw)

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

    def _blob_url(self, loc: _Loc) -> str:
        svc = self._service(loc.account, loc.u.uri)
        return f"{svc.scheme}://{svc.primary_hostname}/{loc.container}/{quote(loc.blob, safe='~/')}"

    def _container(self, loc: _Loc) -> Any:
        return self._service(loc.account, loc.u.uri).get_container_client(loc.container)

    def _run(self, loc: _Loc, method: str, url: str, headers: dict[str, str], *, data: Any = None,
             stream: bool = False) -> Any:
        """Send one request through the account's pipeline; returns the requests.Response."""
        from azure.core.pipeline.transport import HttpRequest

        svc = self._service(loc.account, loc.u.uri)
        headers["x-ms-version"] = svc.api_version
        req = HttpRequest(method, url, headers=headers)
        if data is not None:
            req.data = data
        try:
            resp = svc._pipeline.run(req, stream=stream)
        except Exception as e:
            raise self._error(e, loc.u.uri, method) from None
        return resp.http_response.internal_response

    # ---------------------------------------------------------------- errors
    def _error(self, e: BaseException, uri: str, what: str, status: int | None = None,
               code: str | None = None) -> S3dlioError:
        if isinstance(e, S3dlioError):  # already typed (e.g. a credential misconfiguration)
            return e
        if status is None:
            status = getattr(e, "status_code", None)
            code = getattr(e, "error_code", None)
            resp = getattr(e, "response", None)
            if code is None and resp is not None:
                code = resp.headers.get("x-ms-error-code")
        if code:
            detail = code
        elif e is None:
            detail = "(no error code)"
        else:
            detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = redact(f"{what} failed for {uri}: {status or ''} {detail}".replace("  ", " "),
                     self.config.secrets)
        if status == 404:
            return ObjectNotFoundError(f"{what} failed: not found: {uri} ({code or 'NotFound'})", uri)
        if status in (401, 403):
            return PermissionDeniedError(msg, uri)
        return StorageIOError(msg, uri)

    def _check(self, resp: Any, loc: _Loc, what: str, ok: tuple[int, ...]) -> None:
        if resp.status_code not in ok:
            code = resp.headers.get("x-ms-error-code")
            discard_body(resp)
            raise self._error(None, loc.u.uri, what, resp.status_code, code)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- reads
    def _open_range(self, loc: _Loc, offset: int, length: int, etag: str | None = None
                    ) -> tuple[Any, int, int]:
        """GET [offset, offset+length): (response or None when past the end, total size, body length).
        With `etag`, the range must come from that version of the blob (If-Match)."""
        headers = {"x-ms-range": f"bytes={offset}-{offset + length - 1}"}
        if etag:
            headers["If-Match"] = etag
        resp = self._run(loc, "GET", self._blob_url(loc), headers, stream=True)
        if resp.status_code == 412:
            discard_body(resp)
            raise StorageIOError(f"GET failed for {loc.u.uri}: the blob changed while it was read", loc.u.uri)
        if resp.status_code == 416:  # empty blob, or offset past the end
            total = _total_from_content_range(resp.headers.get("Content-Range"))
            discard_body(resp)
            return None, total if total is not None else 0, 0
        self._check(resp, loc, "GET", (200, 206))
        total = _total_from_content_range(resp.headers.get("Content-Range"))
        n = int(resp.headers.get("Content-Length", "0"))
        if total is None:  # a 200 without Content-Range: the whole blob
            total = n
        return resp, total, n

    def _read(self, u: ObjectUri, offset: int, length: int | None, dst: memoryview | None) -> Any:
        loc = self._loc(u)
        threshold = settings().range_threshold
        first = threshold if length is None else min(length, threshold)
        if first == 0:
            self._stat_loc(loc)  # a zero-length read still needs the blob to exist
            return BytesView() if dst is None else 0
        resp, total, body = self._open_range(loc, offset, first)
        if _ins.ACTIVE:  # response headers are in: the op-log's first byte
            _ins.mark_first_byte()
        end = total if length is None else min(total, offset + length)
        n = max(0, end - offset)

        def fill(mv: memoryview) -> None:
            if resp is not None:
                etag = resp.headers.get("ETag")
                read_with_rest(lambda: self._read_body(resp, mv[:body], loc),
                               lambda o, m: self._read_range_into(loc, o, m, etag), mv, offset, offset + body,
                               end, total)

        return into_result(u.uri, n, dst, resp, fill)

    def _read_body(self, resp: Any, mv: memoryview, loc: _Loc) -> None:
        got = readinto_body(resp, mv)
        if got != mv.nbytes:
            raise StorageIOError(f"GET failed for {loc.u.uri}: body ended after {got} of {mv.nbytes} bytes",
                                 loc.u.uri)

    def _read_range_into(self, loc: _Loc, offset: int, mv: memoryview, etag: str | None) -> None:
        resp, _total, body = self._open_range(loc, offset, mv.nbytes, etag)
        if resp is None or body != mv.nbytes:
            if resp is not None:
                resp.close()
            raise StorageIOError(f"GET failed for {loc.u.uri}: the blob changed while it was read", loc.u.uri)
        self._read_body(resp, mv, loc)

    def _get(self, u: ObjectUri) -> BytesView:
        return self._read(u, 0, None, None)

    def _get_range(self, u: ObjectUri, offset: int, length: int | None) -> BytesView:
        return self._read(u, offset, length, None)

    def _get_into(self, u: ObjectUri, dst: memoryview) -> int:
        return self._read(u, 0, None, dst)

    # ---------------------------------------------------------------- writes
    def _put_single(self, loc: _Loc, data: memoryview) -> None:
        resp = self._run(loc, "PUT", self._blob_url(loc),
                         {"x-ms-blob-type": "BlockBlob", "Content-Length": str(data.nbytes),
                          "Content-Type": "application/octet-stream"}, data=data)
        self._check(resp, loc, "PUT", (201,))
        discard_body(resp)

    def _stage_block(self, loc: _Loc, block_id: str, data: memoryview) -> None:
        encoded = base64.b64encode(block_id.encode()).decode()  # the SDK encodes ids on commit likewise
        url = f"{self._blob_url(loc)}?comp=block&blockid={quote(encoded, safe='')}"
        resp = self._run(loc, "PUT", url, {"Content-Length": str(data.nbytes)}, data=data)
        self._check(resp, loc, "PUT (stage block)", (201,))
        discard_body(resp)

    def _commit_blocks(self, loc: _Loc, block_ids: list[str]) -> None:
        from azure.storage.blob import BlobBlock, ContentSettings

        bc = self._container(loc).get_blob_client(loc.blob)
        try:
            bc.commit_block_list([BlobBlock(block_id=b) for b in block_ids],
                                 content_settings=ContentSettings(content_type="application/octet-stream"))
        except Exception as e:
            raise self._error(e, loc.u.uri, "PUT (commit block list)") from None

    def _put(self, u: ObjectUri, data: memoryview) -> None:
        loc = self._loc(u)
        if not loc.blob:
            raise InvalidUriError(f"no blob name in {u.uri}", u.uri)
        s = settings()
        n = data.nbytes
        if n <= s.multipart_threshold:
            if s.put_verify:
                put_verified(u, data, lambda: self._put_single(loc, data), lambda: self._stat_loc(loc),
                             lambda: self._delete(u))
            else:
                self._put_single(loc, data)
            return
        coord = block_upload(self, loc, total=n)
        try:
            coord.write(data, borrow=True)  # blocks are staged straight from slices of `data`
            coord.finish()
        except BaseException:
            coord.abort()
            raise
        if s.mpu_put_verify:
            verify_size(u, n, lambda: self._stat_loc(loc))

    def _open_writer(self, u: ObjectUri) -> Any:
        loc = self._loc(u)
        if not loc.blob:
            raise InvalidUriError(f"no blob name in {u.uri}", u.uri)
        return AzureBlockWriter(self, loc)

    # ---------------------------------------------------------------- metadata
    def _stat_loc(self, loc: _Loc) -> dict[str, Any]:
        """One HEAD (Get Blob Properties) through the pipeline; the 16-key stat dict from its headers."""
        if not loc.blob:
            raise InvalidUriError(f"no blob name in {loc.u.uri}", loc.u.uri)
        resp = self._run(loc, "HEAD", self._blob_url(loc), {})
        self._check(resp, loc, "HEAD", (200,))
        h = resp.headers
        discard_body(resp)
        lm = h.get("Last-Modified")
        return make_stat(
            int(h.get("Content-Length", "0")), rfc3339_s(parsedate_to_datetime(lm)) if lm else None, h.get("ETag"),
            content_type=h.get("Content-Type"), content_language=h.get("Content-Language"),
            content_encoding=h.get("Content-Encoding"), cache_control=h.get("Cache-Control"),
            content_disposition=h.get("Content-Disposition"), storage_class=h.get("x-ms-access-tier"),
            server_side_encryption="AES256" if h.get("x-ms-server-encrypted") == "true" else None,
            version_id=h.get("x-ms-version-id"),
            metadata={k[10:]: v for k, v in h.items() if k.lower().startswith("x-ms-meta-")})

    def _stat(self, u: ObjectUri) -> dict[str, Any]:
        return self._stat_loc(self._loc(u))

    # ---------------------------------------------------------------- listing and deletes
    def _list_pages(self, u: ObjectUri, recursive: bool) -> Iterator[list[str]]:
        yield from super()._list_pages(self._loc(u).u, recursive)

    def _list_entries(self, u: ObjectUri, recursive: bool) -> Iterator[list[Any]]:
        yield from super()._list_entries(self._loc(u).u, recursive)  # the same normalisation as _list_pages

    def _list_objects_page(self, u: ObjectUri, prefix: str, delimiter: str | None, token: Any
                           ) -> tuple[list[str], list[str], Any]:
        from azure.storage.blob import BlobPrefix

        loc = self._loc_of_normalised(u)
        cc = self._container(loc)
        try:
            if delimiter:
                pager = cc.walk_blobs(name_starts_with=prefix or None, delimiter=delimiter,
                                      results_per_page=self.list_page_size).by_page(continuation_token=token)
            else:
                pager = cc.list_blobs(name_starts_with=prefix or None,
                                      results_per_page=self.list_page_size).by_page(continuation_token=token)
            keys: list[str] = []
            prefixes: list[str] = []
            for item in next(pager, ()):
                (prefixes if isinstance(item, BlobPrefix) else keys).append(item.name)
        except Exception as e:
            raise self._error(e, u.uri, "LIST") from None
        return keys, prefixes, pager.continuation_token

    def _delete(self, u: ObjectUri) -> None:
        loc = self._loc(u)
        if not loc.blob:
            raise InvalidUriError(f"no blob name in {u.uri}", u.uri)
        resp = self._run(loc, "DELETE", self._blob_url(loc), {"x-ms-delete-snapshots": "include"})
        if resp.status_code == 404 and resp.headers.get("x-ms-error-code") == "BlobNotFound":
            discard_body(resp)
            return
        self._check(resp, loc, "DELETE", (202, 200))
        discard_body(resp)

    def _delete_recursive(self, u: ObjectUri) -> int:
        return super()._delete_recursive(self._loc(u).u)

    def _delete_keys(self, u: ObjectUri, keys: list[str]) -> None:
        loc = self._loc_of_normalised(u)
        if len(keys) == 1:
            self._delete(self._key_uri(u, keys[0]))
            return
        cc = self._container(loc)
        try:
            results = cc.delete_blobs(*keys, delete_snapshots="include", raise_on_any_failure=False)
            failed = [k for k, r in zip(keys, results, strict=False) if r.status_code not in (200, 202, 404)]
        except Exception as e:
            log.debug("batch delete refused (%s); deleting one by one", type(e).__name__)
            failed = keys
        if failed:
            bounded_map(lambda k: self._delete(self._key_uri(u, k)), failed, 16, level="fanout")

    @staticmethod
    def _key_uri(u: ObjectUri, key: str) -> ObjectUri:
        from s3dlio_core.uri import parse_uri

        return parse_uri(u.base + key)

    # ---------------------------------------------------------------- buckets (containers)
    def _bucket_loc(self, u: ObjectUri) -> _Loc:
        loc = self._loc(u)
        if loc.blob.strip("/"):
            raise InvalidUriError(f"a container URI has no blob part: {u.uri}", u.uri)
        return loc

    def _create_bucket(self, u: ObjectUri) -> None:
        from azure.core.exceptions import ResourceExistsError

        loc = self._bucket_loc(u)
        try:
            self._container(loc).create_container()
        except ResourceExistsError:
            return
        except Exception as e:
            raise self._error(e, u.uri, "create_bucket") from None

    def _delete_bucket(self, u: ObjectUri) -> None:
        loc = self._bucket_loc(u)
        cc = self._container(loc)
        try:
            if next(iter(cc.list_blobs(results_per_page=1)), None) is not None:
                raise StorageIOError(f"delete_bucket failed for {u.uri}: the container is not empty", u.uri)
            cc.delete_container()
        except S3dlioError:
            raise
        except Exception as e:
            raise self._error(e, u.uri, "delete_bucket") from None

    def _list_buckets(self, u: ObjectUri) -> list[dict[str, Any]]:
        first = u.bucket
        account = first if (self.config.account is None or first == self.config.account) else None
        if account is None:
            if first != "_":
                raise InvalidUriError(f"list_containers needs az://ACCOUNT (configured account: "
                                      f"{self.config.account}), got {u.uri}", u.uri)
            account = self.config.account or ""
        svc = self._service(account, u.uri)
        try:
            return [{"name": c.name, "uri": f"{u.written_scheme}://{account}/{c.name}",
                     "creation_date": rfc3339_s(c.last_modified) if c.last_modified else None}
                    for c in svc.list_containers()]
        except Exception as e:
            raise self._error(e, u.uri, "list_containers") from None


def _pooled_transport() -> Any:
    """The SDK's requests transport with a connection pool as large as our fan-out (its default keeps 10
    connections and discards the rest, with a warning each, under get_many/put_many)."""
    from azure.core.pipeline.transport import RequestsTransport
    from urllib3.util.retry import Retry

    try:  # the SDK's adapter (larger socket reads); plain requests' one if it ever moves
        from azure.core.pipeline.transport._bigger_block_size_http_adapters import (
            BiggerBlockSizeHTTPAdapter as Adapter,
        )
    except ImportError:  # pragma: no cover
        from requests.adapters import HTTPAdapter as Adapter

    class PooledTransport(RequestsTransport):
        def _init_session(self, session: Any) -> None:
            session.trust_env = self._use_env_settings and needs_trust_env()
            adapter = Adapter(max_retries=Retry(total=False, redirect=False,
                                                       raise_on_status=False),
                              pool_connections=4, pool_maxsize=_POOL_SIZE)
            for p in self._protocols:
                session.mount(p, adapter)

    s = settings()
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


def _total_from_content_range(value: str | None) -> int | None:
    if not value or "/" not in value:
        return None
    tail = value.rsplit("/", 1)[1].strip()
    return int(tail) if tail.isdigit() else None
