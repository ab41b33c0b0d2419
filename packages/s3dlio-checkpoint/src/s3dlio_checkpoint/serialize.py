"""Turning checkpoint objects into a byte stream and back, for the spec's `save_checkpoint(data={...})`.

* An object that holds a torch tensor (a state dict, an optimizer state) is written with `torch.save`
  (torch's own zip format) straight into the shard's streaming writer: each tensor's storage goes from its
  memory to the writer, so no serialised copy of the whole checkpoint is ever held in memory.
* Anything else (plain dicts, lists, numbers, strings, numpy arrays) is written with pickle protocol 5 into
  the same writer, so bytes and plain dicts checkpoint without torch installed. torch is imported only
  when a tensor is present or a torch-format checkpoint is loaded.
* Loading is safe by default (`weights_only=True`): torch-format checkpoints go through
  `torch.load(weights_only=True)`, pickle-format ones through an unpickler that only builds containers,
  scalars and numpy arrays. Running a pickle's code is an explicit opt-in (`weights_only=False`).

The format is recorded in the manifest's `user_meta` (`{"s3dlio": {"serialization": ...}}`).
"""

from __future__ import annotations

import bisect
import io
import itertools
import pickle
import sys
from collections.abc import Mapping
from typing import Any

from s3dlio_core.buffer_address import buffer_address

from .errors import CheckpointError
from .shard_io import BufferReader

__all__ = [
    "TORCH",
    "PICKLE",
    "RAW",
    "choose_format",
    "dump",
    "load",
    "format_of",
    "meta_for",
    "framework_for",
    "RestrictedUnpickler",
]

TORCH = "torch.save"
PICKLE = "pickle"
RAW = "raw"
META_KEY = "s3dlio"
#: torch.save computes a CRC-32 of every record (tensor) as it writes, which costs about as much as the
#: write itself on a fast disk. A shard already carries a CRC-32C of all its bytes (in the manifest,
#: checked by load_checkpoint_with_validation), so ours skip torch's (torch.set_crc32_options(False)
#: semantics: torch.load reads such archives; a zip tool's `-t` test would report the record CRCs as
#: wrong). Set True to have torch compute them as well.
TORCH_RECORD_CRC32 = False
SCAN_LIMIT = 10_000  # items of one list or tuple looked at when deciding whether torch.save is needed


def _is_tensor(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _holds_tensor(obj: Any, depth: int = 0) -> bool:
    torch = sys.modules.get("torch")
    if torch is None or depth > 64:
        return False
    if _is_tensor(obj):
        return True
    if isinstance(obj, Mapping):
        return any(_holds_tensor(v, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):  # a long list of numbers: its head decides
        return any(_holds_tensor(v, depth + 1) for v in itertools.islice(obj, SCAN_LIMIT))
    return isinstance(obj, torch.nn.Module)


def choose_format(obj: Any) -> str:
    """TORCH when `obj` holds a torch tensor (or module), else PICKLE."""
    return TORCH if _holds_tensor(obj) else PICKLE


def framework_for(fmt: str) -> str:
    """The manifest's `framework` for a checkpoint written in `fmt`."""
    return {TORCH: "pytorch", PICKLE: "python"}.get(fmt, "raw")


def meta_for(fmt: str, compressed: bool) -> dict[str, Any]:
    """The manifest's `user_meta` that records how the shards were serialised."""
    return {META_KEY: {"serialization": fmt, "compressed": compressed}}


def format_of(user_meta: Any, rank: int = 0) -> str:
    """RAW (bytes, the original's form), TORCH or PICKLE for shard `rank`, from a manifest's `user_meta`."""
    if isinstance(user_meta, dict):
        ours = user_meta.get(META_KEY)
        if isinstance(ours, dict):
            per_rank = ours.get("shard_formats")
            if (
                isinstance(per_rank, list)
                and 0 <= rank < len(per_rank)
                and per_rank[rank] in (TORCH, PICKLE, RAW)
            ):
                return str(per_rank[rank])
            if ours.get("serialization") in (TORCH, PICKLE):
                return str(ours["serialization"])
    return RAW


def _torch_save(torch: Any, obj: Any, out: Any) -> None:
    """`torch.save(obj, out)`, the same zip archive, written through torch's own writer over `out`, but
    with `TORCH_RECORD_CRC32` deciding whether torch also computes a CRC-32 per record."""
    ts = torch.serialization
    if TORCH_RECORD_CRC32:
        torch.save(obj, out)
        return
    try:
        writer = torch._C.PyTorchFileWriter(out, False, ts._get_storage_alignment())
        save, protocol = ts._save, ts.DEFAULT_PROTOCOL
    except (AttributeError, TypeError):  # another torch: its public path
        torch.save(obj, out)
        return
    save(obj, writer, pickle, protocol, False)
    writer.write_end_of_file()


BORROW_MIN = 1 << 20  # writes at least this large that lie inside a held tensor's storage are borrowed


def _storage_spans(torch: Any, obj: Any, depth: int = 0, out: list[tuple[int, int]] | None = None
                   ) -> list[tuple[int, int]]:
    """(start, end) addresses of the CPU storages of the tensors in `obj` (dicts, lists, tuples), sorted."""
    spans = [] if out is None else out
    if depth > 64:
        return spans
    if isinstance(obj, torch.Tensor):
        if obj.device.type == "cpu":
            st = obj.untyped_storage()
            if st.nbytes() >= BORROW_MIN:
                spans.append((st.data_ptr(), st.data_ptr() + st.nbytes()))
    elif isinstance(obj, dict):
        for v in obj.values():
            _storage_spans(torch, v, depth + 1, spans)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _storage_spans(torch, v, depth + 1, spans)
    if out is None:
        spans.sort()
    return spans


class _BorrowingStream:
    """What torch.save writes into: a write that lies inside the storage of a tensor of the object being
    saved is handed to the writer as borrowed (`write_borrowed`: whole parts go up straight from the
    tensor's memory), every other write (record headers, the pickle, torch's own temporaries) is copied.
    Safe because the caller's object, and so every storage in `spans`, lives until the shard is committed
    within the same save call; tensors must not be changed during a save (as with torch.save itself)."""

    def __init__(self, out: Any, spans: list[tuple[int, int]]) -> None:
        self._out = out
        self._spans = spans
        self._starts = [a for a, _ in spans]
        borrow = getattr(out, "write_borrowed", None)
        self._borrow = borrow if callable(borrow) and spans else None

    def write(self, data: Any) -> int:
        if self._borrow is not None:
            mv = data if isinstance(data, memoryview) else memoryview(data)
            if mv.nbytes >= BORROW_MIN:
                addr = buffer_address(mv)
                if addr is not None:
                    i = bisect.bisect_right(self._starts, addr) - 1
                    if i >= 0 and addr + mv.nbytes <= self._spans[i][1]:
                        return int(self._borrow(mv))
        return int(self._out.write(data))

    def flush(self) -> None:
        flush = getattr(self._out, "flush", None)
        if flush is not None:
            flush()

    def tell(self) -> int:
        return int(self._out.tell())

    def writable(self) -> bool:
        return True


def dump(obj: Any, fmt: str, out: Any) -> None:
    """Serialise `obj` in `fmt` straight into the writable stream `out` (no full copy in memory): with
    torch, the tensors' storages are lent to the writer, not copied into its part buffers."""
    if fmt == TORCH:
        import torch

        _torch_save(torch, obj, _BorrowingStream(out, _storage_spans(torch, obj)))
    else:
        pickle.Pickler(out, protocol=5).dump(obj)


_SAFE_GLOBALS = {
    ("builtins", n)
    for n in (
        "dict",
        "list",
        "tuple",
        "set",
        "frozenset",
        "int",
        "float",
        "complex",
        "str",
        "bytes",
        "bytearray",
        "bool",
        "slice",
        "range",
    )
} | {
    ("collections", "OrderedDict"),
    ("_codecs", "encode"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds only containers, scalars, strings, bytes and numpy arrays (the pickle
    counterpart of `torch.load(weights_only=True)`); any other global is refused."""

    def allows(self, module: str, name: str) -> bool:
        """Whether the global `module.name` may be built (subclasses widen the allow-list)."""
        return (module, name) in _SAFE_GLOBALS or (module == "numpy.dtypes" and name.endswith("DType"))

    def refusal(self, module: str, name: str) -> Exception:
        """The error raised for a global that `allows` refuses (subclasses name their file)."""
        return pickle.UnpicklingError(
            f"weights_only load refused the global {module}.{name}: a checkpoint loaded with "
            "weights_only=True may hold only containers, scalars, strings, bytes and numpy arrays "
            "(pass weights_only=False only for a checkpoint you trust)"
        )

    def find_class(self, module: str, name: str) -> Any:
        if self.allows(module, name):
            return super().find_class(module, name)
        raise self.refusal(module, name)


def _torch_load(
    torch: Any, data: Any, reader: BufferReader, uri: str, weights_only: bool, map_location: Any
) -> Any:
    """torch.load of a torch.save archive held in the writable buffer `data`, with every tensor's storage
    a view of `data` (torch.load's own mmap path, over our buffer instead of a file): no second copy of
    the weights and no page faults for new tensors. Falls back to torch.load over a reader when this
    torch lacks the pieces."""
    ts = torch.serialization
    try:
        opener, inner_load = ts._open_zipfile_reader, ts._load
        unpickler = ts._weights_only_unpickler if weights_only else pickle
        overall = torch.frombuffer(data, dtype=torch.uint8).untyped_storage() if len(data) else None
    except (AttributeError, TypeError, ValueError):
        return torch.load(reader, weights_only=weights_only, map_location=map_location)
    if overall is None or not ts._is_zipfile(reader):
        reader.seek(0)
        return torch.load(reader, weights_only=weights_only, map_location=map_location)
    reader.seek(0)
    with opener(reader) as zf:
        if ts._is_torchscript_zip(zf):
            raise CheckpointError(
                f"checkpoint {uri} is a TorchScript archive; load it with torch.jit.load", uri
            )
        try:
            return inner_load(zf, map_location, unpickler, overall_storage=overall, encoding="utf-8")
        except pickle.UnpicklingError as e:
            if weights_only:
                raise pickle.UnpicklingError(
                    f"Weights only load failed for {uri}: {e} Loading with weights_only=False runs the "
                    "checkpoint's pickled code: do it only for a checkpoint you trust."
                ) from None
            raise


def load(data: Any, fmt: str, uri: str, *, weights_only: bool = True, map_location: Any = None) -> Any:
    """The object serialised in `data` (a buffer) in `fmt`; `weights_only=False` trusts the pickle."""
    reader = BufferReader(data)
    try:
        if fmt == TORCH:
            try:
                import torch
            except ImportError:
                raise CheckpointError(
                    f"checkpoint {uri} was written with torch.save; loading it needs torch "
                    "(pip install torch)",
                    uri,
                ) from None
            return _torch_load(torch, data, reader, uri, weights_only, map_location)
        buffered = io.BufferedReader(reader, 1 << 20)
        try:
            if weights_only:
                return RestrictedUnpickler(buffered).load()
            return pickle.Unpickler(buffered).load()
        except pickle.UnpicklingError as e:
            raise CheckpointError(f"cannot load checkpoint {uri}: {e}", uri) from e
    finally:
        try:
            reader.close()
        except BufferError:  # a consumer still holds a slice; the buffer is freed with it
            pass
