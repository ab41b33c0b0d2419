"""PyTorch Distributed Checkpoint (DCP) storage on every s3dlio scheme (s3://, gs://, az://, file://,
direct://, memory://).

`StorageWriter(uri)` and `StorageReader(uri)` implement `torch.distributed.checkpoint`'s StorageWriter
and StorageReader on the store protocol, so `dcp.save` and `dcp.load` work on any store, as torch's
documentation writes them::

    import torch.distributed.checkpoint as dcp
    from s3dlio.torch.dcp import StorageReader, StorageWriter

    dcp.save({"model": model.state_dict(), "optim": optim.state_dict()},
             storage_writer=StorageWriter("s3://bucket/run1/step-100/"))
    state = {"model": model.state_dict(), "optim": optim.state_dict()}
    dcp.load(state, storage_reader=StorageReader("s3://bucket/run1/step-100/"))
    model.load_state_dict(state["model"])

Layout: the same as torch's `FileSystemWriter` (one `__{rank}_{n}.distcp` file per write bucket, each
tensor in `torch.save` format at the offset the metadata records, and a pickled `.metadata`), so a
checkpoint written here loads with torch's `FileSystemReader` (or s3torchconnector's reader on S3), and
the other way round.

Saving (each rank): the rank's write items are split into `thread_count` buckets of about equal size
(one file each, as `FileSystemWriter` does); the files are written in parallel on a pool of
`thread_count` threads, each streamed through the store's `open_writer` (parts uploaded in parallel,
committed atomically at close: no partial file ever appears under its name). A tensor's bytes are not
copied into part buffers: torch.save hands over its storage and whole parts are uploaded straight from it
(`ObjectWriter.write_borrowed`), so the memory a save needs beyond the state dict is a part or two per
file in flight. The coordinator deletes an existing `.metadata` before any rank writes (an overwrite that
fails is not loadable) and writes the new one last, in `finish`, which torch calls only after every rank's
files are committed: a failed save leaves no `.metadata`.

Loading (each rank): the read items are grouped per file; small items and the headers and trailers of
large ones are fetched with one coalesced `get_ranges` call per window of a file, and a large tensor's
bytes go from the store straight into the storage that `torch.load` allocates (`get_range_into`; on S3
split into parallel ranged GETs). Files and large items load in parallel on `thread_count` threads.
Tensors are loaded with `weights_only=True`. The `.metadata` file is a pickle (DCP's format): it is read
with an unpickler that admits only DCP's metadata classes, torch sizes and dtypes and plain containers, so
a crafted `.metadata` cannot run code (UnsafeCheckpointError names the global it asked for). Non-tensor
items (plain values in the state dict) are unpickled by the planner you pass to `dcp.load` (torch's
DefaultLoadPlanner uses `torch.load(weights_only=False)` on them), so for checkpoints from others load
tensors only, or pass a planner of your own.

torch is imported here only: the module is imported when used.
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as _wait_all
from typing import Any

import torch
from s3dlio_core.errors import InvalidUriError, S3dlioError
from s3dlio_core.registry import new_store, store_for_uri
from s3dlio_core.store import ObjectStore
from s3dlio_core.store_config import StoreConfig
from s3dlio_core.uri import parse_uri
from torch.distributed._shard._utils import narrow_tensor_by_index
from torch.distributed.checkpoint import storage as _dcp_storage

# the index entry torch's FileSystemReader expects in Metadata.storage_data: using torch's own class keeps
# checkpoints written here loadable by torch's reader (and by s3torchconnector's, which subclasses it)
from torch.distributed.checkpoint.filesystem import _StorageInfo
from torch.distributed.checkpoint.metadata import Metadata, StorageMeta
from torch.distributed.checkpoint.planner import (
    LoadItemType,
    LoadPlan,
    LoadPlanner,
    ReadItem,
    SavePlan,
    SavePlanner,
    WriteItem,
    WriteItemType,
)
from torch.distributed.checkpoint.storage import WriteResult
from torch.futures import Future

from .serialize import RestrictedUnpickler

__all__ = ["StorageWriter", "StorageReader", "CheckpointExistsError", "UnsafeCheckpointError", "DEFAULT_THREAD_COUNT"]

METADATA = ".metadata"
SUFFIX = ".distcp"
DEFAULT_THREAD_COUNT = 4
MiB = 1 << 20
WHOLE_ITEM = 4 * MiB  # items up to this size are fetched whole (coalesced with their neighbours)
EDGE = 64 << 10  # for larger items: the header and trailer fetched with them (torch.load's small reads)
WINDOW = 128 * MiB  # at most this many bytes of small items per coalesced get_ranges call
COALESCE_GAP = 1 * MiB


class CheckpointExistsError(S3dlioError, FileExistsError):
    """A DCP checkpoint already exists at the URI and the writer was made with overwrite=False."""


class UnsafeCheckpointError(S3dlioError):
    """A DCP `.metadata` pickle asked for a global outside DCP's metadata types (it could run code)."""


# what a DCP `.metadata` pickle may name beyond the weights-only set (containers, scalars, numpy arrays):
# DCP's metadata dataclasses, torch's Size/dtype/layout/memory format, the dataclass/copyreg
# reconstruction helpers and paths; nothing that runs code
_SAFE_MODULE_PREFIXES = ("torch.distributed.checkpoint.", "torch.distributed.tensor.placement_types")
_DCP_GLOBALS = {
    ("collections", "defaultdict"), ("copyreg", "_reconstructor"), ("copyreg", "__newobj__"),
    ("builtins", "object"), ("torch", "Size"), ("enum", "Enum"),
    ("torch.serialization", "_get_layout"),  # a lookup of torch.layout by name
    ("pathlib", "PosixPath"), ("pathlib", "PurePosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "PureWindowsPath"),
    ("s3dlio_checkpoint.dcp", "_FilePrefix"),
}


class _MetadataUnpickler(RestrictedUnpickler):
    def __init__(self, data: Any, uri: str) -> None:
        super().__init__(io.BytesIO(data))
        self._uri = uri

    def allows(self, module: str, name: str) -> bool:
        if super().allows(module, name) or (module, name) in _DCP_GLOBALS or module.startswith(_SAFE_MODULE_PREFIXES):
            return True
        return module == "torch" and isinstance(getattr(torch, name, None),
                                                (torch.dtype, torch.layout, torch.memory_format))

    def refusal(self, module: str, name: str) -> Exception:
        return UnsafeCheckpointError(
            f"{self._uri}: refusing to load DCP metadata that names {module}.{name} (only DCP metadata "
            f"types, torch sizes and dtypes are allowed; a pickle naming other globals can run code)",
            self._uri,
        )


# ------------------------------------------------------------------------------------------------ helpers
def _checkpoint_uri(uri: Any, what: str) -> str:
    """The checkpoint's directory URI, ending in '/'. A path object means a local directory (file://)."""
    if isinstance(uri, os.PathLike):
        uri = "file://" + os.path.abspath(os.fspath(uri))
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidUriError(
            f"{what} needs a checkpoint URI string such as s3://bucket/ckpt/ or "
            f"file:///path/ckpt/, got {uri!r}",
            uri if isinstance(uri, str) else None,
        )
    try:
        u = parse_uri(uri)
    except InvalidUriError as e:
        raise InvalidUriError(f"{what}: invalid checkpoint URI {uri!r}: {e}", uri) from e
    if u.scheme in ("s3", "gs", "az") and not u.bucket:
        raise InvalidUriError(f"{what}: the checkpoint URI {uri!r} names no bucket", uri)
    return uri if uri.endswith("/") else uri + "/"


def _thread_count(value: int | None, what: str) -> int:
    if value is None:
        return DEFAULT_THREAD_COUNT
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what}: thread_count must be an integer >= 1, got {value!r}")
    return value


def _open_store(uri: str, config: StoreConfig | None) -> ObjectStore:
    return store_for_uri(uri)[0] if config is None else new_store(uri, config)


def _item_size(item: WriteItem) -> int:
    td = item.tensor_data
    if td is None:
        return 0
    n = 1
    for s in td.size:
        n *= s
    return n * torch._utils._element_size(td.properties.dtype)


def _buckets(n: int, items: list[WriteItem]) -> list[list[WriteItem]]:
    """`items` in `n` buckets: byte items round-robin, tensors largest first into the lightest bucket (the
    split torch's FileSystemWriter makes). Empty buckets are dropped."""
    if n <= 1:
        return [items] if items else []
    buckets: list[list[WriteItem]] = [[] for _ in range(n)]
    sizes = [0] * n
    byte_items = [wi for wi in items if wi.type == WriteItemType.BYTE_IO]
    tensor_items = sorted(
        (wi for wi in items if wi.type != WriteItemType.BYTE_IO), key=_item_size, reverse=True
    )
    for i, wi in enumerate(byte_items):
        buckets[i % n].append(wi)
    for wi in tensor_items:
        k = min(range(n), key=sizes.__getitem__)
        buckets[k].append(wi)
        sizes[k] += _item_size(wi)
    return [b for b in buckets if b]


def _run_all(tasks: list[Callable[[], Any]], threads: int, name: str) -> Future:
    """Run `tasks` on a pool of `threads` and return a torch Future of their results (in task order), set
    when all are done, or to the first failure (tasks not yet started are cancelled)."""
    fut: Future = Future()
    if not tasks:
        fut.set_result([])
        return fut
    if threads <= 1 or len(tasks) == 1:
        try:
            fut.set_result([t() for t in tasks])
        except BaseException as e:
            fut.set_exception(e)
        return fut
    pool = ThreadPoolExecutor(max_workers=min(threads, len(tasks)), thread_name_prefix=name)
    futures = [pool.submit(t) for t in tasks]
    lock = threading.Lock()
    state = {"left": len(futures), "done": False}

    def on_done(f: Any) -> None:
        with lock:
            if state["done"]:
                return
            state["left"] -= 1
            err = None if f.cancelled() else f.exception()
            if err is None and state["left"]:
                return
            state["done"] = True
        if err is not None:
            for other in futures:
                other.cancel()
            _wait_all([x for x in futures if not x.cancelled()])
            fut.set_exception(err)
        else:
            fut.set_result([x.result() for x in futures])
        pool.shutdown(wait=False)

    for f in futures:
        f.add_done_callback(on_done)
    return fut


# ------------------------------------------------------------------------------------------------ writer
@dataclasses.dataclass
class _FilePrefix:
    """A rank's file name prefix (`__{rank}_`), carried in SavePlan.storage_data."""

    prefix: str


class _TensorSink:
    """The file object torch.save writes one tensor into: the tensor's storage (torch.save hands it over as
    one memoryview of the storage itself) is passed on borrowed, the small zip records are copied."""

    __slots__ = ("_storage_bytes", "_w")

    def __init__(self, writer: Any, storage_bytes: int) -> None:
        self._w = writer
        self._storage_bytes = storage_bytes

    def write(self, data: Any) -> int:
        mv = memoryview(data)
        if mv.nbytes == self._storage_bytes and mv.nbytes >= MiB:
            return self._w.write_borrowed(mv)  # type: ignore[no-any-return]
        return self._w.write(mv)  # type: ignore[no-any-return]

    def tell(self) -> int:
        return self._w.tell()  # type: ignore[no-any-return]

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True


class StorageWriter(_dcp_storage.StorageWriter):
    """Writes a DCP checkpoint under `uri` (any scheme) for `torch.distributed.checkpoint.save`.

    `thread_count` files are written in parallel per rank (default 4; one file per bucket of the rank's
    items, or one per item with `single_file_per_rank=False`). `overwrite=False` raises
    CheckpointExistsError when a `.metadata` is already there. `config` (a StoreConfig, e.g. an S3 config
    with endpoint and credentials) makes a store of its own; without it the shared environment-configured
    store is used. Raises InvalidUriError naming `uri` when it is not a checkpoint URI.
    """

    def __init__(
        self,
        uri: str | os.PathLike[str],
        *,
        thread_count: int | None = None,
        overwrite: bool = True,
        single_file_per_rank: bool = True,
        config: StoreConfig | None = None,
    ) -> None:
        super().__init__()
        self.uri = _checkpoint_uri(uri, "StorageWriter")
        self.thread_count = _thread_count(thread_count, "StorageWriter")
        self.overwrite = bool(overwrite)
        self.single_file_per_rank = bool(single_file_per_rank)
        self.config = config
        self.store = _open_store(self.uri, config)
        self.save_id = str(uuid.uuid4())
        self.is_coordinator = False
        self.rank: int | None = None
        self.use_collectives = True

    def __repr__(self) -> str:
        return f"StorageWriter({self.uri!r}, thread_count={self.thread_count}, overwrite={self.overwrite})"

    # ---- the StorageWriter interface, in the order torch calls it ----
    def reset(self, checkpoint_id: str | os.PathLike[str] | None = None) -> None:
        """Start a new save (to `checkpoint_id` when given: dcp.save(checkpoint_id=...))."""
        if checkpoint_id:
            uri = _checkpoint_uri(checkpoint_id, "StorageWriter")
            if uri != self.uri:
                self.uri = uri
                self.store = _open_store(uri, self.config)
        self.save_id = str(uuid.uuid4())

    def set_up_storage_writer(self, is_coordinator: bool, *args: Any, **kwargs: Any) -> None:
        self.is_coordinator = is_coordinator
        self.rank = kwargs.get("rank")
        self.use_collectives = kwargs.get("use_collectives", True)

    def storage_meta(self) -> StorageMeta | None:
        return StorageMeta(checkpoint_id=self.uri, save_id=self.save_id)

    @property
    def checkpoint_id(self) -> str:
        return self.uri

    def _metadata_uri(self) -> str:
        if not self.use_collectives and self.rank is not None:
            return f"{self.uri}__{self.rank}{METADATA}"
        return self.uri + METADATA

    def prepare_local_plan(self, plan: SavePlan) -> SavePlan:
        """On the rank that writes the metadata: refuse (overwrite=False) or remove an existing `.metadata`
        before any rank writes data, so an overwrite that fails is not loadable."""
        if self.is_coordinator or not self.use_collectives:
            meta = self._metadata_uri()
            if self.store.exists(meta):
                if not self.overwrite:
                    raise CheckpointExistsError(
                        f"a DCP checkpoint already exists at {self.uri} ({meta}) and overwrite=False", meta
                    )
                self.store.delete(meta)
        if not self.use_collectives and self.rank is not None:
            plan = dataclasses.replace(plan, storage_data=_FilePrefix(f"__{self.rank}_"))
        return plan

    def prepare_global_plan(self, plans: list[SavePlan]) -> list[SavePlan]:
        return [
            dataclasses.replace(p, storage_data=_FilePrefix(f"__{i}_")) if p.storage_data is None else p
            for i, p in enumerate(plans)
        ]

    def write_data(self, plan: SavePlan, planner: SavePlanner) -> Future:
        """Write this rank's items, `thread_count` files at a time; the Future gives the WriteResults."""
        prefix = plan.storage_data.prefix
        groups = (
            _buckets(self.thread_count, list(plan.items))
            if self.single_file_per_rank
            else [[it] for it in plan.items]
        )
        lock = threading.Lock()
        tasks = [
            (lambda name=f"{prefix}{i}{SUFFIX}", items=items: self._write_file(name, items, planner, lock))
            for i, items in enumerate(groups)
        ]
        fut = _run_all(tasks, self.thread_count, "s3dlio-dcp-write")
        return fut.then(lambda f: [r for rs in f.value() for r in rs])

    def _write_file(
        self, name: str, items: list[WriteItem], planner: SavePlanner, lock: threading.Lock
    ) -> list[WriteResult]:
        """One file: byte items first, then tensors in torch.save format; committed at close."""
        uri = self.uri + name
        results: list[WriteResult] = []
        held: list[Any] = []  # tensors whose storage parts are uploaded borrowed: alive until commit
        if self.store.capabilities.directories:
            # on a local filesystem, renaming the new file over an old one of the same name makes ext4 (and
            # others) write the new one back first, synchronously (a 5x slower save measured): remove the
            # old file first. Its .metadata is already gone (prepare_local_plan), so nothing loadable breaks.
            self.store.delete(uri)
        w = self.store.open_writer(uri)
        try:
            for item in items:
                if item.type != WriteItemType.BYTE_IO:
                    continue
                with lock:
                    data = planner.resolve_data(item)
                offset = w.tell()
                w.write(data.getbuffer() if isinstance(data, io.BytesIO) else data)
                results.append(self._result(item, name, offset, w.tell() - offset))
            for item in items:
                if item.type == WriteItemType.BYTE_IO:
                    continue
                with lock:
                    t = planner.resolve_data(item)
                t = t.detach()
                if t.device.type != "cpu":
                    t = t.cpu()
                if t.untyped_storage().nbytes() != t.numel() * t.element_size():
                    t = t.clone()  # torch.save writes the whole storage: save only this view's bytes
                offset = w.tell()
                torch.save(t, _TensorSink(w, t.untyped_storage().nbytes()))  # type: ignore[arg-type]
                held.append(t)
                results.append(self._result(item, name, offset, w.tell() - offset))
            w.close()
        except BaseException:
            w.abort()
            raise
        finally:
            held.clear()
        return results

    @staticmethod
    def _result(item: WriteItem, name: str, offset: int, length: int) -> WriteResult:
        return WriteResult(
            index=item.index,
            size_in_bytes=length,
            storage_data=_StorageInfo(relative_path=name, offset=offset, length=length),
        )

    def finish(self, metadata: Metadata, results: list[list[WriteResult]]) -> None:
        """Write `.metadata` (torch calls this on the coordinator once every rank's files are committed)."""
        metadata.version = "1.0.0"
        metadata.storage_data = {wr.index: wr.storage_data for rs in results for wr in rs}
        metadata.storage_meta = self.storage_meta()
        with self.store.open_writer(self._metadata_uri()) as w:
            pickle.dump(metadata, w)  # type: ignore[arg-type]

    @classmethod
    def validate_checkpoint_id(cls, checkpoint_id: str | os.PathLike[str]) -> bool:
        """True for a URI with a scheme s3dlio serves (not a bare local path: torch's own writer takes that)."""
        if not isinstance(checkpoint_id, str) or "://" not in checkpoint_id:
            return False
        try:
            _checkpoint_uri(checkpoint_id, "StorageWriter")
        except S3dlioError:
            return False
        return True


# ------------------------------------------------------------------------------------------------ reader
class _ItemView(io.RawIOBase):
    """A seekable read-only file over one item's bytes [0, length) of a stored file.

    Bytes held in memory (`pieces`: (position, memoryview) pairs; the whole item, or its header and trailer)
    serve torch.load's small reads; a read outside them goes from the store straight into the caller's
    buffer (the tensor storage torch allocates)."""

    def __init__(
        self, store: ObjectStore, uri: str, base: int, length: int, pieces: list[tuple[int, memoryview]]
    ) -> None:
        super().__init__()
        self._store = store
        self._uri = uri
        self._base = base
        self._len = length
        self._pieces = pieces
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            pos += self._pos
        elif whence == io.SEEK_END:
            pos += self._len
        if pos < 0:
            raise ValueError(f"negative seek position {pos} in {self._uri}")
        self._pos = pos
        return pos

    def readinto(self, b: Any) -> int:
        dst = memoryview(b).cast("B")
        n = min(dst.nbytes, self._len - self._pos)
        if n <= 0:
            return 0
        p = self._pos
        for start, mv in self._pieces:
            if start <= p and p + n <= start + mv.nbytes:
                dst[:n] = mv[p - start : p - start + n]
                break
        else:
            got = self._store.get_range_into(self._uri, self._base + p, dst[:n])
            if got != n:
                raise S3dlioError(
                    f"{self._uri} ended early: {got} of {n} bytes at offset {self._base + p}", self._uri
                )
        self._pos = p + n
        return n


class StorageReader(_dcp_storage.StorageReader):
    """Reads a DCP checkpoint under `uri` (any scheme) for `torch.distributed.checkpoint.load`.

    Reads are planned per file (coalesced ranges for small items, straight-into-the-tensor reads for large
    ones) and run on `thread_count` threads (default 4). `config` as for StorageWriter. Raises
    InvalidUriError naming `uri` when it is not a checkpoint URI; loading a checkpoint with no `.metadata`
    raises the store's ObjectNotFoundError naming it.
    """

    def __init__(
        self,
        uri: str | os.PathLike[str],
        *,
        thread_count: int | None = None,
        config: StoreConfig | None = None,
    ) -> None:
        super().__init__()
        self.uri = _checkpoint_uri(uri, "StorageReader")
        self.thread_count = _thread_count(thread_count, "StorageReader")
        self.config = config
        self.store = _open_store(self.uri, config)
        self.storage_data: dict[Any, Any] = {}
        self.load_id = str(uuid.uuid4())
        self.rank: int | None = None
        self.use_collectives = True

    def __repr__(self) -> str:
        return f"StorageReader({self.uri!r}, thread_count={self.thread_count})"

    @property
    def checkpoint_id(self) -> str:
        return self.uri

    def reset(self, checkpoint_id: str | os.PathLike[str] | None = None) -> None:
        self.storage_data = {}
        if checkpoint_id:
            uri = _checkpoint_uri(checkpoint_id, "StorageReader")
            if uri != self.uri:
                self.uri = uri
                self.store = _open_store(uri, self.config)
        self.load_id = str(uuid.uuid4())

    def read_metadata(self, *args: Any, **kwargs: Any) -> Metadata:
        """The checkpoint's `.metadata` (`__{rank}.metadata` when torch asks for a rank's own)."""
        rank = kwargs.get("rank")
        name = METADATA if rank is None else f"__{rank}{METADATA}"
        metadata = _MetadataUnpickler(self.store.get(self.uri + name), self.uri + name).load()
        if not isinstance(metadata, Metadata):
            raise S3dlioError(
                f"{self.uri + name} does not hold DCP metadata (found {type(metadata).__name__})",
                self.uri + name,
            )
        if getattr(metadata, "storage_meta", None) is None:
            metadata.storage_meta = StorageMeta()
        metadata.storage_meta.load_id = self.load_id  # type: ignore[union-attr]
        return metadata

    def set_up_storage_reader(
        self, metadata: Metadata, is_coordinator: bool, *args: Any, **kwargs: Any
    ) -> None:
        if metadata.storage_data is None:
            raise S3dlioError(f"the DCP metadata of {self.uri} has no storage_data", self.uri)
        self.storage_data = metadata.storage_data
        self.rank = kwargs.get("rank")
        self.use_collectives = kwargs.get("use_collectives", True)

    def prepare_local_plan(self, plan: LoadPlan) -> LoadPlan:
        return plan

    def prepare_global_plan(self, plans: list[LoadPlan]) -> list[LoadPlan]:
        return plans

    def read_data(self, plan: LoadPlan, planner: LoadPlanner) -> Future:
        """Load this rank's items: per file, windows of small items fetched with one coalesced request set,
        large tensors read straight into their storage; in parallel on `thread_count` threads."""
        per_file: dict[str, list[tuple[ReadItem, Any]]] = {}
        for req in plan.items:
            info = self.storage_data[req.storage_index]
            per_file.setdefault(info.relative_path, []).append((req, info))
        lock = threading.Lock()
        tasks: list[Callable[[], Any]] = []
        for name, reqs in per_file.items():
            reqs.sort(key=lambda r: r[1].offset)
            uri = self.uri + name
            small = [r for r in reqs if r[1].length <= WHOLE_ITEM]
            large = [r for r in reqs if r[1].length > WHOLE_ITEM]
            for window in _windows(small, WINDOW):
                tasks.append(lambda uri=uri, window=window: self._read_items(uri, window, planner, lock))
            for r in large:
                tasks.append(lambda uri=uri, r=r: self._read_items(uri, [r], planner, lock))
        # the largest first, so a big tensor does not start last and run alone
        tasks.reverse()
        return _run_all(tasks, self.thread_count, "s3dlio-dcp-read").then(lambda f: None)

    def _read_items(
        self, uri: str, reqs: list[tuple[ReadItem, Any]], planner: LoadPlanner, lock: threading.Lock
    ) -> None:
        spans: list[tuple[int, int]] = []
        for _, info in reqs:
            if info.length <= WHOLE_ITEM:
                spans.append((info.offset, info.length))
            else:
                spans.append((info.offset, EDGE))
                spans.append((info.offset + info.length - EDGE, EDGE))
        got = iter(self.store.get_ranges(uri, spans, coalesce_gap=COALESCE_GAP))
        for req, info in reqs:
            if getattr(info, "transform_descriptors", None):
                raise S3dlioError(
                    f"{uri}: item {req.storage_index.fqn} was written with stream transforms "
                    f"{info.transform_descriptors}, which StorageReader does not read",
                    uri,
                )
            if info.length <= WHOLE_ITEM:
                pieces = [(0, next(got))]
            else:
                pieces = [(0, next(got)), (info.length - EDGE, next(got))]
            view = _ItemView(self.store, uri, info.offset, info.length, pieces)
            if req.type == LoadItemType.BYTE_IO:
                data = io.BytesIO(view.read())
                with lock:
                    planner.load_bytes(req, data)
                continue
            tensor = torch.load(view, map_location="cpu", weights_only=True)  # type: ignore[arg-type]
            tensor = narrow_tensor_by_index(tensor, req.storage_offsets, req.lengths)
            with lock:
                target = planner.resolve_tensor(req).detach()
            if target.size() != tensor.size():
                raise S3dlioError(
                    f"{uri}: item {req.storage_index.fqn} has size {tuple(tensor.size())} but "
                    f"the state dict expects {tuple(target.size())}",
                    uri,
                )
            target.copy_(tensor)
            with lock:
                planner.commit_tensor(req, target)

    @classmethod
    def validate_checkpoint_id(cls, checkpoint_id: str | os.PathLike[str]) -> bool:
        return StorageWriter.validate_checkpoint_id(checkpoint_id)


def _windows(reqs: Iterable[tuple[ReadItem, Any]], limit: int) -> list[list[tuple[ReadItem, Any]]]:
    """Consecutive (offset-sorted) items grouped so each group spans at most about `limit` bytes."""
    out: list[list[tuple[ReadItem, Any]]] = []
    cur: list[tuple[ReadItem, Any]] = []
    total = 0
    for r in reqs:
        if cur and total + r[1].length > limit:
            out.append(cur)
            cur, total = [], 0
        cur.append(r)
        total += r[1].length
    if cur:
        out.append(cur)
    return out
