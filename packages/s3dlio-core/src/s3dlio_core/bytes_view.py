"""BytesView: the zero-copy result of every read.

Python 3.11 has no `__buffer__` hook, so a pure-Python class cannot export the buffer protocol. BytesView
is therefore a bytearray subclass: reads land (readinto / recv_into) straight in the buffer the caller gets,
and `memoryview(v)`, `np.frombuffer(v)`, `bytes(v)` and `len(v)` work natively. Allocation goes through
`PyByteArray_Resize`, which does not zero the memory, so a read costs no extra pass over the data.
"""

from __future__ import annotations

import ctypes

__all__ = ["BytesView", "as_buffer"]

try:
    _resize = ctypes.pythonapi.PyByteArray_Resize
    _resize.argtypes = [ctypes.py_object, ctypes.c_ssize_t]
    _resize.restype = ctypes.c_int
except (AttributeError, OSError):  # pragma: no cover - non-CPython
    _resize = None


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
            else:  # pragma: no cover
                v.extend(bytes(size))
        return v

    @classmethod
    def wrap(cls, data: object) -> BytesView:
        """A BytesView holding a copy of `data` (for results that did not come from a read)."""
        return cls(data)  # type: ignore[arg-type]

    def memoryview(self) -> memoryview:
        """A read-only memoryview of the data (no copy)."""
        return memoryview(self).toreadonly()

    def to_bytes(self) -> bytes:
        """An immutable copy of the data."""
        return bytes(memoryview(self))

    def __repr__(self) -> str:
        return f"BytesView({len(self)} bytes)"

    __str__ = __repr__

    def __reduce__(self):  # pickles (DataLoader workers) as a BytesView
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
