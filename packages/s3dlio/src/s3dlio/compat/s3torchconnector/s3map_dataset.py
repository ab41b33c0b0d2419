"""S3MapDataset: s3torchconnector's map-style dataset on s3dlio stores."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import torch.utils.data

from ._dataset_base import DatasetBase, resolve_source
from ._s3bucket_key_data import S3BucketKeyData
from ._s3client import S3Client, S3ClientConfig
from ._s3dataset_common import get_objects_from_prefix, get_objects_from_uris
from .s3reader import S3Reader

__all__ = ["S3MapDataset"]


class S3MapDataset(DatasetBase, torch.utils.data.Dataset):
    """Random access to the objects of a prefix (`from_prefix`) or of a list of URIs (`from_objects`):
    `ds[i]` is `transform(reader)`. Listed once, at the first access or `len()` (as upstream).
    `__getitems__` (used by DataLoader for a batch) fetches the batch's objects concurrently."""

    def __init__(
        self,
        region_arg: str | None = None,
        /,
        get_dataset_objects: Callable[[S3Client], Iterable[Any]] | None = None,
        endpoint: str | None = None,
        transform: Callable[[S3Reader], Any] | None = None,
        s3client_config: S3ClientConfig | None = None,
        reader_constructor: Any = None,
        *,
        region: str | None = None,
        **loader_kwargs: Any,
    ) -> None:
        super().__init__()
        region, get_dataset_objects = resolve_source(
            "S3MapDataset", region_arg, get_dataset_objects, region, loader_kwargs
        )
        self._init_common(
            region,
            get_dataset_objects,
            endpoint,
            transform,
            s3client_config,
            reader_constructor,
            loader_kwargs,
        )
        self._bucket_key_pairs: list[S3BucketKeyData] | None = None

    @classmethod
    def from_objects(
        cls,
        object_uris: str | Iterable[str],
        *,
        region: str | None = None,
        endpoint: str | None = None,
        transform: Callable[[S3Reader], Any] | None = None,
        s3client_config: S3ClientConfig | None = None,
        reader_constructor: Any = None,
    ) -> S3MapDataset:
        if not isinstance(object_uris, str):
            object_uris = list(object_uris)
        return cls(
            region,
            partial(get_objects_from_uris, object_uris),
            endpoint,
            transform=transform,
            s3client_config=s3client_config,
            reader_constructor=reader_constructor,
        )

    @classmethod
    def from_prefix(
        cls,
        s3_uri: str,
        *,
        region: str | None = None,
        endpoint: str | None = None,
        transform: Callable[[S3Reader], Any] | None = None,
        s3client_config: S3ClientConfig | None = None,
        reader_constructor: Any = None,
    ) -> S3MapDataset:
        return cls(
            region,
            partial(get_objects_from_prefix, s3_uri),
            endpoint,
            transform=transform,
            s3client_config=s3client_config,
            reader_constructor=reader_constructor,
        )

    @property
    def _dataset_bucket_key_pairs(self) -> list[S3BucketKeyData]:
        if self._bucket_key_pairs is None:
            self._bucket_key_pairs = list(self._get_dataset_objects(self._get_client()))
        return self._bucket_key_pairs

    def _get_object(self, i: int) -> S3Reader:
        return self._reader(self._dataset_bucket_key_pairs[i])

    def __getitem__(self, i: int) -> Any:
        """`transform(reader)` of object `i` (negative counts from the end); IndexError out of range."""
        n = len(self._dataset_bucket_key_pairs)
        if not -n <= i < n:
            raise IndexError(f"Index {i} out of range for dataset of size {n}")
        return self._transform(self._get_object(i))

    def __getitems__(self, indices: Sequence[int]) -> list[Any]:
        pairs = self._dataset_bucket_key_pairs
        n = len(pairs)
        for i in indices:
            if not -n <= i < n:
                raise IndexError(f"Index {i} out of range for dataset of size {n}")
        objs = [pairs[i] for i in indices]
        if not self._fetches_whole or not objs:
            return [self._transform(self._reader(o)) for o in objs]
        datas = self._fetch(objs, 64)
        return [self._transform(self._reader(o, d)) for o, d in zip(objs, datas, strict=True)]

    def __len__(self) -> int:
        return len(self._dataset_bucket_key_pairs)
