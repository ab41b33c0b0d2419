"""The gs:// (gcs://) store: Google Cloud Storage.

The read and write templates are HttpObjectStore's (http_store.py); the JSON-API requests are the
client's (client.py). GCS's primitives:
* GET: a ranged media download read straight into its destination; later ranges of a split read are
  pinned to the first answer's generation.
* PUT: one media upload; above the multipart threshold (and for large streams) a resumable upload driven by
  the shared multipart coordinator (sink.py), so the object appears only when the last chunk lands.
* list: paged JSON listing (prefix / delimiter / pageToken); delete: one request per object, several in
  flight (fake-gcs-server has no batch endpoint); buckets through the `storage.Client`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from s3dlio_core.bucket_store import BucketCapabilities
from s3dlio_core.errors import (
    InvalidUriError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3dlioError,
    StorageIOError,
)
from s3dlio_core.listing import ListedObject, plan_listing
from s3dlio_core.metadata import make_stat, rfc3339_s
from s3dlio_core.store_config import StoreConfig
from s3dlio_core.uri import ObjectUri

from ..http_errors import object_changed
from ..http_store import HttpObjectStore, RangeBody, range_header
from ..requests_body import RequestsBody, discard_body
from ..store_configs import backend_config
from .client import GcsClient, first_line
from .config import GcsConfig
from .sink import GcsResumableSink

__all__ = ["GcsStore"]

log = logging.getLogger("s3dlio.gcs")
R = TypeVar("R")


class GcsCapabilities(BucketCapabilities):
    get_into = True
    head = True


class GcsStore(HttpObjectStore):
    """gs:// and gcs:// URIs (see the module docstring)."""

    scheme = "gs"
    capabilities = GcsCapabilities
    delete_batch_size = 1  # one DELETE per object ...
    delete_concurrency = 16  # ... this many in flight
    list_page_size = 1000

    config: GcsConfig  # never None here: the environment's when none is given

    def __init__(self, config: GcsConfig | None = None) -> None:
        self.config = config if config is not None else GcsConfig.from_env()
        self._gcs = GcsClient(self.config, lambda: self.settings)

    @classmethod
    def store_key(cls, u: ObjectUri) -> Any:
        return (cls.scheme,)

    @classmethod
    def from_uri(cls, u: ObjectUri) -> GcsStore:
        return cls()

    @classmethod
    def from_config(cls, u: ObjectUri, config: StoreConfig | None) -> GcsStore:
        """A store that uses `config`: a GcsConfig, or a plain StoreConfig (its tunables over the
        environment's GcsConfig)."""
        return cls(backend_config(config, GcsConfig, GcsConfig.from_env))

    def __repr__(self) -> str:
        return f"GcsStore(endpoint={self.config.endpoint!r}, project={self.config.project!r})"

    def _storage_client(self, uri: str | None = None) -> Any:
        return self._gcs.storage_client(uri)

    # ---------------------------------------------------------------- HttpObjectStore primitives
    def _open_range(self, u: ObjectUri, offset: int, length: int | None, pin: str | None,
                    consume: Callable[[RangeBody], R], attempt: int = 1) -> R:
        c = self._gcs
        url = c.media_url(u.bucket, u.key)
        ok: tuple[int, ...] = (200, 206, 416)
        if pin:  # that generation exactly: 404 once it has been replaced (or deleted)
            url += f"&generation={pin}"
            ok = (200, 206, 416, 404)
        rng = range_header(offset, length)
        resp = c.request("GET", url, u.uri, "GET", ok=ok, stream=True, first_attempt=attempt,
                         headers={"Range": rng} if rng else None)
        if resp.status_code == 404:
            discard_body(resp)
            raise object_changed(u.uri, f"generation {pin} was replaced")
        body = RequestsBody(resp, u.uri, resp.headers.get("X-Goog-Generation"), offset)
        try:
            result = consume(body)
        except BaseException:
            if body.resp is not None:
                body.resp.close()
            raise
        body.finish()
        return result

    def _put_one(self, u: ObjectUri, data: memoryview) -> None:
        self._gcs.put_media(u, data)

    def _part_sink(self, u: ObjectUri, total: int | None = None) -> GcsResumableSink:
        return GcsResumableSink(self._gcs, u, total)

    # ---------------------------------------------------------------- metadata
    def _stat(self, u: ObjectUri) -> dict[str, Any]:
        self._check_object(u)
        resp = self._gcs.request("GET", self._gcs.object_url(u.bucket, u.key), u.uri, "HEAD", ok=(200,))
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
                           ) -> tuple[list[ListedObject], list[str], Any]:
        params = {"prefix": prefix, "maxResults": str(self.list_page_size),
                  "fields": "items(name,size,updated,etag),prefixes,nextPageToken"}
        if delimiter:
            params["delimiter"] = delimiter
        if token:
            params["pageToken"] = token
        resp = self._gcs.request("GET", self._gcs.list_url(u.bucket), u.uri, "LIST", ok=(200,), params=params)
        page = resp.json()
        objs = [ListedObject(it["name"], int(it["size"]) if it.get("size") is not None else None,
                             _rfc3339_seconds(it["updated"]) if it.get("updated") else None, it.get("etag"))
                for it in page.get("items") or ()]
        return objs, list(page.get("prefixes") or ()), page.get("nextPageToken") or None

    def _raw_pages(self, u: ObjectUri, recursive: bool) -> Iterator[tuple[list[Any], list[str]]]:
        """As BucketStore's, but each directory entry once and in key order: some servers (fake-gcs-server)
        repeat every prefix on every page, so a prefix is held back until the listing has passed it."""
        plan = plan_listing(u.key, recursive)
        if plan.delimiter is None:
            yield from super()._raw_pages(u, recursive)
            return
        token: Any = None
        pending: set[str] = set()
        done: set[str] = set()
        while True:
            objs, prefixes, token = self._list_objects_page(u, plan.prefix, plan.delimiter, token)
            pending.update(p for p in prefixes if p not in done and plan.keep_dir(p))
            high = objs[-1].key if (objs and token) else None  # None: nothing later can sort before them
            ready = sorted(p for p in pending if high is None or p < high)
            pending.difference_update(ready)
            done.update(ready)
            sel = [o for o in objs if plan.keep_object(o.key)]
            if sel or ready:
                yield sel, ready
            if not token:
                return

    def _delete(self, u: ObjectUri) -> None:
        self._check_object(u)
        resp = self._gcs.request("DELETE", self._gcs.object_url(u.bucket, u.key), u.uri, "DELETE",
                                 ok=(200, 204, 404))
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


def _sdk_error(e: BaseException, uri: str, what: str) -> S3dlioError:
    if isinstance(e, S3dlioError):  # already typed (e.g. no credentials)
        return e
    code = getattr(e, "code", None)
    msg = f"{what} failed for {uri}: {first_line(e)}"
    if code == 404:
        return ObjectNotFoundError(msg, uri)
    if code in (401, 403):
        return PermissionDeniedError(msg, uri)
    return StorageIOError(msg, uri)


def _rfc3339_seconds(ts: str) -> str:
    """'2026-11-21T09:25:26.413661Z' -> '2026-11-21T09:25:26Z' (the stat dict's seconds precision)."""
    head = ts.split(".", 1)[0].rstrip("Z")
    return head + "Z"
