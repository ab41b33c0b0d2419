"""S3Store: the s3:// store on the lean signed-HTTP path (one store per endpoint and process).

The read and write templates are HttpObjectStore's (http_store.py); this module supplies S3's primitives:
* a ranged GET whose body is received straight into its destination (`If-Match` pins later ranges to the
  first answer's ETag), so a large object costs no HEAD;
* one PUT, and the multipart part sink (sink.py, which talks to the client only);
* HEAD, DELETE, ListObjectsV2, DeleteObjects and bucket calls on the same signer;
* `get_many` on plain http: one thread multiplexing the sockets (mux.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from s3dlio_core.bytes_view import BytesView
from s3dlio_core.concurrency import validate_max_in_flight
from s3dlio_core.errors import ObjectNotFoundError, S3dlioError, StorageIOError
from s3dlio_core.listing import ListedObject
from s3dlio_core.metadata import make_stat, rfc3339_s
from s3dlio_core.store_config import StoreConfig
from s3dlio_core.uri import ObjectUri

from .. import http_pool
from ..http_errors import object_changed
from ..http_pool import HttpConnection, HttpResponseHead
from ..http_store import HttpObjectStore, RangeBody, content_range_total, range_header
from .client import S3Client
from .config import CredentialSource, Endpoint, S3Config, resolve_endpoint
from .mux import THREADED_BODY, mux_get_many, mux_get_many_into
from .sink import S3PartSink
from .xml_codec import (
    create_bucket_body,
    delete_body,
    parse_delete_errors,
    parse_error,
    parse_list_buckets,
    parse_list_objects,
)

__all__ = ["S3Store"]

log = logging.getLogger("s3dlio.s3")
_ACCEPT_416 = frozenset({416})
_ACCEPT_PINNED = frozenset({416, 412})
R = TypeVar("R")
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


class _S3Body:
    """The RangeBody (http_store.py) of one S3 GET answer, over the connection it arrived on."""

    __slots__ = ("conn", "encoded", "head", "length", "remaining", "total", "whole")

    def __init__(self, conn: HttpConnection, head: HttpResponseHead, offset: int) -> None:
        self.conn = conn
        self.head = head
        self.encoded = False  # S3 never transcodes: Content-Length is the stored size
        status = head.status
        if status == 416:  # the range starts at or past the end (or the object is empty)
            conn.discard_body(head, "GET")
            self.total = content_range_total(head.get("content-range")) or 0
            self.length = 0
            self.whole = False
        else:
            cl = head.get("content-length")
            self.length = n = -1 if cl is None else int(cl)
            self.whole = status != 206
            total = content_range_total(head.get("content-range")) if status == 206 else None
            self.total = total if total is not None else (max(0, offset) if status == 206 else 0) + max(0, n)
        self.remaining = self.length

    @property
    def pin(self) -> str | None:
        """The ETag later ranges are pinned to (read only when there are later ranges)."""
        return self.head.get("etag")

    def readinto(self, mv: memoryview) -> None:
        self.conn.read_into(mv)
        self.remaining -= mv.nbytes

    def read_all(self) -> Any:
        self.remaining = 0
        return self.conn.read_body(self.head, "GET")



def _read_etag(conn: HttpConnection, head: HttpResponseHead) -> str | None:
    conn.discard_body(head, "PUT")
    return head.get("etag")


class S3Store(HttpObjectStore):
    """s3:// URIs on one endpoint (the environment's, or the URI's `host:port`)."""

    scheme = "s3"

    def __init__(self, endpoint: str | None = None, config: StoreConfig | None = None) -> None:
        """A store for the URI endpoint `endpoint` ('host:port', or None), configured by `config`: an
        S3Config (endpoint URL, region, credentials, CA bundle, addressing style and the common tunables)
        or a plain StoreConfig (tunables only); None: the environment."""
        self._uri_endpoint = endpoint
        self.config = config
        self._s3_config = config if isinstance(config, S3Config) else None
        self._client_obj: S3Client | None = None
        self._gen = -1
        self._credentials = CredentialSource(self._s3_config)

    @classmethod
    def store_key(cls, u: ObjectUri) -> Hashable:
        return ("s3", u.endpoint)

    @classmethod
    def from_uri(cls, u: ObjectUri) -> S3Store:
        return cls(u.endpoint)

    @classmethod
    def from_config(cls, u: ObjectUri, config: StoreConfig | None) -> S3Store:
        return cls(u.endpoint, config)

    def __repr__(self) -> str:
        ep = self._client_obj.endpoint.url if self._client_obj is not None else (self._uri_endpoint or "env")
        return f"S3Store(endpoint={ep!r})"

    # ---- the per-process client ----
    @property
    def client(self) -> S3Client:
        c = self._client_obj
        if c is None or self._gen != http_pool._generation:
            if self._gen != http_pool._generation:
                self._credentials = CredentialSource(self._s3_config)
            cfg = self._s3_config
            c = S3Client(resolve_endpoint(self._uri_endpoint, cfg), self._credentials, lambda: self.settings,
                         cfg.ca_bundle if cfg is not None else None)
            self._client_obj = c
            self._gen = http_pool._generation
        return c

    @property
    def endpoint(self) -> Endpoint:
        return self.client.endpoint

    # ---- HttpObjectStore primitives ----
    def _open_range(self, u: ObjectUri, offset: int, length: int | None, pin: str | None,
                    consume: Callable[[RangeBody], R], attempt: int = 1) -> R:
        rng = range_header(offset, length)
        headers = {"range": rng} if rng else {}
        if pin:
            headers["if-match"] = pin

        def read(conn: HttpConnection, head: HttpResponseHead) -> R:
            if head.status == 412:  # If-Match failed: the object was replaced since the first answer
                conn.discard_body(head, "GET")
                raise object_changed(u.uri, "ETag no longer matches")
            body = _S3Body(conn, head, offset)
            result = consume(body)
            if body.remaining:  # a body left unread cannot stay on a pooled socket
                conn.close()
            return result

        return self.client.request("GET", u.uri, "GET", u.bucket, u.key, read, headers=headers or None,
                                   accept=_ACCEPT_PINNED if pin else _ACCEPT_416, first_attempt=attempt)

    def _get(self, u: ObjectUri, first_attempt: int = 1) -> BytesView:
        """The whole object (`first_attempt` > 1: attempts were already made by mux.py)."""
        return self._read(u, 0, None, None, first_attempt)  # type: ignore[return-value]

    def _put_one(self, u: ObjectUri, data: memoryview) -> None:
        self.client.request("PUT", u.uri, "PUT", u.bucket, u.key, _read_etag,
                            headers={"content-type": "application/octet-stream"}, body=data)

    def _part_sink(self, u: ObjectUri, total: int | None = None) -> S3PartSink:
        return S3PartSink(self.client, u)

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
                           ) -> tuple[list[ListedObject], list[str], Any]:
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

    def _get_many_into(self, pairs: Sequence[tuple[str, memoryview]], max_in_flight: int) -> list[int]:
        """get_many_into: small objects on plain http through the multiplexer, straight into the caller's
        buffers; large ones (the multiplexer would hand them to threads anyway) one get_into per thread."""
        if len(pairs) > 1 and self.client.endpoint.scheme == "http" and \
                max(d.nbytes for _, d in pairs) < THREADED_BODY:
            return mux_get_many_into(self, pairs, max_in_flight)
        return super()._get_many_into(pairs, max_in_flight)
