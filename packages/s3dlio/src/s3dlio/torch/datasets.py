"""PyTorch datasets over every s3dlio store: ObjectStoreIterableDataset and ObjectStoreMapDataset, and
the deprecated names S3IterableDataset and S3MapDataset.

* The prefix is listed once, at construction, in parallel (and, with `listing_manifest=`, once per job:
  rank 0 writes the listing to that object and the other ranks read it). DataLoader workers receive the
  listing with the dataset (fork or pickle) and never list again.
* The iterable dataset shards by DataLoader worker always (every sample exactly once per epoch, whatever
  `num_workers`) and by rank with `enable_sharding=True` (torch.distributed, or RANK/WORLD_SIZE). The
  epoch order is the same on every rank for one seed; `set_epoch(e)` picks the epoch (as with
  DistributedSampler). Objects are prefetched through the store's bulk path in each worker.
* Mid-epoch resume: `state = ds.state_dict(num_samples=n, loader=dl)` then, in the restarted job,
  `ds.load_state_dict(state)`: the epoch goes on with exactly the samples not read yet (same seed, world
  size and DataLoader batch size / worker count).
* The map dataset has `__getitems__`, so a DataLoader batch is fetched concurrently.
"""

from __future__ import annotations

import os
import warnings
from array import array
from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise
from typing import Any

from s3dlio_core import LengthMismatchError, shared_executor
from s3dlio_ml.loaders.dataset import PyDataset
from s3dlio_ml.loaders.epochs import epoch_indices
from s3dlio_ml.loaders.listing import Listing, list_dataset
from s3dlio_ml.loaders.manifest import shared_listing
from s3dlio_ml.loaders.options import LoaderOptions, parse_options
from s3dlio_ml.loaders.source import StoreSource
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from .batch_block import RowArena, new_block, rows_of, writable_view
from .distributed import group_barrier, rank_and_world, worker_and_count
from .items import ItemConverter

__all__ = ["ObjectStoreIterableDataset", "ObjectStoreMapDataset", "S3IterableDataset", "S3MapDataset",
           "STATE_VERSION"]

STATE_VERSION = 1
# the original's s3dlio.torch defaults (its _normalize_opts: batch_size 1), under the loader defaults;
# prefetch 0 = auto (the original's 8 meant a queue depth; 8 objects ahead leaves the bulk path half idle)
_TORCH_DEFAULTS = {"batch_size": 1, "prefetch": 0}
_OPTION_KWARGS = frozenset({"batch_size", "drop_last", "shuffle", "seed", "num_workers", "prefetch", "auto_tune",
                            "reader_mode", "part_size", "max_inflight_parts", "timeout_seconds"})
_MASK63 = (1 << 63) - 1


def _options(loader_opts: Any, kwargs: dict[str, Any], owner: str) -> LoaderOptions:
    unknown = sorted(set(kwargs) - _OPTION_KWARGS)
    if unknown:
        raise TypeError(f"{owner}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                        f"loader options are {', '.join(sorted(_OPTION_KWARGS))}")
    base: dict[str, Any] = dict(_TORCH_DEFAULTS)
    if loader_opts is not None:
        if isinstance(loader_opts, dict):
            base.update(loader_opts)
        elif type(loader_opts).__name__ == "PyLoaderOptions":
            base.update(loader_opts.to_dict())
        else:
            raise TypeError(f"loader_opts must be a dict or a PyLoaderOptions, got {type(loader_opts).__name__}")
    return parse_options(base, **kwargs)


def _given_keys(loader_opts: Any) -> set[str]:
    if isinstance(loader_opts, dict):
        return set(loader_opts)
    return set()


def _listing(uri: Any, pattern: str | None, manifest: str | None, refresh: bool, source: StoreSource) -> Listing:
    if not isinstance(uri, str):
        raise TypeError(f"uri must be a str, got {type(uri).__name__}")
    if manifest is None:
        return list_dataset(uri, pattern=pattern, source=source)
    rank, _ = rank_and_world()
    return shared_listing(uri, manifest, rank=rank, pattern=pattern, source=source, refresh=refresh,
                          barrier=group_barrier())


def _worker_part(stream: Sequence[int], worker: int, workers: int, block: int) -> Sequence[int]:
    """Worker `worker`'s share of a rank's stream: blocks of `block` positions dealt round-robin."""
    if workers <= 1:
        return stream
    if block == 1:
        return stream[worker::workers]
    out = array("q")
    for lo in range(worker * block, len(stream), block * workers):
        out.extend(stream[lo:lo + block])
    return out


def _uniform_size(sizes: Sequence[int], indices: Sequence[int]) -> int | None:
    """The one listed size of all `indices` (what a batch block needs), or None if unknown, zero or mixed."""
    size = sizes[indices[0]]
    if size <= 0 or any(sizes[i] != size for i in indices):
        return None
    return size


class _ObjectStoreDataset:
    """What both datasets share: the listing, the options and the item conversion."""

    _ds: PyDataset

    def _setup(self, uri: Any, opts: LoaderOptions, *, return_type: str, transform: Callable[[Any], Any] | None,
               pattern: str | None, listing_manifest: str | None, refresh_manifest: bool, store: Any,
               writable: bool, suppress_nonwritable_warning: bool) -> None:
        converter = ItemConverter(return_type, transform)
        source = StoreSource(store)
        listing = _listing(uri, pattern, listing_manifest, refresh_manifest, source)
        self._ds = PyDataset.from_listing(listing, opts, transform=converter, store=store)
        self._uri = uri
        self.return_type = return_type
        # a batch may land in one block (batch_block.py): what default_collate gives is then the block
        self._blockable = return_type == "tensor" and transform is None
        # BytesView is memory of its own: tensors over it are writable without a copy, so `writable` and
        # the non-writable warning it silenced have nothing left to do (kept for the original's signature)
        self.writable = writable
        self.suppress_nonwritable_warning = suppress_nonwritable_warning

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def options(self) -> LoaderOptions:
        return self._ds.options

    @property
    def dataset(self) -> PyDataset:
        """The underlying s3dlio PyDataset."""
        return self._ds

    def keys(self) -> list[str]:
        return self._ds.keys()

    def uris(self) -> list[str]:
        return self._ds.uris()


class ObjectStoreIterableDataset(_ObjectStoreDataset, IterableDataset):
    """Streams the objects under `uri` (any scheme) as uint8 tensors (or BytesViews, or readers).

    `loader_opts` (dict or PyLoaderOptions) or keyword options (`shuffle=True, num_workers=8, ...`) set the
    loader (num_workers here is the number of GETs in flight, not DataLoader workers). `pattern` keeps
    keys matching a glob; `transform` maps each item; `enable_sharding` splits the data between ranks.
    """

    def __init__(self, uri: str | None = None, *, loader_opts: Any = None, writable: bool = False,
                 suppress_nonwritable_warning: bool = True, enable_sharding: bool = False,
                 return_type: str = "tensor", pattern: str | None = None,
                 transform: Callable[[Any], Any] | None = None, listing_manifest: str | None = None,
                 refresh_manifest: bool = False, store: Any = None, **options: Any) -> None:
        super().__init__()
        opts = _options(loader_opts, options, type(self).__name__)
        self._setup(uri, opts, return_type=return_type, transform=transform, pattern=pattern,
                    listing_manifest=listing_manifest, refresh_manifest=refresh_manifest, store=store,
                    writable=writable, suppress_nonwritable_warning=suppress_nonwritable_warning)
        self.enable_sharding = bool(enable_sharding)
        self._rank, self._world = rank_and_world() if self.enable_sharding else (opts.shard_rank,
                                                                                 opts.shard_world_size)
        self._pinned: int | None = None  # set_epoch / load_state_dict
        self._pinned_by_load = False
        self._auto_epoch = 0
        self._resume: dict[str, Any] | None = None
        self._progress = (0, 0)  # (epoch, samples of this rank's epoch read in this process)
        self._warned_epoch = False

    @classmethod
    def from_prefix(cls, uri: str, *, batch_size: int = 1, drop_last: bool = False, shuffle: bool = False,
                    seed: int = 0, num_workers: int = 0, prefetch: int = 0, auto_tune: bool = False,
                    reader_mode: str = "sequential", part_size: int = 8 << 20, max_inflight_parts: int = 4,
                    enable_sharding: bool = False, writable: bool = False,
                    suppress_nonwritable_warning: bool = True, return_type: str = "tensor",
                    **kw: Any) -> ObjectStoreIterableDataset:
        """The original's constructor: options as keywords (prefetch=0: auto, up to 64 objects or
        256 MiB ahead)."""
        opts = {"batch_size": batch_size, "drop_last": drop_last, "shuffle": shuffle, "seed": seed,
                "num_workers": num_workers, "prefetch": prefetch, "auto_tune": auto_tune,
                "reader_mode": reader_mode, "part_size": part_size, "max_inflight_parts": max_inflight_parts}
        return cls(uri, loader_opts=opts, enable_sharding=enable_sharding, writable=writable,
                   suppress_nonwritable_warning=suppress_nonwritable_warning, return_type=return_type, **kw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._uri!r}, {len(self._ds)} objects)"

    # ---- sizes and epochs ----
    def _shard(self) -> tuple[int, int]:
        return (self._rank, self._world)

    def __len__(self) -> int:
        """Samples this rank reads per epoch (over all its DataLoader workers)."""
        rank, world = self._shard()
        return len(epoch_indices(len(self._ds), self._ds.options, 0, shard=rank, shards=world))

    def set_epoch(self, epoch: int) -> None:
        """Read epoch `epoch` (its shuffle order) from now on; call it at the start of every epoch, on
        every rank, as with DistributedSampler."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
        self._pinned = epoch
        self._pinned_by_load = False
        if self._resume is not None and self._resume["epoch"] != epoch:
            self._resume = None

    def _next_epoch(self, base_seed: int | None) -> int:
        if self._pinned is not None:
            e = self._pinned
            if self._pinned_by_load and base_seed is None:  # resumed in this process: later epochs follow
                self._pinned = None
                self._auto_epoch = e + 1
            return e
        e = self._auto_epoch
        self._auto_epoch += 1
        if base_seed is None:
            return e
        # a DataLoader worker: the dataset copy is new each epoch unless persistent_workers, so the
        # DataLoader's per-epoch base seed (shared by this rank's workers) tells epochs apart
        if self._world > 1 and self._ds.options.shuffle and not self._warned_epoch:
            self._warned_epoch = True
            warnings.warn(f"{type(self).__name__}: shuffling across {self._world} ranks without set_epoch(); "
                          "every epoch repeats one order. Call dataset.set_epoch(epoch) each epoch.",
                          UserWarning, stacklevel=3)
            return e
        if self._world > 1:
            return e
        return (e * 0x9E3779B1 + base_seed) & _MASK63

    def _skip(self, epoch: int, worker: int, workers: int) -> int:
        r = self._resume
        if r is None or r["epoch"] != epoch:
            return 0
        n = int(r["num_samples"])
        saved_workers = max(1, int(r.get("loader_num_workers") or 0))
        if workers != saved_workers:
            raise ValueError(f"{type(self).__name__}: the resume state was saved with {saved_workers} DataLoader "
                             f"worker(s) but this DataLoader has {workers}; use the same num_workers")
        if workers == 1:
            return n
        b = int(r["loader_batch_size"])
        k, rem = divmod(n, b)
        full = (k - worker + workers - 1) // workers if k > worker else 0
        return full * b + (rem if k % workers == worker else 0)

    # ---- iteration ----
    def __iter__(self) -> Iterator[Any]:
        worker, workers, base_seed = worker_and_count()
        if self.enable_sharding and base_seed is None:
            self._rank, self._world = rank_and_world()
        rank, world = self._shard()
        epoch = self._next_epoch(base_seed)
        opts = self._ds.options
        mine = _worker_part(epoch_indices(len(self._ds), opts, epoch, shard=rank, shards=world), worker, workers,
                            opts.batch_size)
        skip = self._skip(epoch, worker, workers)
        if base_seed is None:
            self._resume = None  # used; in this process the next epoch starts from its beginning
        self._progress = (epoch, skip)
        todo = mine[skip:]
        stream = self._ds.stream(opts, indices=todo, into=self._arena(todo))
        try:
            for item in stream.items():
                self._progress = (epoch, self._progress[1] + 1)
                yield item
        finally:
            stream.close()

    def _arena(self, todo: Sequence[int]) -> RowArena | None:
        """Rows of shared blocks for this epoch's samples in a DataLoader worker when they are all one size
        (batch_block.py)."""
        if not self._blockable or len(todo) < 2 or get_worker_info() is None:
            return None
        size = _uniform_size(self._ds.listing.sizes, todo)
        if size is None:
            return None
        return RowArena(len(todo), size, shared=True)

    # ---- resume ----
    def state_dict(self, num_samples: int | None = None, *, loader: Any = None, batch_size: int | None = None,
                   num_workers: int | None = None) -> dict[str, Any]:
        """Where this rank is in the current epoch, to resume from after a restart.

        `num_samples`: samples of this epoch the training loop consumed on this rank (default: what this
        dataset yielded in this process, exact when iterated in the main process, DataLoader
        num_workers=0). With DataLoader workers, pass `num_samples` and the DataLoader as `loader` (or
        its `batch_size` and `num_workers`).
        """
        epoch, yielded = self._progress
        if loader is not None:
            batch_size = getattr(loader, "batch_size", None) or 1
            num_workers = getattr(loader, "num_workers", 0)
        n = yielded if num_samples is None else int(num_samples)
        if n < 0:
            raise ValueError(f"num_samples must be >= 0, got {n}")
        workers = int(num_workers or 0)
        if workers > 0 and self._pinned is not None:  # the workers read the epoch set_epoch chose
            epoch = self._pinned
        if workers > 1 and not batch_size:
            raise ValueError("state_dict() with DataLoader workers needs the DataLoader's batch_size "
                             "(pass loader=your_dataloader)")
        o = self._ds.options
        return {"version": STATE_VERSION, "epoch": epoch, "num_samples": n, "seed": o.seed, "shuffle": o.shuffle,
                "rank": self._rank, "world_size": self._world, "dataset_len": len(self._ds),
                "loader_batch_size": int(batch_size or 1), "loader_num_workers": workers}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue the saved epoch with exactly the samples it had not read (same seed, world size,
        dataset and DataLoader layout); ValueError if the state does not fit this dataset."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise ValueError(f"not a {type(self).__name__} state (version {STATE_VERSION}): {state!r}")
        o = self._ds.options
        for key, mine in (("seed", o.seed), ("shuffle", o.shuffle), ("world_size", self._world),
                          ("dataset_len", len(self._ds))):
            if state.get(key) != mine:
                raise ValueError(f"cannot resume: the state has {key}={state.get(key)!r} but this dataset has "
                                 f"{key}={mine!r}")
        self._resume = dict(state)
        self._pinned = int(state["epoch"])
        self._pinned_by_load = True
        self._progress = (self._pinned, int(state["num_samples"]))


class _ReadAhead:
    """Guesses a map dataset's next `__getitems__` batch and fetches it while the current one is used.

    A guess is made only from two calls in a row that asked for runs of consecutive indices of one
    length a constant stride apart (a sequential sampler, or one DataLoader worker's share of it), so a
    shuffled sampler never triggers it; at most one batch is held. Per process: a forked worker starts
    with none (the parent's pending fetch belongs to the parent's threads)."""

    __slots__ = ("pending", "pid", "prev")

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.prev: tuple[int, int] | None = None  # (start, length) of the last consecutive run
        self.pending: tuple[tuple[int, ...], Any] | None = None

    def take(self, idx: list[int]) -> list[Any] | None:
        p, self.pending = self.pending, None
        if p is None or p[0] != tuple(idx):
            return None
        try:
            return p[1].result()
        except Exception:  # fetched again in the caller, so the error surfaces there as usual
            return None

    def guess(self, idx: list[int], n: int, fetch: Any) -> None:
        k = len(idx)
        run = k > 0 and idx[-1] - idx[0] == k - 1 and all(b - a == 1 for a, b in pairwise(idx))
        prev, self.prev = self.prev, ((idx[0], k) if run else None)
        if not run or prev is None or prev[1] != k:
            return
        stride = idx[0] - prev[0]
        if stride < k:
            return
        start = idx[0] + stride
        nxt = list(range(start, min(n, start + k)))
        if len(nxt) == k:
            self.pending = (tuple(nxt), shared_executor("async").submit(fetch, nxt))


class ObjectStoreMapDataset(_ObjectStoreDataset, Dataset):
    """Random access to the objects under `uri` (any scheme): `ds[i]` -> uint8 tensor (or BytesView, or
    reader), `len(ds)`, and `__getitems__` so that a DataLoader batch is fetched concurrently."""

    def __init__(self, uri: str | None = None, *, reader_mode: str = "sequential", part_size: int = 8 << 20,
                 max_inflight_parts: int = 4, writable: bool = False, suppress_nonwritable_warning: bool = True,
                 return_type: str = "tensor", pattern: str | None = None,
                 transform: Callable[[Any], Any] | None = None, loader_opts: Any = None,
                 listing_manifest: str | None = None, refresh_manifest: bool = False, store: Any = None,
                 **options: Any) -> None:
        super().__init__()
        given = _given_keys(loader_opts)
        for key, value, default in (("reader_mode", reader_mode, "sequential"), ("part_size", part_size, 8 << 20),
                                    ("max_inflight_parts", max_inflight_parts, 4)):
            if value != default or key not in given:  # an explicit keyword wins; a default does not
                options[key] = value
        opts = _options(loader_opts, options, type(self).__name__)
        self._setup(uri, opts, return_type=return_type, transform=transform, pattern=pattern,
                    listing_manifest=listing_manifest, refresh_manifest=refresh_manifest, store=store,
                    writable=writable, suppress_nonwritable_warning=suppress_nonwritable_warning)
        self._readahead: _ReadAhead | None = None

    @classmethod
    def from_prefix(cls, uri: str, **kw: Any) -> ObjectStoreMapDataset:
        """The original's constructor (same keywords as the class)."""
        return cls(uri, **kw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._uri!r}, {len(self._ds)} objects)"

    def __len__(self) -> int:
        return len(self._ds)

    def __getitem__(self, i: int) -> Any:
        n = len(self._ds)
        if isinstance(i, bool) or not isinstance(i, int):
            import operator

            i = operator.index(i)
        if not -n <= i < n:
            raise IndexError(i)
        return self._ds.get(i)

    def __getitems__(self, indices: Sequence[int]) -> list[Any]:
        """A batch of items, fetched concurrently through the store's bulk path (and, in the main process
        with a sequential sampler, the next batch fetched ahead while this one is used)."""
        n = len(self._ds)
        idx = []
        for i in indices:
            if not -n <= i < n:
                raise IndexError(i)
            idx.append(i + n if i < 0 else i)
        ra = self._readahead
        if ra is None or ra.pid != os.getpid():
            ra = self._readahead = _ReadAhead()
        out = ra.take(idx)
        if out is None:
            out = self._fetch(idx)
        if get_worker_info() is None:  # DataLoader workers already run ahead (prefetch_factor)
            ra.guess(idx, n, self._fetch)
        return out

    def _fetch(self, idx: list[int]) -> list[Any]:
        """The items of one batch: rows of one block when they can be (batch_block.py), else one buffer
        each."""
        in_worker = get_worker_info() is not None  # in the main process a block gains nothing (measured)
        rows = self._fetch_block(idx) if self._blockable and in_worker and len(idx) > 1 else None
        return rows if rows is not None else self._ds.get_many(idx)

    def _fetch_block(self, idx: list[int]) -> list[Any] | None:
        """The batch received straight into the rows of one shared-memory uint8 block, or None where that
        does not apply (sizes unknown, zero or unequal)."""
        size = _uniform_size(self._ds.listing.sizes, idx)
        if size is None:
            return None
        block = new_block(len(idx), size, shared=True)
        mv = writable_view(block)
        try:
            self._ds.read_into(idx, [mv[j * size:(j + 1) * size] for j in range(len(idx))])
        except LengthMismatchError:  # an object changed since the listing: the ordinary path reads it as it is
            return None
        return rows_of(block)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_readahead"] = None  # a pending fetch belongs to this process
        return state


# ---------------------------------------------------------------- deprecated names
def _deprecated(cls: type) -> None:
    new = cls.__mro__[1].__name__
    warnings.warn(f"{cls.__name__} is deprecated. Use {new} instead - it supports all URI schemes.",
                  DeprecationWarning, stacklevel=3)


class S3IterableDataset(ObjectStoreIterableDataset):
    """Deprecated name of ObjectStoreIterableDataset (every scheme). Takes the original's forms
    (`S3IterableDataset(uri, loader_opts={...})`, `.from_prefix(uri, ...)`), the 0.8.12 form
    (`S3IterableDataset("file:///data/")`) and the spec's (`S3IterableDataset(uri=..., pattern="*.npz",
    shuffle=True, num_workers=4)`)."""

    def __init__(self, uri: str | None = None, **kw: Any) -> None:
        _deprecated(type(self))
        super().__init__(uri, **kw)


class S3MapDataset(ObjectStoreMapDataset):
    """Deprecated name of ObjectStoreMapDataset (every scheme); also the spec's
    `S3MapDataset(uri=..., pattern="*.npz", transform=fn)`."""

    def __init__(self, uri: str | None = None, **kw: Any) -> None:
        _deprecated(type(self))
        super().__init__(uri, **kw)
