"""BytesView: the zero-copy result of every read.

Python 3.11 has no `__buffer__` hook, so a pure-Python class cannot export the buffer protocol there; on
3.12+ it can (PEP 688), but each buffer request then runs Python code (1.8x to 4.1x slower per
`memoryview(v)`, `np.frombuffer(v)` or write: benchmarks/bytesview_buffer.py). BytesView is a bytearray
subclass on every version: reads land (readinto / recv_into) straight in the buffer the caller gets, and
`memoryview(v)`, `np.frombuffer(v)`, `bytes(v)` and `len(v)` work natively. Allocation goes through
`PyByteArray_Resize`, which does not zero the memory, so a read costs no extra pass over the data.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

__all__ = ["BytesView", "as_buffer", "set_hugepage_min"]

_resize: Any
_address: Any
_madvise: Any
try:
    _resize = ctypes.pythonapi.PyByteArray_Resize
    _resize.argtypes = [ctypes.py_object, ctypes.c_ssize_t]
    _resize.restype = ctypes.c_int
    _address = ctypes.pythonapi.PyByteArray_AsString
    _address.argtypes = [ctypes.py_object]
    _address.restype = ctypes.c_void_p
except (AttributeError, OSError):  # pragma: no cover - non-CPython
    _resize = _address = None

try:  # madvise, for the opt-in huge-page advice below
    _libc = ctypes.CDLL(None, use_errno=True)
    _madvise = _libc.madvise
    _madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    _madvise.restype = ctypes.c_int
except (AttributeError, OSError):  # pragma: no cover - not Linux/glibc
    _madvise = None
_MADV_HUGEPAGE = 14
_HUGE = 2 << 20


def _hugepage_min_from_env() -> int | None:
    raw = os.environ.get("S3DLIO_HUGEPAGE_MIN_MB", "").strip()
    try:
        mb = int(raw) if raw else 0
    except ValueError:
        return None
    return mb << 20 if mb > 0 else None


# Buffers at least this large are advised to use transparent huge pages (MADV_HUGEPAGE); None = never.
# Off by default: where the host reclaims a guest's free memory (virtio-balloon free page reporting, as
# on Firecracker and many cloud VMs), free 2 MiB blocks are exactly what gets reported, so a huge-page
# fault takes memory the host must fault in and zero again. Measured on such a VM, first touch of fresh
# result buffers cost 2.5 sys-CPU-s/GB with the advice and 0.5 without; the first get_many of a process
# ran 2-3x slower. On bare metal the advice saves page faults: opt in with S3DLIO_HUGEPAGE_MIN_MB=4 (read
# at import) or set_hugepage_min(4 << 20).
HUGEPAGE_MIN: int | None = _hugepage_min_from_env()


def set_hugepage_min(nbytes: int | None) -> None:
    """Advise huge pages for buffers of at least `nbytes` from now on (None or 0: never, the default)."""
    global HUGEPAGE_MIN
    if nbytes is not None and nbytes < 0:
        raise ValueError(f"nbytes must be >= 0 or None, got {nbytes}")
    HUGEPAGE_MIN = nbytes or None


class BytesView(bytearray):
    """A contiguous byte buffer returned by reads; supports the buffer protocol with no copy."""

    __slots__ = ()

    @classmethod
    def allocate(cls, size: int) -> BytesView:
        """An uninitialised buffer of `size` bytes, for a reader to fill in place."""
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        v = cls()
        if size:
            if _resize is not None:
                if _resize(v, size) != 0:  # pragma: no cover - MemoryError already raised by ctypes
                    raise MemoryError(size)
                if HUGEPAGE_MIN is not None and size >= HUGEPAGE_MIN and _madvise is not None:
                    addr = _address(v)
                    start = (addr + _HUGE - 1) & ~(_HUGE - 1)
                    end = (addr + size) & ~(_HUGE - 1)
                    if end > start:
                        _madvise(start, end - start, _MADV_HUGEPAGE)
            else:  # pragma: no cover
                v.extend(bytes(size))
        return v

    def address(self) -> int:
        """The address of the first byte (for aligned I/O such as O_DIRECT); valid until resized."""
        if _address is None:  # pragma: no cover
            raise NotImplementedError("buffer addresses need CPython")
        return int(_address(self) or 0)

    @classmethod
    def wrap(cls, data: Any) -> BytesView:
        """A BytesView holding a copy of `data`, any bytes-like object (for results that did not come from
        a read)."""
        return cls(data)

    def memoryview(self) -> memoryview:
        """A read-only memoryview of the data (no copy)."""
        return memoryview(self).toreadonly()

    def to_bytes(self) -> bytes:
        """An immutable copy of the data."""
        return bytes(memoryview(self))

    def __repr__(self) -> str:
        return f"BytesView({len(self)} bytes)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (DataLoader workers) as a BytesView
        return (BytesView.wrap, (bytes(self),))


def as_buffer(data: object, *, what: str = "data") -> memoryview:
    """A flat byte memoryview of a bytes-like object (or of `data.__bytes__()`), else a TypeError."""
    try:
        mv = memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        to_bytes = getattr(data, "__bytes__", None)
        if to_bytes is None or isinstance(data, (str, int, bool)):
            raise TypeError(
                f"Cannot convert {what} to bytes: {type(data).__name__!r} object has no attribute "
                "'__bytes__'. Expected bytes-like object (bytes, bytearray, memoryview, BytesView, "
                "numpy array, or object with __bytes__() method)"
            ) from None
        mv = memoryview(to_bytes())
    if mv.ndim != 1 or mv.itemsize != 1 or not mv.c_contiguous:
        if not mv.contiguous:
            raise TypeError(f"Cannot convert {what} to bytes: buffer is not contiguous")
        mv = mv.cast("B")
    return mv
