"""Loaders: `create_async_loader` / `PyBytesAsyncDataLoader` (objects under a URI) and
`PyAsyncDataLoader` (any dataset with `len` and `[i]`, e.g. PyVecDataset), plus the original's factory
functions and deprecated names.

* `async for batch in loader`: lists of `batch_size` items (the last one partial unless drop_last).
* `for item in loader`: one item per object (the original's sync iteration).
* `loader.items()`: PyObjectItem per object (`.uri`, `.byte_count`, buffer protocol) with
  `.collect_batch(n)`.
Each iteration is one epoch (a new shuffle order when shuffle is on; epoch 0 is the original's order),
prefetched `prefetch` objects ahead through the store's bulk path (see pipeline.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from s3dlio_core import submit_async

from .dataset import PyDataset, PyObjectItem
from .epochs import EpochCounter, epoch_indices
from .options import LoaderOptions, parse_options, pick_options
from .stream import ObjectStream

__all__ = [
    "create_dataset", "create_async_loader", "PyBytesAsyncDataLoader", "PyAsyncDataLoader",
    "PyBytesAsyncDataLoaderIter", "PyBytesDataLoaderSyncIter", "PyObjectDataLoaderSyncIter",
    "PyAsyncDataLoaderIter", "PyS3Dataset", "PyS3DatasetCompat", "PyS3AsyncDataLoader",
    "PyS3AsyncDataLoaderCompat",
]


def create_dataset(uri: str, opts: Any = None, *, options: Any = None, pattern: str | None = None,
                   transform: Any = None, store: Any = None) -> PyDataset:
    """A PyDataset of the objects under `uri` on any scheme (s3, gs, az, file, direct, a
    MultiEndpointStore given as `store=`), listed once. Options as a dict or PyLoaderOptions."""
    return PyDataset(uri, pick_options(opts, options), pattern=pattern, transform=transform, store=store)


def create_async_loader(uri: str, opts: Any = None, *, options: Any = None, pattern: str | None = None,
                        transform: Any = None, store: Any = None) -> Any:
    """A PyBytesAsyncDataLoader over `create_dataset(uri, opts)` (batch_size is honoured as given).

    With `{"format": "parquet", ...}` it returns a PyParquetStreamLoader over the Parquet files instead.
    """
    given = pick_options(opts, options)
    parsed = parse_options(given)
    if parsed.format == "parquet":
        from .parquet_loader import create_parquet_loader

        return create_parquet_loader(uri, parsed, pattern=pattern, store=store)
    ds = PyDataset(uri, parsed, pattern=pattern, transform=transform, store=store)
    return PyBytesAsyncDataLoader(ds, parsed)


class _Loader:
    """What both loaders share: options, the epoch counter and `set_epoch`."""

    _opts: LoaderOptions
    _epochs: EpochCounter

    @property
    def options(self) -> LoaderOptions:
        return self._opts

    def set_epoch(self, epoch: int) -> None:
        """Run epoch `epoch` next (its shuffle order); later iterations continue from there."""
        self._epochs.set_epoch(epoch)


class PyBytesAsyncDataLoader(_Loader):
    """Batches of object bytes from a PyDataset, prefetched. `opts` (dict or PyLoaderOptions) default to
    the dataset's options."""

    def __init__(self, dataset: PyDataset, opts: Any = None, *, options: Any = None) -> None:
        if not isinstance(dataset, PyDataset):
            raise TypeError(f"PyBytesAsyncDataLoader needs a PyDataset, got {type(dataset).__name__} "
                            "(use PyAsyncDataLoader for other datasets)")
        given = pick_options(opts, options)
        self._dataset = dataset
        self._opts = dataset.options if given is None else parse_options(given)
        self._epochs = EpochCounter()

    @property
    def dataset(self) -> PyDataset:
        return self._dataset

    def __len__(self) -> int:
        """Batches per epoch for this loader's shard."""
        n = len(epoch_indices(len(self._dataset), self._opts, 0))
        return n // self._opts.batch_size if self._opts.drop_last else -(-n // self._opts.batch_size)

    def __repr__(self) -> str:
        return f"PyBytesAsyncDataLoader({self._dataset!r}, batch_size={self._opts.batch_size})"

    def _stream(self, items: bool = False) -> ObjectStream:
        return self._dataset.stream(self._opts, epoch=self._epochs.start(), items=items)

    def __aiter__(self) -> PyBytesAsyncDataLoaderIter:
        return PyBytesAsyncDataLoaderIter(self._stream())

    def __iter__(self) -> PyBytesDataLoaderSyncIter:
        return PyBytesDataLoaderSyncIter(self._stream())

    def items(self) -> PyObjectDataLoaderSyncIter:
        """PyObjectItem per object (bytes read straight into them), with `collect_batch(n)`."""
        return PyObjectDataLoaderSyncIter(self._stream(items=True))


class PyBytesAsyncDataLoaderIter:
    """`async for batch in loader`: lists of items."""

    def __init__(self, stream: ObjectStream) -> None:
        self._s = stream

    def __aiter__(self) -> PyBytesAsyncDataLoaderIter:
        return self

    async def __anext__(self) -> list[Any]:
        batch = await self._s.next_batch_async()
        if batch is None:
            self._s.close()
            raise StopAsyncIteration
        return batch

    async def aclose(self) -> None:
        self._s.close()


class PyBytesDataLoaderSyncIter:
    """`for item in loader`: one item per object."""

    def __init__(self, stream: ObjectStream) -> None:
        self._s = stream

    def __iter__(self) -> PyBytesDataLoaderSyncIter:
        return self

    def __next__(self) -> Any:
        return self._s.next_item()

    def close(self) -> None:
        self._s.close()


class PyObjectDataLoaderSyncIter:
    """`loader.items()`: PyObjectItem per object; `collect_batch(n)` takes up to n (empty at the end)."""

    def __init__(self, stream: ObjectStream) -> None:
        self._s = stream

    def __iter__(self) -> PyObjectDataLoaderSyncIter:
        return self

    def __next__(self) -> PyObjectItem:
        return self._s.next_item()

    def collect_batch(self, n: int) -> list[PyObjectItem]:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"collect_batch needs a count >= 1, got {n!r}")
        return self._s.take(n)

    def close(self) -> None:
        self._s.close()


class PyAsyncDataLoader(_Loader):
    """Batches of `dataset[i]` for any dataset with `len()` and `[i]` (PyVecDataset, a list, a PyDataset),
    honouring batch_size, drop_last, shuffle and seed (the original's exact order for epoch 0) and the
    shard keys. Also iterable synchronously."""

    def __init__(self, dataset: Any, opts: Any = None, *, options: Any = None) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"PyAsyncDataLoader needs a dataset with len() and [i], got {type(dataset).__name__}")
        self._dataset = dataset
        self._opts = parse_options(pick_options(opts, options))
        self._epochs = EpochCounter()

    def __repr__(self) -> str:
        return f"PyAsyncDataLoader({self._dataset!r}, batch_size={self._opts.batch_size})"

    def _batches(self) -> Iterator[Sequence[int]]:
        idx = epoch_indices(len(self._dataset), self._opts, self._epochs.start())
        b = self._opts.batch_size
        for lo in range(0, len(idx), b):
            yield idx[lo:lo + b]

    def _fetch(self, idx: Sequence[int]) -> list[Any]:
        if isinstance(self._dataset, PyDataset):
            return self._dataset.get_many(idx)
        ds = self._dataset
        return [ds[i] for i in idx]

    def __aiter__(self) -> PyAsyncDataLoaderIter:
        return PyAsyncDataLoaderIter(self, self._batches())

    def __iter__(self) -> Iterator[list[Any]]:
        for idx in self._batches():
            yield self._fetch(idx)


class PyAsyncDataLoaderIter:
    """`async for batch in PyAsyncDataLoader(...)`. In-memory datasets are read inline; a PyDataset's
    batch is fetched off the event loop."""

    def __init__(self, loader: PyAsyncDataLoader, batches: Iterator[Sequence[int]]) -> None:
        self._loader = loader
        self._batches = batches

    def __aiter__(self) -> PyAsyncDataLoaderIter:
        return self

    async def __anext__(self) -> list[Any]:
        idx = next(self._batches, None)
        if idx is None:
            raise StopAsyncIteration
        if isinstance(self._loader._dataset, PyDataset):
            return await submit_async(self._loader._fetch, idx)
        return self._loader._fetch(idx)


# ---------------------------------------------------------------- deprecated names (every scheme)
def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated; use {new} (it works on every scheme)", DeprecationWarning, stacklevel=3)


class PyS3Dataset(PyDataset):
    """Deprecated name of PyDataset (works on every scheme, not only s3://)."""

    def __init__(self, uri: str, opts: Any = None, **kw: Any) -> None:
        _deprecated(type(self).__name__, "create_dataset() / PyDataset")
        super().__init__(uri, opts, **kw)


class PyS3DatasetCompat(PyS3Dataset):
    """Deprecated name of PyDataset (works on every scheme)."""


class PyS3AsyncDataLoaderCompat(PyBytesAsyncDataLoader):
    """Deprecated: `PyS3AsyncDataLoader(uri, opts)` is `create_async_loader(uri, opts)` (every scheme)."""

    def __init__(self, uri: str, opts: Any = None, *, options: Any = None) -> None:
        _deprecated("PyS3AsyncDataLoader", "create_async_loader()")
        given = pick_options(opts, options)
        super().__init__(PyDataset(uri, given), given)


PyS3AsyncDataLoader = PyS3AsyncDataLoaderCompat
