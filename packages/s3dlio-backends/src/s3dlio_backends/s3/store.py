"""S3Store: the s3:// store on the lean signed-HTTP path (one store per endpoint and process).

* GET: one request; its body is received straight into the returned BytesView. With range optimisation
  on (default), the request asks for the first `range_threshold` bytes; Content-Range tells the size, and
  anything beyond is fetched as parallel range GETs (pinned to the first answer's ETag) into the same
  buffer, so a large object costs no HEAD. With S3DLIO_ENABLE_RANGE_OPTIMIZATION=0 it is a plain GET.
* PUT: single request up to the multipart threshold, else a parallel multipart upload straight from the
  caller's buffer; any failure aborts it. Optional verification (S3DLIO_PUT_VERIFY).
* List, batch delete, buckets: ListObjectsV2 / DeleteObjects / bucket calls on the same signer.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any

from s3dlio_core import instrument as _ins
from s3dlio_core.bucket_store import BucketStore
from s3dlio_core.bytes_view import BytesView
from s3dlio_core.concurrency import validate_max_in_flight
from s3dlio_core.errors import LengthMismatchError, ObjectNotFoundError, S3dlioError, StorageIOError
from s3dlio_core.metadata import make_stat, rfc3339_s
from s3dlio_core.settings import settings
from s3dlio_core.store import ObjectWriter
from s3dlio_core.uri import ObjectUri, parse_uri

from .. import http_pool
from .._put_verify import put_verified
from ..http_pool import HttpConnection, HttpResponseHead
from ..multipart import MultipartCoordinator
from ..range_get import RangeFetch, chunk_size_for, concurrency_for, plan_chunks
from .client import S3Client
from .config import CredentialSource, Endpoint, resolve_endpoint
from .mux import mux_get_many
from .sink import S3PartSink
from .xml_codec import (
    create_bucket_body,
    delete_body,
    parse_delete_errors,
    parse_error,
    parse_list_buckets,
    parse_list_objects,
)

__all__ = ["S3Store", "S3ObjectWriter"]

log = logging.getLogger("s3dlio.s3")
_ACTIVE = _ins.ACTIVE
_ACCEPT_416 = frozenset({416})
_ACCEPT_404 = frozenset({404})
_STAT_HEADERS = {
    "content_type": "content-type", "content_language": "content-language",
    "content_encoding": "content-encoding", "cache_control": "cache-control",
    "content_disposition": "content-disposition", "expires": "expires",
    "storage_class": "x-amz-storage-class", "server_side_encryption": "x-amz-server-side-encryption",
    "ssekms_key_id": "x-amz-server-side-encryption-aws-kms-key-id",
    "sse_customer_algorithm": "x-amz-server-side-encryption-customer-algorithm",
    "version_id": "x-amz-version-id", "replication_status": "x-amz-replication-status",
}


def _http_date_to_rfc3339(value: str | None) -> str | None:
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        return rfc3339_s(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return value


def _content_length(head: HttpResponseHead) -> int:
    cl = head.get("content-length")
    return -1 if cl is None else int(cl)


def _total_size(head: HttpResponseHead, body_len: int) -> int:
    """The object's full size from Content-Range ('bytes 0-99/1234'), else the body length."""
    cr = head.get("content-range")
    if head.status == 206 and cr:
        total = cr.rpartition("/")[2]
        if total.isdigit():
            return int(total)
    return body_len


def _read_all(conn: HttpConnection, head: HttpResponseHead) -> BytesView:
    if _ACTIVE:
        _ins.mark_first_byte()
    n = _content_length(head)
    if n < 0:
        return BytesView.wrap(conn.read_body(head, "GET"))
    v = BytesView.allocate(n)
    if n:
        conn.read_into(memoryview(v))
    return v


def _read_etag(conn: HttpConnection, head: HttpResponseHead) -> str | None:
    conn.discard_body(head, "PUT")
    return head.get("etag")


class S3Store(BucketStore):
    """s3:// URIs on one endpoint (the environment's, or the URI's `host:port`)."""

    scheme = "s3"

    def __init__(self, endpoint: str | None = None) -> None:
        self._uri_endpoint = endpoint
        self._client_obj: S3Client | None = None
        self._gen = -1
        self._credentials = CredentialSource()

    @classmethod
    def store_key(cls, u: ObjectUri) -> Hashable:
        return ("s3", u.endpoint)

    @classmethod
    def from_uri(cls, u: ObjectUri) -> S3Store:
        return cls(u.endpoint)

    def __repr__(self) -> str:
        ep = self._client_obj.endpoint.url if self._client_obj is not None else (self._uri_endpoint or "env")
        return f"S3Store(endpoint={ep!r})"

    # ---- the per-process client ----
    @property
    def client(self) -> S3Client:
        c = self._client_obj
        if c is None or self._gen != http_pool._generation:
            if self._gen != http_pool._generation:
                self._credentials = CredentialSource()
            c = S3Client(resolve_endpoint(self._uri_endpoint), self._credentials)
            self._client_obj = c
            self._gen = http_pool._generation
        return c

    @property
    def endpoint(self) -> Endpoint:
        return self.client.endpoint

    # ---- GET ----
    def _get(self, u: ObjectUri, first_attempt: int = 1) -> BytesView:
        s = settings()
        c = self.client
        if not s.enable_range_optimization:
            return c.request("GET", u.uri, "GET", u.bucket, u.key, _read_all, first_attempt=first_attempt)
        first = s.range_threshold

        def read(conn: HttpConnection, head: HttpResponseHead) -> BytesView:
            if head.status == 416:  # empty object
                conn.discard_body(head, "GET")
                return BytesView()
            if _ACTIVE:
                _ins.mark_first_byte()
            n = _content_length(head)
            if n < 0:
                return BytesView.wrap(conn.read_body(head, "GET"))
            total = _total_size(head, n)
            v = BytesView.allocate(total)
            if not total:
                return v
            mv = memoryview(v)
            if total > n:
                self._read_split(u, conn, head, mv, n, total)
            else:
                conn.read_into(mv)
            return v

        return c.request("GET", u.uri, "GET", u.bucket, u.key, read, headers={"range": f"bytes=0-{first - 1}"},
                         accept=_ACCEPT_416, first_attempt=first_attempt)

    def _read_split(self, u: ObjectUri, conn: HttpConnection, head: HttpResponseHead, mv: memoryview,
                    first: int, total: int) -> None:
        """Read the first `first` bytes from `conn` while the rest comes in parallel ranges."""
        etag = head.get("etag")
        chunks = plan_chunks(first, total, chunk_size_for(total))
        job = RangeFetch(lambda off, dst: self._fetch_range_into(u, off, dst, etag), mv, 0, chunks,
                         concurrency_for(total))
        try:
            conn.read_into(mv[:first])
        except BaseException:
            job.cancel()
            try:
                job.wait()
            except BaseException:
                pass
            raise
        job.wait()

    def _fetch_range_into(self, u: ObjectUri, offset: int, dst: memoryview, etag: str | None) -> None:
        n = dst.nbytes
        headers = {"range": f"bytes={offset}-{offset + n - 1}"}
        if etag:
            headers["if-match"] = etag

        def read(conn: HttpConnection, head: HttpResponseHead) -> None:
            if head.status != 206 or _content_length(head) != n:
                conn.close()
                raise StorageIOError(
                    f"S3 GET for {u.uri}: Content-Range does not match the requested range "
                    f"{offset}-{offset + n - 1} (HTTP {head.status}, {head.get('content-range')})",
                    u.uri)
            conn.read_into(dst)

        self.client.request("GET", u.uri, "GET", u.bucket, u.key, read, headers=headers)

    def _get_range(self, u: ObjectUri, offset: int, length: int | None) -> BytesView:
        if length == 0:
            return BytesView()
        end = "" if length is None else str(offset + length - 1)

        def read(conn: HttpConnection, head: HttpResponseHead) -> BytesView:
            if head.status == 416:  # starts at or past the end
                conn.discard_body(head, "GET")
                return BytesView()
            v = _read_all(conn, head)
            if head.status == 200 and (offset or length is not None):  # the server ignored Range
                return BytesView.wrap(memoryview(v)[offset:None if length is None else offset + length])
            return v

        return self.client.request("GET", u.uri, "GET", u.bucket, u.key, read,
                                   headers={"range": f"bytes={offset}-{end}"}, accept=_ACCEPT_416)

    def _get_into(self, u: ObjectUri, dst: memoryview) -> int:
        cap = dst.nbytes

        def read(conn: HttpConnection, head: HttpResponseHead) -> int:
            if _ACTIVE:
                _ins.mark_first_byte()
            n = _content_length(head)
            body = conn.read_body(head, "GET") if n < 0 else None
            if body is not None:
                n = len(body)
            if n > cap:
                conn.close()
                raise LengthMismatchError(
                    f"length mismatch (expected {cap} bytes, got {n}): object {u.uri} is {n} bytes but "
                    f"the destination holds {cap}", u.uri, expected=cap, actual=n)
            if body is not None:
                dst[:n] = body
            else:
                conn.read_into(dst[:n])
            return n

        s = settings()
        if s.enable_range_optimization and cap > s.range_threshold:
            headers = {"range": f"bytes=0-{s.range_threshold - 1}"}

            def read_ranged(conn: HttpConnection, head: HttpResponseHead) -> int:
                if head.status == 416:
                    conn.discard_body(head, "GET")
                    return 0
                n = _content_length(head)
                total = _total_size(head, n)
                if total > cap:
                    conn.close()
                    raise LengthMismatchError(
                        f"length mismatch (expected {cap} bytes, got {total}): object {u.uri} is {total} "
                        f"bytes but the destination holds {cap}", u.uri, expected=cap, actual=total)
                if total > n:
                    self._read_split(u, conn, head, dst[:total], n, total)
                else:
                    conn.read_into(dst[:n])
                return total

            return self.client.request("GET", u.uri, "GET", u.bucket, u.key, read_ranged, headers=headers,
                                       accept=_ACCEPT_416)
        return self.client.request("GET", u.uri, "GET", u.bucket, u.key, read)

    # ---- PUT ----
    def _put(self, u: ObjectUri, data: memoryview) -> None:
        s = settings()
        if data.nbytes > s.multipart_threshold:
            self._put_multipart(u, data)
        elif s.put_verify:
            self._put_verified(u, data)
        else:
            self._put_single(u, data)

    def _put_single(self, u: ObjectUri, data: memoryview, content_type: str | None = None) -> str | None:
        headers = {"content-type": content_type or "application/octet-stream"}
        return self.client.request("PUT", u.uri, "PUT", u.bucket, u.key, _read_etag, headers=headers,
                                   body=data)

    def _put_verified(self, u: ObjectUri, data: memoryview) -> None:
        put_verified(u, data, lambda: self._put_single(u, data), lambda: self._stat(u), lambda: self._delete(u))

    def _put_multipart(self, u: ObjectUri, data: memoryview, part_size: int | None = None) -> dict[str, Any]:
        s = settings()
        coord = MultipartCoordinator(S3PartSink(self, u), part_size or s.multipart_part_size,
                                     s.multipart_max_in_flight or None, total=data.nbytes)
        try:
            coord.write(data, borrow=True)
            result = coord.finish()
        except BaseException:
            coord.abort()
            raise
        if s.mpu_put_verify:
            self._verify_size(u, data.nbytes)
        return result

    def _verify_size(self, u: ObjectUri, want: int) -> None:
        got = self._stat(u)["size"]
        if got != want:
            raise StorageIOError(f"multipart upload size mismatch for {u.uri}: wrote {want} bytes but HEAD "
                                 f"reports {got} bytes", u.uri)

    def _open_writer(self, u: ObjectUri) -> ObjectWriter:
        return S3ObjectWriter(self, u)

    # ---- HEAD / DELETE ----
    def _stat(self, u: ObjectUri) -> dict[str, Any]:
        def read(conn: HttpConnection, head: HttpResponseHead) -> dict[str, Any]:
            h = head.headers
            meta = {k[11:]: v for k, v in h.items() if k.startswith("x-amz-meta-")}
            fields = {name: h.get(hdr) for name, hdr in _STAT_HEADERS.items()}
            return make_stat(int(h.get("content-length", 0)), _http_date_to_rfc3339(h.get("last-modified")),
                             h.get("etag"), metadata=meta, **fields)

        return self.client.request("HEAD", u.uri, "HEAD", u.bucket, u.key, read)

    def _delete(self, u: ObjectUri) -> None:
        def read(conn: HttpConnection, head: HttpResponseHead) -> None:
            body = bytes(conn.read_body(head, "DELETE"))
            if head.status == 404:
                code, message = parse_error(body)
                if code not in (None, "NoSuchKey", "NotFound"):
                    raise self.client.error("DELETE", u.uri, 404, code, message, "DELETE")

        self.client.request("DELETE", u.uri, "DELETE", u.bucket, u.key, read, accept=_ACCEPT_404)

    # ---- BucketStore primitives ----
    def _list_objects_page(self, u: ObjectUri, prefix: str, delimiter: str | None, token: Any
                           ) -> tuple[list[str], list[str], Any]:
        q = {"list-type": "2", "prefix": prefix, "encoding-type": "url", "max-keys": "1000"}
        if delimiter:
            q["delimiter"] = delimiter
        if token:
            q["continuation-token"] = token
        _, body = self.client.call("GET", u.uri, "LIST", u.bucket, None, query=q)
        try:
            return parse_list_objects(body)
        except ValueError as e:
            raise StorageIOError(f"S3 LIST for {u.uri} failed: {e}", u.uri) from None

    def _delete_keys(self, u: ObjectUri, keys: list[str]) -> None:
        if not keys:
            return
        _, body = self.client.call("POST", u.uri, "DELETE", u.bucket, None, query={"delete": ""},
                                   body=delete_body(keys), md5=True)
        errors = [e for e in parse_delete_errors(body) if e.get("code") not in ("NoSuchKey",)]
        if errors:
            shown = "; ".join(f"{u.base}{e['key']}: {e['code']} ({e['message']})" for e in errors[:5])
            more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
            raise StorageIOError(f"S3 batch delete under {u.uri} failed for {len(errors)} of {len(keys)} "
                                 f"key(s): {shown}{more}", u.uri)

    # ---- buckets ----
    def _list_buckets(self, u: ObjectUri) -> list[dict[str, Any]]:
        _, body = self.client.call("GET", u.uri, "LIST", "", None)
        ep = f"{u.endpoint}/" if u.endpoint else ""
        return [{"name": name, "uri": f"s3://{ep}{name}", "creation_date": created}
                for name, created in parse_list_buckets(body)]

    def _create_bucket(self, u: ObjectUri) -> None:
        uri = f"s3://{u.bucket}"
        body = create_bucket_body(self.client.endpoint.region)
        try:
            self.client.call("PUT", uri, "create_bucket", u.bucket, None, body=body)
        except S3dlioError as e:
            if getattr(e, "code", None) == "BucketAlreadyOwnedByYou":
                return
            raise

    def _delete_bucket(self, u: ObjectUri) -> None:
        try:
            self.client.call("DELETE", f"s3://{u.bucket}", "delete_bucket", u.bucket, None)
        except ObjectNotFoundError as e:
            raise ObjectNotFoundError(f"delete_bucket failed for {u.bucket!r}: {e}", e.uri) from None

    # ---- bulk: put_many/stat_many/delete_many come from the base (core's bounded_map) ----
    def get_many(self, uris: Sequence[str], max_in_flight: int = 64) -> list[tuple[str, BytesView]]:
        """Fetch every URI, at most `max_in_flight` at once, `(uri, data)` in input order. On plain http
        one thread multiplexes the sockets (mux.py); with TLS, a thread per request in flight."""
        validate_max_in_flight(max_in_flight)
        if len(uris) > 1 and self.client.endpoint.scheme == "http":
            return mux_get_many(self, uris, max_in_flight)
        return super().get_many(uris, max_in_flight)

    # ---- used by the writers ----
    def parse(self, uri: str) -> ObjectUri:
        u = parse_uri(uri)
        if u.scheme != "s3":
            raise S3dlioError(f"not an s3:// URI: {uri}", uri)
        return u


class S3ObjectWriter(ObjectWriter):
    """A streaming writer: small objects become one PUT at close; larger ones a multipart upload whose
    parts go up in parallel while writing continues. Nothing is visible until `close()`."""

    def __init__(self, store: S3Store, u: ObjectUri) -> None:
        super().__init__(u.uri)
        self._store = store
        self._u = u
        s = settings()
        self._coord = MultipartCoordinator(S3PartSink(store, u), s.multipart_part_size,
                                           s.multipart_max_in_flight or None, lazy=True)

    def _write(self, mv: memoryview) -> None:
        self._coord.write(mv)

    def _commit(self) -> None:
        result = self._coord.finish()
        if "single" in result:
            self._store._put_single(self._u, result["single"])

    def _abort(self) -> None:
        self._coord.abort()
