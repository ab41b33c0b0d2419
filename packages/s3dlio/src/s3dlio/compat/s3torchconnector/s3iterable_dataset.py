"""S3IterableDataset: s3torchconnector's iterable-style dataset on s3dlio stores."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import torch.utils.data

from s3dlio.torch.distributed import rank_and_world, worker_and_count

from ._dataset_base import DatasetBase, resolve_source
from ._s3client import S3Client, S3ClientConfig
from ._s3dataset_common import get_objects_from_prefix, get_objects_from_uris
from .s3reader import S3Reader

__all__ = ["S3IterableDataset"]


class S3IterableDataset(DatasetBase, torch.utils.data.IterableDataset):
    """Streams the objects of a prefix (`from_prefix`) or of a list of URIs (`from_objects`), each as
    `transform(reader)` (the reader is an S3Item with the default reader constructor).

    The prefix is listed at the start of every iteration, in each DataLoader worker (as upstream).
    Without `enable_sharding` every worker yields the whole dataset (as upstream); with it, objects go
    round-robin to ranks (`idx % world_size == rank`) and then to the rank's DataLoader workers. With the
    default reader the objects are fetched ahead concurrently through the store's bulk path.
    """

    def __init__(
        self,
        region_arg: str | None = None,
        /,
        get_dataset_objects: Callable[[S3Client], Iterable[Any]] | None = None,
        endpoint: str | None = None,
        transform: Callable[[S3Reader], Any] | None = None,
        s3client_config: S3ClientConfig | None = None,
        enable_sharding: bool = False,
        reader_constructor: Any = None,
        *,
        region: str | None = None,
        **loader_kwargs: Any,
    ) -> None:
        super().__init__()
        region, get_dataset_objects = resolve_source(
            "S3IterableDataset", region_arg, get_dataset_objects, region, loader_kwargs
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
        self._enable_sharding = bool(enable_sharding)
        self._rank, self._world_size = rank_and_world() if self._enable_sharding else (0, 1)

    @classmethod
    def from_objects(
        cls,
        object_uris: str | Iterable[str],
        *,
        region: str | None = None,
        endpoint: str | None = None,
        transform: Callable[[S3Reader], Any] | None = None,
        s3client_config: S3ClientConfig | None = None,
        enable_sharding: bool = False,
        reader_constructor: Any = None,
    ) -> S3IterableDataset:
        """A dataset of exactly these objects, in this order."""
        if not isinstance(object_uris, str):
            object_uris = list(object_uris)
        return cls(
            region,
            partial(get_objects_from_uris, object_uris),
            endpoint,
            transform=transform,
            s3client_config=s3client_config,
            enable_sharding=enable_sharding,
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
        enable_sharding: bool = False,
        reader_constructor: Any = None,
    ) -> S3IterableDataset:
        """A dataset of every object whose key starts with `s3_uri`'s key."""
        return cls(
            region,
            partial(get_objects_from_prefix, s3_uri),
            endpoint,
            transform=transform,
            s3client_config=s3client_config,
            enable_sharding=enable_sharding,
            reader_constructor=reader_constructor,
        )

    def _mine(self) -> Iterable[Any]:
        objs: Iterable[Any] = self._get_dataset_objects(self._get_client())
        if not self._enable_sharding:
            return objs
        worker, workers, _ = worker_and_count()
        world, rank = self._world_size, self._rank
        if world == 1 and workers == 1:
            return objs
        ranked = (o for i, o in enumerate(objs) if i % world == rank)
        return (o for i, o in enumerate(ranked) if i % workers == worker)

    def __iter__(self) -> Iterator[Any]:
        objs = self._mine()
        if self._fetches_whole:
            return self._prefetched(list(objs))
        return map(self._get_transformed_object, objs)
