"""Flat-API names for datasets and loaders (from s3dlio-ml, no framework imported), and the framework
adapters' names, resolved lazily: `from s3dlio import S3IterableDataset` imports s3dlio.torch (and so
torch) only when that name is asked for, so `import s3dlio` imports no framework and no numpy."""

from __future__ import annotations

import importlib
from typing import Any

from s3dlio_ml.loaders import (
    ParquetStreamIter,
    PyAsyncDataLoader,
    PyAsyncDataLoaderIter,
    PyBytesAsyncDataLoader,
    PyBytesAsyncDataLoaderIter,
    PyBytesDataLoaderSyncIter,
    PyDataset,
    PyLoaderOptions,
    PyObjectDataLoaderSyncIter,
    PyObjectItem,
    PyParquetStreamLoader,
    PyS3AsyncDataLoader,
    PyS3AsyncDataLoaderCompat,
    PyS3Dataset,
    PyS3DatasetCompat,
    PyVecDataset,
    create_async_loader,
    create_dataset,
)

__all__: list[str] = [
    "create_dataset", "create_async_loader", "PyDataset", "PyVecDataset", "PyBytesAsyncDataLoader",
    "PyAsyncDataLoader", "PyLoaderOptions", "PyObjectItem", "PyBytesAsyncDataLoaderIter",
    "PyBytesDataLoaderSyncIter", "PyObjectDataLoaderSyncIter", "PyAsyncDataLoaderIter", "PyS3Dataset",
    "PyS3DatasetCompat", "PyS3AsyncDataLoader", "PyS3AsyncDataLoaderCompat", "PyParquetStreamLoader",
    "ParquetStreamIter",
]

# name -> the submodule of s3dlio that defines it (imported on first access)
LAZY_NAMES: dict[str, str] = {
    "ObjectStoreIterableDataset": "torch", "ObjectStoreMapDataset": "torch", "S3IterableDataset": "torch",
    "S3MapDataset": "torch", "JaxIterable": "jax_tf", "S3JaxIterable": "jax_tf", "make_tf_dataset": "jax_tf",
}


def lazy_attr(name: str) -> Any:
    """The framework adapter behind a lazy top-level name (or the adapter module itself, `s3dlio.torch`,
    `s3dlio.jax_tf`); AttributeError for any other name."""
    if name in ("torch", "jax_tf"):
        try:
            return importlib.import_module(f"s3dlio.{name}")
        except ImportError as e:  # hasattr(s3dlio, "torch") is False without the framework
            raise AttributeError(f"module 's3dlio' has no attribute {name!r} ({e})") from e
    module = LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 's3dlio' has no attribute {name!r}")
    return getattr(importlib.import_module(f"s3dlio.{module}"), name)
