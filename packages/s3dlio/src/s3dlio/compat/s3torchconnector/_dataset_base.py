"""What S3IterableDataset and S3MapDataset share: the client (built per process from region, endpoint
and config), the reader constructor, the transform, and bulk fetching of whole objects ahead."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

from s3dlio_ml.loaders.options import parse_options
from s3dlio_ml.loaders.stream import ObjectStream

from ._s3bucket_key_data import S3BucketKeyData
from ._s3client import S3Client, S3ClientConfig
from ._s3client._s3client import make_uri
from ._s3dataset_common import get_objects_from_prefix, identity
from .s3reader import S3Reader, S3ReaderConstructor
from .s3reader.constructor import is_sequential

__all__ = ["DatasetBase", "LOADER_KWARGS", "resolve_source"]

#: the original s3dlio compat's loader keywords: kept on the dataset; prefetch and num_workers size the
#: look-ahead and the GETs in flight of the bulk prefetch, the others are stored only
LOADER_KWARGS = ("prefetch", "shuffle", "seed", "num_workers", "batch_size", "drop_last")


def resolve_source(
    owner: str, first: Any, get_dataset_objects: Any, region: str | None, loader_kwargs: dict[str, Any]
) -> tuple[str | None, Any]:
    """(region, get_dataset_objects) from s3torchconnector's form `(region, get_dataset_objects)` or the
    original s3dlio form `(uri, region=...)`; TypeError for anything else."""
    unknown = sorted(set(loader_kwargs) - set(LOADER_KWARGS))
    if unknown:
        raise TypeError(f"{owner}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}")
    if get_dataset_objects is not None:
        if region is not None and first is not None:
            raise TypeError(f"{owner}() got the region twice ({first!r} and region={region!r})")
        return (first if first is not None else region), get_dataset_objects
    if isinstance(first, str) and "://" in first:
        return region, partial(get_objects_from_prefix, first)
    raise TypeError(
        f"{owner}() needs a dataset URI or get_dataset_objects; use {owner}.from_prefix(uri, region=...) "
        f"or {owner}.from_objects(uris, region=...)"
    )


def _uri(obj: S3BucketKeyData) -> str:
    return obj.uri or make_uri(obj.bucket, obj.key)


def _typical_size(objs: Sequence[S3BucketKeyData]) -> int | None:
    sizes = sorted(
        o.object_info.size for o in objs[:1024] if o.object_info is not None and o.object_info.size >= 0
    )
    return sizes[len(sizes) // 2] if sizes else None


class DatasetBase:
    """Holds the dataset's settings; `_client` is made on first use in each process (and not pickled)."""

    def _init_common(
        self,
        region: str | None,
        get_dataset_objects: Callable[[S3Client], Any],
        endpoint: str | None,
        transform: Callable[[S3Reader], Any] | None,
        s3client_config: S3ClientConfig | None,
        reader_constructor: Any,
        loader_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        self._get_dataset_objects = get_dataset_objects
        self._transform = transform or identity
        self._region = region
        self._endpoint = endpoint
        self._s3client_config = s3client_config
        self._client: S3Client | None = None
        self._reader_constructor = reader_constructor or S3ReaderConstructor.default()
        self.loader_kwargs = dict(loader_kwargs or {})

    @property
    def region(self) -> str | None:
        return self._region

    @property
    def endpoint(self) -> str | None:
        return self._endpoint

    def _get_client(self) -> S3Client:
        if self._client is None:
            self._client = S3Client(
                self._region, endpoint=self._endpoint, s3client_config=self._s3client_config
            )
        return self._client

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None
        return state

    def _reader(self, obj: S3BucketKeyData, data: Any = None) -> S3Reader:
        return self._get_client().reader_for_uri(
            _uri(obj), object_info=obj.object_info, reader_constructor=self._reader_constructor, data=data
        )

    def _get_transformed_object(self, obj: S3BucketKeyData) -> Any:
        return self._transform(self._reader(obj))

    @property
    def _fetches_whole(self) -> bool:
        """True with the sequential reader: objects are then fetched ahead through the bulk path."""
        return is_sequential(self._reader_constructor)

    def _fetch(self, objs: Sequence[S3BucketKeyData], width: int) -> list[Any]:
        """The objects' bytes, concurrently (at most `width` in flight), in order."""
        client = self._get_client()
        uris = [_uri(o) for o in objs]
        stores = [client.store(u) for u in uris]
        first = stores[0]
        if all(s is first for s in stores):
            return [data for _, data in first.get_many(uris, max_in_flight=max(1, width))]
        return [s.get(u) for s, u in zip(stores, uris, strict=True)]

    def _prefetched(self, objs: Sequence[S3BucketKeyData]) -> Iterator[Any]:
        """Transformed readers of `objs`, their bytes fetched ahead (bounded by the loader's look-ahead)."""
        if not objs:
            return
        kw = self.loader_kwargs
        opts = parse_options({k: int(kw[k]) for k in ("prefetch", "num_workers") if kw.get(k)})
        typical = _typical_size(objs)

        def fetch(chunk: Sequence[int], width: int) -> list[Any]:
            return self._fetch([objs[i] for i in chunk], width)

        stream = ObjectStream(
            range(len(objs)),
            fetch,
            concurrency=opts.concurrency(typical),
            lookahead=opts.lookahead(typical),
            batch_size=1,
            timeout=opts.timeout_seconds,
            name="s3torchconnector-compat",
        )
        try:
            for i, data in enumerate(stream.items()):
                yield self._transform(self._reader(objs[i], data))
        finally:
            stream.close()
