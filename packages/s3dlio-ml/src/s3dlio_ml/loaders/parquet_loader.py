"""`create_async_loader(uri, {"format": "parquet", ...})`: PyParquetStreamLoader, every row group of the
Parquet files under a URI as PyParquetItem (file_uri, rg_idx, byte_count, data), in completion order.

The row-group reads are s3dlio_ml.formats.parquet's (`iter_parquet_row_groups`: cached footers, one
ranged read per row group, bounded concurrency); this module lists the files once and applies the
loader options (shuffle, seed and the shard keys choose and order the files of each epoch; prefetch,
max_threads, columns, footer_cap and decode go to the reads).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from s3dlio_core import UnsupportedOperationError, submit_async

from .epochs import EpochCounter, epoch_indices
from .listing import Listing, list_dataset
from .options import LoaderOptions
from .source import StoreSource

__all__ = ["PyParquetStreamLoader", "ParquetStreamIter", "create_parquet_loader"]


def _row_groups() -> Any:
    try:
        from s3dlio_ml.formats.parquet import iter_parquet_row_groups
    except ImportError as e:  # the formats package (and pyarrow) are needed for the Parquet path
        raise UnsupportedOperationError(
            f"the Parquet loader needs s3dlio_ml.formats.parquet and pyarrow ({e}); install s3dlio-ml with "
            "its parquet support (pip install 's3dlio-ml[parquet]' pyarrow)") from e
    return iter_parquet_row_groups


class PyParquetStreamLoader:
    """Row groups of the Parquet files under one URI; each iteration is one epoch."""

    def __init__(self, listing: Listing, opts: LoaderOptions) -> None:
        self._listing = listing
        self._opts = opts
        self._epochs = EpochCounter()

    def __len__(self) -> int:
        """Files this loader's shard reads per epoch."""
        return len(epoch_indices(len(self._listing), self._opts, 0))

    def __repr__(self) -> str:
        return f"PyParquetStreamLoader({self._listing.source_uri!r}, {len(self._listing)} files)"

    def set_epoch(self, epoch: int) -> None:
        self._epochs.set_epoch(epoch)

    def _items(self) -> Iterator[Any]:
        o = self._opts
        uris = [self._listing.uris[i] for i in epoch_indices(len(self._listing), o, self._epochs.start())]
        kw: dict[str, Any] = {"footer_cap": o.footer_cap, "prefetch": o.prefetch or 32}
        if o.columns is not None:
            kw["columns"] = list(o.columns)
        if o.decode is not None:
            kw["decode"] = o.decode
        if o.max_threads:
            kw["max_threads"] = o.max_threads
        return _row_groups()(uris, **kw)

    def __iter__(self) -> ParquetStreamIter:
        return ParquetStreamIter(self._items())

    def __aiter__(self) -> ParquetStreamIter:
        return ParquetStreamIter(self._items())


class ParquetStreamIter:
    """Iterator (sync and async) over one epoch's PyParquetItems."""

    def __init__(self, items: Iterator[Any]) -> None:
        self._items = items

    def __iter__(self) -> ParquetStreamIter:
        return self

    def __next__(self) -> Any:
        return next(self._items)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        item = await submit_async(next, self._items, None)
        if item is None:
            raise StopAsyncIteration
        return item


def create_parquet_loader(uri: str, opts: LoaderOptions, *, pattern: str | None = None,
                          store: Any = None) -> PyParquetStreamLoader:
    """The Parquet path of create_async_loader: list the files (under a prefix, by default those named
    '*.parquet'; a single object is read whatever its name)."""
    _row_groups()  # fail now, clearly, if the Parquet support is missing
    if pattern is None and uri.endswith("/"):
        pattern = "*.parquet"
    listing = list_dataset(uri, pattern=pattern, source=StoreSource(store))
    return PyParquetStreamLoader(listing, opts)
