"""The gs:// (gcs://) store: Google Cloud Storage through google-cloud-storage.

Bucket operations use the `storage.Client`. The data path speaks the JSON API through the same client's
authorized session (google-auth credentials, pooled connections), because the SDK's object calls copy and
checksum every byte in Python:
* GET: a ranged media download read straight into the returned BytesView; large objects as concurrent
  ranges into one buffer.
* PUT: one media upload up to the multipart threshold; above it (and for streaming writers) a resumable
  upload, so the object appears only when the last chunk lands.
* list: paged JSON listing (prefix / delimiter / pageToken); delete: one request per object, several in
  flight (fake-gcs-server has no batch endpoint).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from s3dlio_core import instrument as _ins
from s3dlio_core.bucket_store import BucketCapabilities, BucketStore
from s3dlio_core.bytes_view import BytesView
from s3dlio_core.errors import (
    InvalidUriError,
    LengthMismatchError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3dlioError,
    StorageIOError,
)
from s3dlio_core.listing import plan_listing
from s3dlio_core.metadata import make_stat, rfc3339_s
from s3dlio_core.settings import settings
from s3dlio_core.uri import ObjectUri

from .._put_verify import put_verified, verify_size
from .._ranged_read import discard_body, into_result, read_with_rest, readinto_body
from .._requests_env import ca_bundle, needs_trust_env
from ..retry import is_retryable_status, sleep_before_retry
from .config import GcsConfig

__all__ = ["GcsStore"]

log = logging.getLogger("s3dlio.gcs")
MiB = 1 << 20
RESUMABLE_QUANTUM = 256 * 1024  # resumable chunks must be multiples of this
_POOL_SIZE = 128


class GcsCapabilities(BucketCapabilities):
    get_into = True
    head = True


class GcsStore(BucketStore):
    """gs:// and gcs:// URIs (see the module docstring)."""

    scheme = "gs"
    capabilities = GcsCapabilities
    delete_batch_size = 1  # one DELETE per object ...
    delete_concurrency = 16  # ... this many in flight
    list_page_size = 1000

    def __init__(self, config: GcsConfig | None = None) -> None:
        self.config = config if config is not None else GcsConfig.from_env()
        self._lock = threading.Lock()
        self._pid = -1
        self._sess: Any = None
        self._client: Any = None

    @classmethod
    def store_key(cls, u: ObjectUri) -> Any:
        return (cls.scheme,)

    @classmethod
    def from_uri(cls, u: ObjectUri) -> GcsStore:
        return cls()

    def __repr__(self) -> str:
        return f"GcsStore(endpoint={self.config.endpoint!r}, project={self.config.project!r})"

    # ---------------------------------------------------------------- clients (lazy, per process)
    def _session(self, uri: str | None = None) -> Any:
        if self._pid != os.getpid() or self._sess is None:
            with self._lock:
                if self._pid != os.getpid() or self._sess is None:
                    self._sess, self._client = self._make_clients(uri)
                    self._pid = os.getpid()
        return self._sess

    def _storage_client(self, uri: str | None = None) -> Any:
        self._session(uri)
        return self._client

    def _make_clients(self, uri: str | None = None) -> tuple[Any, Any]:
        import requests.adapters
        from google.auth.transport.requests import AuthorizedSession
        from google.cloud import storage

        cfg = self.config
        project = cfg.project
        if cfg.anonymous:
            from google.auth.credentials import AnonymousCredentials

            creds: Any = AnonymousCredentials()
            project = project or "test"
        else:
            import google.auth
            import google.auth.exceptions

            try:
                creds, adc_project = google.auth.default(
                    scopes=["https://www.googleapis.com/auth/devstorage.full_control"])
            except google.auth.exceptions.DefaultCredentialsError as e:
                raise PermissionDeniedError(
                    f"no Google credentials for {uri or 'gs://'}: {_first_line(e)} (set "
                    "GOOGLE_APPLICATION_CREDENTIALS, or STORAGE_EMULATOR_HOST for an emulator)", uri) from None
            project = project or adc_project
        sess = AuthorizedSession(creds)
        sess.trust_env = needs_trust_env()
        bundle = ca_bundle()
        if bundle:
            sess.verify = bundle
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=_POOL_SIZE)
        sess.mount("https://", adapter)
        sess.mount("http://", adapter)
        opts = {"api_endpoint": cfg.endpoint} if cfg.emulated else None
        client = storage.Client(project=project, credentials=creds, client_options=opts, _http=sess)
        return sess, client

    # ---------------------------------------------------------------- HTTP with retries and typed errors
    def _request(self, method: str, url: str, uri: str, what: str, *, ok: tuple[int, ...],
                 stream: bool = False, **kw: Any) -> Any:
        """One JSON-API request, retried on connection errors and 408/429/5xx; returns the response
        (status in `ok`, or 404/416 when listed in `ok`) or raises the typed error naming `uri`."""
        import requests

        s = settings()
        attempts = max(1, s.max_retry_attempts)
        timeout = (s.connect_timeout_s, s.operation_timeout_s)
        sess = self._session(uri)
        for attempt in range(1, attempts + 1):
            try:
                resp = sess.request(method, url, timeout=timeout, stream=stream, **kw)
            except requests.RequestException as e:
                if attempt < attempts:
                    sleep_before_retry(attempt)
                    continue
                raise StorageIOError(f"{what} failed for {uri}: {type(e).__name__}: {_first_line(e)}",
                                     uri) from None
            if resp.status_code in ok:
                return resp
            if (resp.status_code == 408 or is_retryable_status(resp.status_code)) and attempt < attempts:
                discard_body(resp)
                sleep_before_retry(attempt, throttled=resp.status_code == 429)
                continue
            raise self._http_error(resp, uri, what)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _http_error(resp: Any, uri: str, what: str) -> S3dlioError:
        status = resp.status_code
        try:
            body = resp.json().get("error", {}).get("message", "")
        except Exception:
            body = (resp.text or "")[:200].strip()
        resp.close()
        msg = f"{what} failed for {uri}: HTTP {status} {body}".rstrip()
        if status == 404:
            return ObjectNotFoundError(f"{what} failed: not found: {uri} (HTTP 404 {body})".rstrip(), uri)
        if status in (401, 403):
            return PermissionDeniedError(msg, uri)
        return StorageIOError(msg, uri)

    # ---------------------------------------------------------------- URLs
    def _object_url(self, bucket: str, key: str) -> str:
        return f"{self.config.endpoint}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(key, safe='')}"

    def _media_url(self, bucket: str, key: str) -> str:
        return (f"{self.config.endpoint}/download/storage/v1/b/{quote(bucket, safe='')}/o/"
                f"{quote(key, safe='')}?alt=media")

    def _upload_url(self, bucket: str, key: str, kind: str) -> str:
        return (f"{self.config.endpoint}/upload/storage/v1/b/{quote(bucket, safe='')}/o?uploadType={kind}"
                f"&name={quote(key, safe='')}")

    @staticmethod
    def _need_key(u: ObjectUri) -> None:
        if not u.key:
            raise InvalidUriError(f"no object name in {u.uri}", u.uri)

    # ---------------------------------------------------------------- reads
    def _open_range(self, u: ObjectUri, offset: int, length: int, generation: str | None = None
                    ) -> tuple[Any, int, int]:
        """GET [offset, offset+length): (response or None when past the end, total size, body length).
        With `generation`, the range must come from that generation of the object."""
        url = self._media_url(u.bucket, u.key)
        ok: tuple[int, ...] = (200, 206, 416)
        if generation:  # that generation exactly: 404 once it has been replaced (or deleted)
            url += f"&generation={generation}"
            ok = (200, 206, 416, 404)
        resp = self._request("GET", url, u.uri, "GET", ok=ok, stream=True,
                             headers={"Range": f"bytes={offset}-{offset + length - 1}"})
        if resp.status_code == 404:
            discard_body(resp)
            raise StorageIOError(f"GET failed for {u.uri}: the object changed while it was read", u.uri)
        if resp.status_code == 416:  # empty object, or offset at/after the end
            discard_body(resp)
            return None, offset, 0
        n = int(resp.headers.get("Content-Length", "-1"))
        if resp.status_code == 200:  # the server ignored the range: the body is the whole object
            if offset or n < 0 or resp.headers.get("Content-Encoding"):  # e.g. decompressive transcoding
                data = resp.content
                resp.close()
                raise _WholeBody(data)
            return resp, n, n
        cr = resp.headers.get("Content-Range", "")
        tail = cr.rsplit("/", 1)[-1]
        total = int(tail) if tail.isdigit() else offset + n
        return resp, total, n

    def _read(self, u: ObjectUri, offset: int, length: int | None, dst: memoryview | None) -> Any:
        self._need_key(u)
        threshold = settings().range_threshold
        first = threshold if length is None else min(length, threshold)
        if first == 0:
            self._stat(u)
            return BytesView() if dst is None else 0
        try:
            resp, total, body = self._open_range(u, offset, first)
        except _WholeBody as w:
            return self._from_whole(u, w.data, offset, length, dst)
        if _ins.ACTIVE:  # response headers are in: the op-log's first byte
            _ins.mark_first_byte()
        end = total if length is None else min(total, offset + length)
        n = max(0, end - offset)
        if body > n or (resp is not None and body < 0):
            resp.close()
            raise StorageIOError(f"GET failed for {u.uri}: unexpected response length", u.uri)

        def fill(mv: memoryview) -> None:
            if resp is not None:
                gen = resp.headers.get("X-Goog-Generation")
                read_with_rest(lambda: _read_exact(resp, mv[:body], u.uri),
                               lambda o, m: self._read_range_into(u, o, m, gen), mv, offset, offset + body, end,
                               total)

        return into_result(u.uri, n, dst, resp, fill)

    def _from_whole(self, u: ObjectUri, data: bytes, offset: int, length: int | None,
                    dst: memoryview | None) -> Any:
        part = data[offset:] if length is None else data[offset: offset + length]
        if dst is None:
            return BytesView.wrap(part)
        if len(part) > dst.nbytes:
            raise LengthMismatchError(f"object {u.uri} is {len(part)} bytes but the destination holds "
                                      f"{dst.nbytes}", u.uri, expected=dst.nbytes, actual=len(part))
        dst[: len(part)] = part
        return len(part)

    def _read_range_into(self, u: ObjectUri, offset: int, mv: memoryview, generation: str | None) -> None:
        resp, _total, body = self._open_range(u, offset, mv.nbytes, generation)
        if resp is None or body != mv.nbytes:
            if resp is not None:
                resp.close()
            raise StorageIOError(f"GET failed for {u.uri}: the object changed while it was read", u.uri)
        _read_exact(resp, mv, u.uri)

    def _get(self, u: ObjectUri) -> BytesView:
        return self._read(u, 0, None, None)

    def _get_range(self, u: ObjectUri, offset: int, length: int | None) -> BytesView:
        return self._read(u, offset, length, None)

    def _get_into(self, u: ObjectUri, dst: memoryview) -> int:
        return self._read(u, 0, None, dst)

    # ---------------------------------------------------------------- writes
    def _put_single(self, u: ObjectUri, data: memoryview) -> None:
        resp = self._request("POST", self._upload_url(u.bucket, u.key, "media"), u.uri, "PUT", ok=(200,),
                             data=data, headers={"Content-Type": "application/octet-stream",
                                                 "Content-Length": str(data.nbytes)})
        discard_body(resp)

    def _start_resumable(self, u: ObjectUri) -> str:
        resp = self._request("POST", self._upload_url(u.bucket, u.key, "resumable"), u.uri, "PUT", ok=(200,),
                             data=b"{}", headers={"Content-Type": "application/json; charset=UTF-8",
                                                  "X-Upload-Content-Type": "application/octet-stream"})
        session = resp.headers.get("Location")
        discard_body(resp)
        if not session:
            raise StorageIOError(f"PUT failed for {u.uri}: no resumable session URL in the response", u.uri)
        return session

    def _put_chunk(self, u: ObjectUri, session: str, offset: int, data: memoryview, total: int | None) -> None:
        """Send bytes [offset, offset+len) of a resumable upload; `total` is set on the last chunk."""
        n = data.nbytes
        size = "*" if total is None else str(total)
        rng = f"bytes {offset}-{offset + n - 1}/{size}" if n else f"bytes */{size}"
        resp = self._request("PUT", session, u.uri, "PUT", ok=(200, 201, 308), data=data,
                             headers={"Content-Range": rng, "Content-Length": str(n)})
        status = resp.status_code
        discard_body(resp)
        if total is None and status != 308:
            raise StorageIOError(f"PUT failed for {u.uri}: the upload finished early (HTTP {status})", u.uri)
        if total is not None and status == 308:
            raise StorageIOError(f"PUT failed for {u.uri}: the service did not accept the last chunk", u.uri)

    def _cancel_resumable(self, u: ObjectUri, session: str) -> None:
        try:
            self._request("DELETE", session, u.uri, "abort", ok=(200, 204, 404, 410, 499))
        except S3dlioError as e:
            log.debug("cancelling the resumable upload of %s failed: %s", u.uri, e)

    def _put(self, u: ObjectUri, data: memoryview) -> None:
        self._need_key(u)
        s = settings()
        n = data.nbytes
        if n <= s.multipart_threshold:
            if s.put_verify:
                put_verified(u, data, lambda: self._put_single(u, data), lambda: self._stat(u),
                             lambda: self._delete(u))
            else:
                self._put_single(u, data)
            return
        chunk = chunk_size()
        session = self._start_resumable(u)
        try:
            for off in range(0, n, chunk):
                end = min(n, off + chunk)
                self._put_chunk(u, session, off, data[off:end], n if end == n else None)
        except BaseException:
            self._cancel_resumable(u, session)
            raise
        if s.mpu_put_verify:
            verify_size(u, n, lambda: self._stat(u))

    def _open_writer(self, u: ObjectUri) -> Any:
        from .writer import GcsResumableWriter

        self._need_key(u)
        return GcsResumableWriter(self, u)

    # ---------------------------------------------------------------- metadata
    def _stat(self, u: ObjectUri) -> dict[str, Any]:
        self._need_key(u)
        resp = self._request("GET", self._object_url(u.bucket, u.key), u.uri, "HEAD", ok=(200,))
        m = resp.json()
        lm = m.get("updated")
        return make_stat(
            int(m.get("size", 0)), _rfc3339_seconds(lm) if lm else None, m.get("etag"),
            content_type=m.get("contentType"), content_language=m.get("contentLanguage"),
            content_encoding=m.get("contentEncoding"), cache_control=m.get("cacheControl"),
            content_disposition=m.get("contentDisposition"), storage_class=m.get("storageClass"),
            ssekms_key_id=m.get("kmsKeyName"), version_id=m.get("generation"),
            metadata=dict(m.get("metadata") or {}))

    # ---------------------------------------------------------------- listing and deletes
    def _list_objects_page(self, u: ObjectUri, prefix: str, delimiter: str | None, token: Any
                           ) -> tuple[list[str], list[str], Any]:
        params = {"prefix": prefix, "maxResults": str(self.list_page_size),
                  "fields": "items(name),prefixes,nextPageToken"}
        if delimiter:
            params["delimiter"] = delimiter
        if token:
            params["pageToken"] = token
        url = f"{self.config.endpoint}/storage/v1/b/{quote(u.bucket, safe='')}/o"
        resp = self._request("GET", url, u.uri, "LIST", ok=(200,), params=params)
        page = resp.json()
        keys = [it["name"] for it in page.get("items") or ()]
        return keys, list(page.get("prefixes") or ()), page.get("nextPageToken") or None

    def _list_pages(self, u: ObjectUri, recursive: bool) -> Iterator[list[str]]:
        """As BucketStore's, but each directory entry once and in key order: some servers (fake-gcs-server)
        repeat every prefix on every page, so a prefix is held back until the listing has passed it."""
        plan = plan_listing(u.key, recursive)
        if plan.delimiter is None:
            yield from super()._list_pages(u, recursive)
            return
        base = u.base
        token: Any = None
        pending: set[str] = set()
        done: set[str] = set()
        while True:
            keys, prefixes, token = self._list_objects_page(u, plan.prefix, plan.delimiter, token)
            pending.update(p for p in prefixes if p not in done and plan.keep_dir(p))
            high = keys[-1] if (keys and token) else None  # None: nothing later can sort before them
            ready = [p for p in pending if high is None or p < high]
            pending.difference_update(ready)
            done.update(ready)
            page = [base + k for k in keys if plan.keep_object(k)] + [base + p for p in ready]
            page.sort()
            if page:
                yield page
            if not token:
                return

    def _delete(self, u: ObjectUri) -> None:
        self._need_key(u)
        resp = self._request("DELETE", self._object_url(u.bucket, u.key), u.uri, "DELETE", ok=(200, 204, 404))
        discard_body(resp)

    def _delete_keys(self, u: ObjectUri, keys: list[str]) -> None:
        for k in keys:
            self._delete(ObjectUri(u.base + k, u.scheme, u.written_scheme, u.bucket, k))

    # ---------------------------------------------------------------- buckets
    def _bucket_name(self, u: ObjectUri) -> str:
        if u.key.strip("/"):
            raise InvalidUriError(f"a bucket URI has no object part: {u.uri}", u.uri)
        return u.bucket

    def _create_bucket(self, u: ObjectUri) -> None:
        from google.api_core import exceptions as gexc

        name = self._bucket_name(u)
        try:
            self._storage_client(u.uri).create_bucket(name)
        except gexc.Conflict:
            return
        except Exception as e:
            raise _sdk_error(e, u.uri, "create_bucket") from None

    def _delete_bucket(self, u: ObjectUri) -> None:
        from google.api_core import exceptions as gexc

        name = self._bucket_name(u)
        try:
            self._storage_client(u.uri).bucket(name).delete()
        except (gexc.Conflict, gexc.PreconditionFailed):  # GCS: 409; fake-gcs-server: 412
            raise StorageIOError(f"delete_bucket failed for {u.uri}: the bucket is not empty", u.uri) from None
        except Exception as e:
            raise _sdk_error(e, u.uri, "delete_bucket") from None

    def _list_buckets(self, u: ObjectUri) -> list[dict[str, Any]]:
        scheme = u.written_scheme
        try:
            return [{"name": b.name, "uri": f"{scheme}://{b.name}",
                     "creation_date": rfc3339_s(b.time_created) if b.time_created else None}
                    for b in self._storage_client(u.uri).list_buckets()]
        except Exception as e:
            raise _sdk_error(e, u.uri, "list_containers") from None


class _WholeBody(Exception):
    """The server answered a ranged GET with the whole object (carried in `data`)."""

    def __init__(self, data: bytes) -> None:
        super().__init__("whole body")
        self.data = data


def _read_exact(resp: Any, mv: memoryview, uri: str) -> None:
    got = readinto_body(resp, mv)
    if got != mv.nbytes:
        raise StorageIOError(f"GET failed for {uri}: body ended after {got} of {mv.nbytes} bytes", uri)


def _sdk_error(e: BaseException, uri: str, what: str) -> S3dlioError:
    if isinstance(e, S3dlioError):  # already typed (e.g. no credentials)
        return e
    code = getattr(e, "code", None)
    msg = f"{what} failed for {uri}: {_first_line(e)}"
    if code == 404:
        return ObjectNotFoundError(msg, uri)
    if code in (401, 403):
        return PermissionDeniedError(msg, uri)
    return StorageIOError(msg, uri)


def _first_line(e: BaseException) -> str:
    s = str(e)
    return s.splitlines()[0][:300] if s else type(e).__name__


def _rfc3339_seconds(ts: str) -> str:
    """'2026-11-21T09:25:26.413661Z' -> '2026-11-21T09:25:26Z' (the stat dict's seconds precision)."""
    head = ts.split(".", 1)[0].rstrip("Z")
    return head + "Z"


def chunk_size() -> int:
    """Resumable chunk: the multipart part size rounded down to the 256 KiB quantum."""
    return max(RESUMABLE_QUANTUM, settings().multipart_part_size // RESUMABLE_QUANTUM * RESUMABLE_QUANTUM)
