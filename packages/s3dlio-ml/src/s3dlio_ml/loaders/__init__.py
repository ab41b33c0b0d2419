"""Datasets and loaders over every s3dlio store (no framework imported): create_dataset / PyDataset,
create_async_loader / PyBytesAsyncDataLoader, PyVecDataset + PyAsyncDataLoader, PyLoaderOptions, the
listing manifest and the deprecated names. The PyTorch, JAX and TensorFlow adapters build on these."""

from __future__ import annotations

from .dataset import DatasetIndexError, PyDataset, PyObjectItem, PyVecDataset
from .listing import Listing, list_dataset
from .loader import (
    PyAsyncDataLoader,
    PyAsyncDataLoaderIter,
    PyBytesAsyncDataLoader,
    PyBytesAsyncDataLoaderIter,
    PyBytesDataLoaderSyncIter,
    PyObjectDataLoaderSyncIter,
    PyS3AsyncDataLoader,
    PyS3AsyncDataLoaderCompat,
    PyS3Dataset,
    PyS3DatasetCompat,
    create_async_loader,
    create_dataset,
)
from .loader_options import PyLoaderOptions
from .options import LoaderOptions, LoaderOptionWarning, parse_options
from .parquet_loader import ParquetStreamIter, PyParquetStreamLoader

__all__ = [
    "DatasetIndexError", "Listing", "LoaderOptionWarning", "LoaderOptions", "PyAsyncDataLoader",
    "PyAsyncDataLoaderIter", "PyBytesAsyncDataLoader", "PyBytesAsyncDataLoaderIter", "PyBytesDataLoaderSyncIter",
    "PyDataset", "PyLoaderOptions", "PyObjectDataLoaderSyncIter", "PyObjectItem", "PyS3AsyncDataLoader",
    "PyS3AsyncDataLoaderCompat", "PyS3Dataset", "PyS3DatasetCompat", "PyVecDataset", "create_async_loader",
    "create_dataset", "list_dataset", "parse_options", "PyParquetStreamLoader", "ParquetStreamIter",
]
