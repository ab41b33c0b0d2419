"""The az:// (azure://) store: Azure Blob Storage.

The read and write templates are HttpObjectStore's (http_store.py); the pipeline, credentials and blob
requests are the client's (client.py), whose retry policy is built from our settings (retry_policy.py).
Azure's primitives:
* GET: one ranged request through the account's pipeline whose body is read straight into its
  destination; later ranges of a split read are pinned to the first answer's ETag (If-Match).
* PUT: one Put Blob; above the multipart threshold, blocks staged in parallel from slices of the caller's
  buffer (sink.py) and committed only after every block landed, so nothing half-written shows.
* list / delete / buckets go through the SDK (paged listing, batch delete, containers as buckets).
See config.py for the account / container URI rule and the credentials read from the environment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from s3dlio_core.bucket_store import BucketCapabilities
from s3dlio_core.concurrency import bounded_map
from s3dlio_core.errors import InvalidUriError, S3dlioError, StorageIOError
from s3dlio_core.listing import ListedObject, ObjectInfo
from s3dlio_core.metadata import make_stat, rfc3339_s
from s3dlio_core.store_config import StoreConfig
from s3dlio_core.uri import ObjectUri, parse_uri

from ..http_errors import object_changed
from ..http_store import HttpObjectStore, RangeBody, range_header
from ..requests_body import RequestsBody, discard_body
from ..store_configs import backend_config
from .client import AzureClient, BlobLocation
from .config import AzureConfig
from .sink import AzureBlockSink

__all__ = ["AzureStore"]

log = logging.getLogger("s3dlio.azure")
R = TypeVar("R")


class AzureCapabilities(BucketCapabilities):
    get_into = True
    head = True


class AzureStore(HttpObjectStore):
    """az:// and azure:// URIs (see the module docstring)."""

    scheme = "az"
    capabilities = AzureCapabilities
    delete_batch_size = 256  # the Blob Batch API's limit per request
    list_page_size = 5000

    suffix_ranges = False  # x-ms-range takes start-end or start- only

    config: AzureConfig  # never None here: the environment's when none is given

    def __init__(self, config: AzureConfig | None = None) -> None:
        self.config = config if config is not None else AzureConfig.from_env()
        self._az = AzureClient(self.config, lambda: self.settings)

    @classmethod
    def store_key(cls, u: ObjectUri) -> Any:
        return (cls.scheme,)

    @classmethod
    def from_uri(cls, u: ObjectUri) -> AzureStore:
        return cls()

    @classmethod
    def from_config(cls, u: ObjectUri, config: StoreConfig | None) -> AzureStore:
        """A store that uses `config`: a AzureConfig, or a plain StoreConfig (its tunables over the
        environment's AzureConfig)."""
        return cls(backend_config(config, AzureConfig, AzureConfig.from_env))

    def __repr__(self) -> str:
        return f"AzureStore(account={self.config.account!r}, endpoint={self.config.endpoint!r})"

    # ---------------------------------------------------------------- addressing and clients
    def _loc(self, u: ObjectUri) -> BlobLocation:
        account, container, blob = self.config.split(u.bucket, u.key)
        if not container:
            raise InvalidUriError(f"missing container in {u.written_scheme}:// URI: {u.uri}", u.uri)
        account_form = self.config.account is None or u.bucket == self.config.account
        bucket = f"{u.bucket}/{container}" if account_form else container
        return BlobLocation(account, container, blob, ObjectUri(u.uri, u.scheme, u.written_scheme, bucket, blob))

    def _loc_of_normalised(self, u: ObjectUri) -> BlobLocation:
        if "/" in u.bucket:
            account, container = u.bucket.split("/", 1)
        else:
            account, container = self.config.account or "", u.bucket
        return BlobLocation(account, container, u.key, u)

    def _check_object(self, u: ObjectUri) -> None:
        self._blob(u)

    def _blob(self, u: ObjectUri) -> BlobLocation:
        """The location of the blob `u` names (InvalidUriError when it names none)."""
        loc = self._loc(u)
        if not loc.blob:
            raise InvalidUriError(f"no blob name in {u.uri}", u.uri)
        return loc

    # ---------------------------------------------------------------- HttpObjectStore primitives
    def _open_range(self, u: ObjectUri, offset: int, length: int | None, pin: str | None,
                    consume: Callable[[RangeBody], R], attempt: int = 1) -> R:
        loc = self._blob(u)
        headers = {}
        rng = range_header(offset, length)
        if rng:
            headers["x-ms-range"] = rng
        if pin:
            headers["If-Match"] = pin
        az = self._az
        resp = az.run(loc, "GET", az.blob_url(loc), headers, stream=True)
        status = resp.status_code
        if status == 412:
            discard_body(resp)
            raise object_changed(loc.u.uri, "ETag no longer matches")
        if status not in (200, 206, 416):
            az.check(resp, loc, "GET", (200, 206))
        body = RequestsBody(resp, loc.u.uri, resp.headers.get("ETag"), offset)
        try:
            result = consume(body)
        except BaseException:
            if body.resp is not None:
                body.resp.close()
            raise
        body.finish()
        return result

    def _put_one(self, u: ObjectUri, data: memoryview) -> None:
        self._az.put_one(self._blob(u), data)

    def _part_sink(self, u: ObjectUri, total: int | None = None) -> AzureBlockSink:
        return AzureBlockSink(self._az, self._blob(u))

    # ---------------------------------------------------------------- metadata
    def _stat_loc(self, loc: BlobLocation) -> dict[str, Any]:
        """One HEAD (Get Blob Properties) through the pipeline; the 16-key stat dict from its headers."""
        if not loc.blob:
            raise InvalidUriError(f"no blob name in {loc.u.uri}", loc.u.uri)
        resp = self._az.run(loc, "HEAD", self._az.blob_url(loc), {})
        self._az.check(resp, loc, "HEAD", (200,))
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

    def _list_entries(self, u: ObjectUri, recursive: bool) -> Iterator[list[ObjectInfo]]:
        yield from super()._list_entries(self._loc(u).u, recursive)

    def _list_objects_page(self, u: ObjectUri, prefix: str, delimiter: str | None, token: Any
                           ) -> tuple[list[ListedObject], list[str], Any]:
        from azure.storage.blob import BlobPrefix

        loc = self._loc_of_normalised(u)
        cc = self._az.container(loc)
        try:
            if delimiter:
                pager = cc.walk_blobs(name_starts_with=prefix or None, delimiter=delimiter,
                                      results_per_page=self.list_page_size).by_page(continuation_token=token)
            else:
                pager = cc.list_blobs(name_starts_with=prefix or None,
                                      results_per_page=self.list_page_size).by_page(continuation_token=token)
            objs: list[ListedObject] = []
            prefixes: list[str] = []
            for item in next(pager, ()):
                if isinstance(item, BlobPrefix):
                    prefixes.append(item.name)
                else:
                    lm = item.last_modified
                    objs.append(ListedObject(item.name, item.size, rfc3339_s(lm) if lm else None,
                                             _quoted(item.etag)))
        except Exception as e:
            raise self._az.error(e, u.uri, "LIST") from None
        return objs, prefixes, pager.continuation_token

    def _delete(self, u: ObjectUri) -> None:
        loc = self._blob(u)
        resp = self._az.run(loc, "DELETE", self._az.blob_url(loc), {"x-ms-delete-snapshots": "include"})
        if resp.status_code == 404 and resp.headers.get("x-ms-error-code") == "BlobNotFound":
            discard_body(resp)
            return
        self._az.check(resp, loc, "DELETE", (202, 200))
        discard_body(resp)

    def _delete_recursive(self, u: ObjectUri) -> int:
        return super()._delete_recursive(self._loc(u).u)

    def _delete_keys(self, u: ObjectUri, keys: list[str]) -> None:
        loc = self._loc_of_normalised(u)
        if len(keys) == 1:
            self._delete(self._key_uri(u, keys[0]))
            return
        cc = self._az.container(loc)
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
        return parse_uri(u.base + key)

    # ---------------------------------------------------------------- buckets (containers)
    def _bucket_loc(self, u: ObjectUri) -> BlobLocation:
        loc = self._loc(u)
        if loc.blob.strip("/"):
            raise InvalidUriError(f"a container URI has no blob part: {u.uri}", u.uri)
        return loc

    def _create_bucket(self, u: ObjectUri) -> None:
        from azure.core.exceptions import ResourceExistsError

        loc = self._bucket_loc(u)
        try:
            self._az.container(loc).create_container()
        except ResourceExistsError:
            return
        except Exception as e:
            raise self._az.error(e, u.uri, "create_bucket") from None

    def _delete_bucket(self, u: ObjectUri) -> None:
        loc = self._bucket_loc(u)
        cc = self._az.container(loc)
        try:
            if next(iter(cc.list_blobs(results_per_page=1)), None) is not None:
                raise StorageIOError(f"delete_bucket failed for {u.uri}: the container is not empty", u.uri)
            cc.delete_container()
        except S3dlioError:
            raise
        except Exception as e:
            raise self._az.error(e, u.uri, "delete_bucket") from None

    def _list_buckets(self, u: ObjectUri) -> list[dict[str, Any]]:
        first = u.bucket
        account = first if (self.config.account is None or first == self.config.account) else None
        if account is None:
            if first != "_":
                raise InvalidUriError(f"list_containers needs az://ACCOUNT (configured account: "
                                      f"{self.config.account}), got {u.uri}", u.uri)
            account = self.config.account or ""
        svc = self._az.service(account, u.uri)
        try:
            return [{"name": c.name, "uri": f"{u.written_scheme}://{account}/{c.name}",
                     "creation_date": rfc3339_s(c.last_modified) if c.last_modified else None}
                    for c in svc.list_containers()]
        except Exception as e:
            raise self._az.error(e, u.uri, "list_containers") from None


def _quoted(etag: str | None) -> str | None:
    """An ETag as the blob's ETag header carries it (quoted), whatever the listing's XML held."""
    if not etag:
        return None
    return etag if etag.startswith('"') else f'"{etag}"'
