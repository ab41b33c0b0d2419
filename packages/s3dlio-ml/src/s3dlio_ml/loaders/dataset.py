"""Datasets: `PyDataset` (objects under a URI, on every scheme) and `PyVecDataset` (a list in memory).

`PyDataset` lists its URI once at construction (recursively, in parallel, sorted, with sizes), so every
DataLoader worker that receives it (forked or pickled) shares that one listing. It keeps the original's
API (`len`, `keys()`, `uris()`, awaitable `get_item(i)`, `from_uris`) and adds what the spec shows:
`ds[i]` (and slices, fetched concurrently), iteration in batches (`for batch in dataset`, one epoch per
iteration, honouring batch_size, drop_last, shuffle, seed and the shard keys), `pattern=` and
`transform=`.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from s3dlio_core import BytesView, LengthMismatchError, S3dlioError, submit_async

from .epochs import EpochCounter, epoch_indices
from .listing import Listing, list_dataset
from .options import LoaderOptions, parse_options, pick_options
from .reader import ObjectReader
from .source import StoreSource
from .stream import ObjectStream

__all__ = ["PyDataset", "PyVecDataset", "PyObjectItem", "DatasetIndexError", "Into"]

#: PyDataset.stream's `into`: (stream positions, object sizes) -> (buffers to read into, items to yield) or None
Into = Callable[[Sequence[int], Sequence[int]], "tuple[Sequence[Any], Sequence[Any]] | None"]


class DatasetIndexError(S3dlioError, IndexError):
    """An index outside the dataset (a RuntimeError, as in the original, and an IndexError)."""


class PyObjectItem(BytesView):
    """One object of `loader.items()`: its bytes (the buffer protocol, `len`, `bytes(item)`) plus `.uri`
    (the dataset key, as in the original) and `.byte_count`. `.data` is the item itself (a BytesView)."""

    __slots__ = ("uri",)

    @property
    def data(self) -> BytesView:
        return self

    @property
    def byte_count(self) -> int:
        return len(self)

    def __repr__(self) -> str:
        return f'PyObjectItem(uri="{getattr(self, "uri", "")}", byte_count={len(self)})'

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_item, (getattr(self, "uri", ""), bytes(self)))


def _rebuild_item(uri: str, data: bytes) -> PyObjectItem:
    item = PyObjectItem(data)
    item.uri = uri
    return item


def _index(i: Any, n: int, *, negative: bool = True) -> int:
    try:
        i = operator.index(i)
    except TypeError:
        raise TypeError(f"dataset indices must be integers or slices, not {type(i).__name__}") from None
    if i < 0:
        if not negative:
            raise OverflowError("can't convert negative int to unsigned")
        i += n
    if not 0 <= i < n:
        raise DatasetIndexError(f"Index {i if i >= 0 else i - n} out of bounds (dataset has {n} files)")
    return i


class PyDataset:
    """The objects under one URI (a prefix, a directory or one object), on every scheme s3dlio serves.

    `PyDataset(uri, opts=None)` is `create_dataset(uri, opts)`. Options come as a dict or a
    PyLoaderOptions (`opts=` or `options=`); `pattern` keeps the keys matching a glob ("*.npz");
    `transform(bytes_view)` is applied to every item read; `store` may be a MultiEndpointStore.
    Raises ObjectNotFoundError for a file:// path that does not exist, InvalidUriError for a bad URI.
    """

    def __init__(self, uri: str, opts: Any = None, *, options: Any = None, pattern: str | None = None,
                 transform: Callable[[Any], Any] | None = None, store: Any = None) -> None:
        self._opts = parse_options(pick_options(opts, options))
        self._source = StoreSource(store)
        self._init(list_dataset(uri, pattern=pattern, source=self._source), transform)
        self._uri = uri

    def _init(self, listing: Listing, transform: Callable[[Any], Any] | None) -> None:
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        self._listing = listing
        self._transform = transform
        self._reader = ObjectReader(self._source, listing, self._opts, transform)
        self._epochs = EpochCounter()

    @classmethod
    def from_uris(cls, uris: Sequence[str], opts: Any = None, *, options: Any = None,
                  transform: Callable[[Any], Any] | None = None, store: Any = None) -> PyDataset:
        """A dataset of exactly these objects, in this order (no listing); keys() = uris() = `uris`."""
        return cls.from_listing(Listing.from_uris(uris), pick_options(opts, options), transform=transform,
                                store=store)

    @classmethod
    def from_listing(cls, listing: Listing, opts: Any = None, *, transform: Callable[[Any], Any] | None = None,
                     store: Any = None) -> PyDataset:
        """A dataset over a listing made earlier (shared by workers, or read from a listing manifest)."""
        self = cls.__new__(cls)
        self._opts = opts if isinstance(opts, LoaderOptions) else parse_options(opts)
        self._source = StoreSource(store)
        self._init(listing, transform)
        self._uri = listing.source_uri
        return self

    # ---- what it holds ----
    def __len__(self) -> int:
        return len(self._listing)

    def keys(self) -> list[str]:
        """Keys: paths relative to the root (file://, direct://), object keys (s3, gs, az), or the URIs
        (from_uris)."""
        return self._listing.keys()

    def uris(self) -> list[str]:
        """Full URIs, in dataset order."""
        return list(self._listing.uris)

    def sizes(self) -> list[int | None]:
        """Object sizes from the listing (None where it did not say)."""
        return [None if s < 0 else s for s in self._listing.sizes]

    @property
    def uri(self) -> str | None:
        return self._uri

    @property
    def options(self) -> LoaderOptions:
        return self._opts

    @property
    def listing(self) -> Listing:
        return self._listing

    @property
    def transform(self) -> Callable[[Any], Any] | None:
        return self._transform

    def __repr__(self) -> str:
        where = f"{self._uri!r}" if self._uri else "from_uris"
        return f"PyDataset({where}, {len(self)} objects)"

    # ---- reading ----
    def get(self, i: int) -> Any:
        """Item `i` (negative counts from the end), transformed if a transform was given."""
        v = self._reader.read(_index(i, len(self)))
        return self._transform(v) if self._transform is not None else v

    def get_item(self, i: int) -> Awaitable[Any]:
        """An awaitable of item `i` (the original's API: negative indices raise OverflowError)."""
        i = _index(i, len(self), negative=False)
        return submit_async(self.get, i)

    def get_many(self, indices: Sequence[int]) -> list[Any]:
        """Items `indices`, fetched concurrently through the store's bulk path, in order."""
        n = len(self)
        idx = [_index(i, n) for i in indices]
        return self._reader.read_many(idx, self._opts.concurrency(self._listing.typical_size()))

    def read_into(self, indices: Sequence[int], buffers: Sequence[Any]) -> list[int]:
        """Items `indices` read into the caller's writable buffers (one each, exactly the object's size:
        `sizes()` from the listing says how large), concurrently through the store's bulk path; no
        transform. What a framework adapter uses to land a batch in memory of its own (a shared-memory
        block a DataLoader worker hands over without a copy). Raises LengthMismatchError naming the object
        whose size differs from its buffer."""
        n = len(self)
        idx = [_index(i, n) for i in indices]
        return self._reader.read_many_into_buffers(idx, buffers, self._opts.concurrency(self._listing.typical_size()))

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return self.get_many(range(*i.indices(len(self))))
        return self.get(i)

    # ---- iteration: one epoch of batches ----
    def set_epoch(self, epoch: int) -> None:
        """Run epoch `epoch` next (its shuffle order); later iterations continue from there."""
        self._epochs.set_epoch(epoch)

    def stream(self, opts: LoaderOptions | None = None, *, epoch: int | None = None, skip: int = 0,
               items: bool = False, indices: Sequence[int] | None = None, into: Into | None = None) -> ObjectStream:
        """A prefetched stream of one epoch (the next one unless `epoch` is given) under `opts` (default:
        the dataset's), or of exactly `indices`. `items`: PyObjectItem results (their bytes read straight
        into them).

        `into(positions, sizes)`: buffers of the caller's for a chunk of the stream (its positions in the
        stream, and the objects' sizes from the listing), as `(buffers, items)`: the objects are read into
        `buffers` and the stream yields `items` (no transform), e.g. rows of one shared-memory block; None
        (or an object whose size differs from its buffer) reads that chunk the ordinary way."""
        o = opts or self._opts
        self._hygiene_check()
        if indices is not None:
            idx = indices
        else:
            e = self._epochs.start() if epoch is None else epoch
            idx = epoch_indices(len(self), o, e, skip=skip)
        typical = self._listing.typical_size()
        if into is not None:
            return self._stream_into(idx, o, typical, into)
        if items:
            listing = self._listing

            def fetch(chunk: Sequence[int], width: int) -> list[Any]:
                out = self._reader.read_many_into(chunk, width, PyObjectItem)
                for i, item in zip(chunk, out, strict=True):
                    item.uri = listing.key(i)
                return out
        else:
            read_many = self._reader.read_many

            def fetch(chunk: Sequence[int], width: int) -> list[Any]:
                return read_many(chunk, width)

        return ObjectStream(idx, fetch, concurrency=o.concurrency(typical), lookahead=o.lookahead(typical),
                            batch_size=o.batch_size, timeout=o.timeout_seconds)

    def _stream_into(self, idx: Sequence[int], o: LoaderOptions, typical: int | None, into: Into) -> ObjectStream:
        sizes = self._listing.sizes
        read_many, read_into = self._reader.read_many, self._reader.read_many_into_buffers

        def fetch(positions: Sequence[int], width: int) -> list[Any]:
            ids = [idx[p] for p in positions]
            given = into(positions, [sizes[i] for i in ids])
            if given is not None:
                bufs, out = given
                try:
                    read_into(ids, bufs, width)
                    return list(out)
                except LengthMismatchError:  # an object changed since the listing: read it as it is now
                    pass
            return read_many(ids, width)

        return ObjectStream(range(len(idx)), fetch, concurrency=o.concurrency(typical),
                            lookahead=o.lookahead(typical), batch_size=o.batch_size, timeout=o.timeout_seconds)

    def _hygiene_check(self) -> None:
        """Warn once per dataset (BenchmarkHygieneWarning) when it is small enough for caches to serve it."""
        if getattr(self, "_hygiene_done", False):
            return
        self._hygiene_done = True
        sizes = self._listing.sizes
        if self._uri and len(sizes) and min(sizes) >= 0:
            from s3dlio_core.hygiene import warn_if_cacheable

            from .options import user_stacklevel

            warn_if_cacheable(sum(sizes), self._uri, stacklevel=user_stacklevel() + 1)

    def __iter__(self) -> Iterator[list[Any]]:
        """Batches of `batch_size` items of the next epoch (last one partial unless drop_last)."""
        s = self.stream()
        try:
            while (batch := s.next_batch()) is not None:
                yield batch
        finally:
            s.close()


class PyVecDataset:
    """A dataset of values held in memory (the original's PyVecDataset of ints), for PyAsyncDataLoader."""

    __slots__ = ("_items",)

    def __init__(self, items: Sequence[Any]) -> None:
        if isinstance(items, (str, bytes)):
            raise TypeError(f"PyVecDataset needs a sequence of items, got {type(items).__name__}")
        self._items = list(items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: int) -> Any:
        n = len(self._items)
        try:
            return self._items[_index(i, n)]
        except DatasetIndexError:
            raise DatasetIndexError(f"Index {i} out of range") from None

    def __repr__(self) -> str:
        return f"PyVecDataset({len(self._items)} items)"

    def __getstate__(self) -> list[Any]:
        return self._items

    def __setstate__(self, state: list[Any]) -> None:
        self._items = state
