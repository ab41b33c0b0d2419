"""S3Client: s3torchconnector's client (get_object, put_object, list_objects, head_object,
delete_object, copy_object) on s3dlio stores. Picklable: a DataLoader worker builds its own store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

from s3dlio_core import ObjectStore

from .._stores import ClientKey, bucket_and_key, list_key_prefix, split_uri, store_for
from ..s3reader import ObjectSource, S3Item, S3Reader
from ..s3reader.constructor import is_sequential
from ..s3writer import S3Writer
from ._results import HeadObjectResult, ListObjectResult, ObjectInfo, epoch_seconds
from .s3client_config import S3ClientConfig

__all__ = ["S3Client", "ListObjectStream", "make_uri"]

_COPY_CHUNK = 8 << 20


def make_uri(bucket: str, key: str) -> str:
    """`key` itself when it is a full URI (any scheme), else `s3://bucket/key`."""
    if "://" in key:
        return key
    return f"s3://{bucket}/{key}"


class S3Client:
    """A client for one region / endpoint / S3ClientConfig (s3torchconnector's signature; `region` may
    be None: AWS_REGION, else us-east-1). `endpoint` (e.g. "http://127.0.0.1:8333") wins over
    AWS_ENDPOINT_URL; credentials come from the environment, the profile, or the AWS chain."""

    def __init__(
        self,
        region: str | None = None,
        *,
        endpoint: str | None = None,
        user_agent: Any = None,
        s3client_config: S3ClientConfig | None = None,
    ) -> None:
        if s3client_config is not None and not isinstance(s3client_config, S3ClientConfig):
            raise TypeError(
                f"s3client_config must be an S3ClientConfig, got {type(s3client_config).__name__}"
            )
        self._region = region
        self._endpoint = endpoint
        self._given_config = s3client_config
        self._s3client_config = s3client_config or S3ClientConfig()
        self._user_agent_prefix = getattr(user_agent, "prefix", "") if user_agent is not None else ""

    # ---- what it is ----
    @property
    def region(self) -> str:
        import os

        return (
            self._region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1"
        )

    @property
    def endpoint(self) -> str | None:
        return self._endpoint

    @property
    def s3client_config(self) -> S3ClientConfig:
        return self._s3client_config

    @property
    def user_agent_prefix(self) -> str:
        return self._user_agent_prefix

    def __repr__(self) -> str:
        return f"S3Client(region={self.region!r}, endpoint={self._endpoint!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {
            "region": self._region,
            "endpoint": self._endpoint,
            "config": self._given_config,
            "ua": self._user_agent_prefix,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._region = state["region"]
        self._endpoint = state["endpoint"]
        self._given_config = state["config"]
        self._s3client_config = state["config"] or S3ClientConfig()
        self._user_agent_prefix = state["ua"]

    _make_uri = staticmethod(make_uri)  # the original s3dlio compat's name

    # ---- stores ----
    @property
    def _key(self) -> ClientKey:
        return (self._region, self._endpoint, self._given_config)

    def store(self, uri: str) -> ObjectStore:
        """The s3dlio store this client uses for `uri`."""
        return store_for(uri, self._key)

    # ---- objects ----
    def get_object(
        self,
        bucket: str,
        key: str,
        start: int | None = None,
        end: int | None = None,
        *,
        object_info: Any = None,
        reader_constructor: Any = None,
    ) -> S3Reader:
        """A reader of `s3://bucket/key` (or of `key` when it is a full URI); `start`/`end` (inclusive)
        limit it to a byte range. Nothing is requested until it is read."""
        return self.reader_for_uri(
            make_uri(bucket, key),
            start=start,
            end=end,
            object_info=object_info,
            reader_constructor=reader_constructor,
        )

    def reader_for_uri(
        self,
        uri: str,
        *,
        start: int | None = None,
        end: int | None = None,
        object_info: Any = None,
        reader_constructor: Any = None,
        data: Any = None,
    ) -> S3Reader:
        """The reader of one URI (with `data` already fetched, if given)."""
        store = self.store(uri)
        get_info = (lambda: object_info) if object_info is not None else None
        source = ObjectSource(store, uri, data=data, start=start, end=end, get_object_info=get_info)
        if is_sequential(reader_constructor):
            return S3Item(uri, store=store, get_object_info=get_info, source=source)
        if start is not None or end is not None:
            raise ValueError(f"start/end need the sequential reader ({uri})")
        bucket, key = bucket_and_key(split_uri(uri))
        return reader_constructor(
            bucket=bucket, key=key, get_object_info=get_info or source.size_info, get_stream=source
        )

    def put_object(self, bucket: str, key: str, storage_class: str | None = None) -> S3Writer:
        """A writer of `s3://bucket/key`; the object appears on close(). (storage_class is not sent.)"""
        uri = make_uri(bucket, key)
        return S3Writer(self.store(uri).open_writer(uri), uri)

    def head_object(self, bucket: str, key: str) -> HeadObjectResult:
        """Size, ETag and modification time of one object (ObjectNotFoundError if there is none)."""
        uri = make_uri(bucket, key)
        st = self.store(uri).stat(uri)
        return HeadObjectResult(
            etag=str(st.get("etag") or ""),
            size=int(st["size"]),
            last_modified=epoch_seconds(st.get("last_modified")),
            storage_class=st.get("storage_class"),
        )

    def delete_object(self, bucket: str, key: str) -> None:
        uri = make_uri(bucket, key)
        self.store(uri).delete(uri)

    def copy_object(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None:
        """Copy one object: streamed through this process (range reads into the streaming writer)."""
        src, dst = make_uri(src_bucket, src_key), make_uri(dst_bucket, dst_key)
        with (
            self.store(src).open_reader(src, buffer_size=_COPY_CHUNK) as r,
            S3Writer(self.store(dst).open_writer(dst), dst) as w,
        ):
            shutil.copyfileobj(r, w, _COPY_CHUNK)

    def list_objects(
        self, bucket: str, prefix: str = "", delimiter: str = "", max_keys: int = 1000
    ) -> ListObjectStream:
        """Pages (ListObjectResult) of the keys starting with `prefix`; with a delimiter, keys that have
        it after the prefix are grouped into `common_prefixes`."""
        return ListObjectStream(self, bucket, prefix, delimiter, max_keys)

    def list_uri(self, uri: str) -> list[Any]:
        """s3dlio listing entries (full URIs, sizes) of every object whose key starts with `uri`'s key."""
        return list_key_prefix(self.store(uri), uri)


class ListObjectStream:
    """An iterator of ListObjectResult pages of at most `max_keys` entries; listed on the first next()."""

    def __init__(self, client: S3Client, bucket: str, prefix: str, delimiter: str, max_keys: int) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be >= 1, got {max_keys}")
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.max_keys = max_keys
        self.continuation_token: str | None = None
        self.complete = False
        self._client = client
        self._pages: Iterator[ListObjectResult] | None = None

    def __iter__(self) -> ListObjectStream:
        return self

    def __next__(self) -> ListObjectResult:
        if self._pages is None:
            self._pages = self._make_pages()
        try:
            return next(self._pages)
        except StopIteration:
            self.complete = True
            raise

    def _make_pages(self) -> Iterator[ListObjectResult]:
        uri = make_uri(self.bucket, self.prefix) if self.prefix else f"s3://{self.bucket}/"
        infos = self._client.list_uri(uri)
        u = split_uri(uri)
        start, plen, delim = len(u.base), len(u.key), self.delimiter
        objects: list[ObjectInfo] = []
        prefixes: list[str] = []
        seen: set[str] = set()
        for info in infos:
            key = info.uri[start:]
            if delim:
                cut = key.find(delim, plen)
                if cut >= 0:
                    common = key[: cut + len(delim)]
                    if common not in seen:
                        seen.add(common)
                        prefixes.append(common)
                    continue
            objects.append(
                ObjectInfo(
                    key=key,
                    etag=str(info.etag or ""),
                    size=int(info.size or 0),
                    last_modified=epoch_seconds(info.last_modified),
                )
            )
        entries: list[tuple[bool, Any]] = [(False, o) for o in objects] + [(True, p) for p in prefixes]
        if not entries:
            yield ListObjectResult([], [])
            return
        for i in range(0, len(entries), self.max_keys):
            page = entries[i : i + self.max_keys]
            self.continuation_token = str(i + self.max_keys) if i + self.max_keys < len(entries) else None
            yield ListObjectResult([e for d, e in page if not d], [e for d, e in page if d])
