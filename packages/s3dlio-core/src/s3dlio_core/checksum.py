"""CRC-32C (Castagnoli), the checksum of the original's writers, checkpoints and TFRecord framing, and a
writer that computes it over everything written.

`crc32c(data, crc=0)` reads the caller's buffer in place through google-crc32c's C library (hardware
CRC instructions) when that package is installed (`pip install 's3dlio-core[crc32c]'`; the meta-package
depends on it), else through a table-driven pure-Python fallback that is correct but slow (~50 MB/s).
`ChecksummingWriter` wraps any ObjectWriter (or a CompressingWriter, so that the checksum is of the
uncompressed stream, as the original's writers and checkpoints record it).
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from typing import Any

from .buffer_address import PyBuffer, get_buffer_api
from .bytes_view import as_buffer
from .store import ObjectWriter

__all__ = ["crc32c", "masked_crc32c", "format_crc32c", "ChecksummingWriter", "fast_crc32c_available"]

_fn: Any = None
_lock = threading.Lock()
_TABLE: list[int] | None = None


def _load() -> Any:
    """google-crc32c's `crc32c_extend(crc, ptr, len)` from its shared library, or False."""
    global _fn
    with _lock:
        if _fn is None:
            fn: Any = False
            try:
                import google_crc32c
            except ImportError:
                google_crc32c = None  # type: ignore[assignment]
            if google_crc32c is not None:
                base = os.path.dirname(os.path.dirname(google_crc32c.__file__))
                for path in glob.glob(os.path.join(base, "google_crc32c.libs", "libcrc32c*.so*")):
                    try:
                        f = ctypes.CDLL(path).crc32c_extend
                        f.argtypes = [ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t]
                        f.restype = ctypes.c_uint32
                        fn = f
                        break
                    except (OSError, AttributeError):
                        continue
                if fn is False:
                    fn = "module"  # the package's own API (needs a bytes copy)
            _fn = fn
    return _fn


def _readonly_crc(fn: Any, crc: int, mv: memoryview) -> int | None:
    """CRC-32C of a read-only contiguous buffer in place (its address through PyObject_GetBuffer), so
    read-only exporters (torch.save's tensor memory, mmap, bytes slices) are not copied; None if the
    C API is unavailable."""
    api = get_buffer_api()
    if api is None:
        return None  # pragma: no cover
    _get_buffer, _release_buffer = api
    view = PyBuffer()
    if _get_buffer(mv, ctypes.byref(view), 0) != 0:  # PyBUF_SIMPLE; raises on failure
        return None  # pragma: no cover
    try:
        return int(fn(crc, view.buf, view.len))
    finally:
        _release_buffer(ctypes.byref(view))


def fast_crc32c_available() -> bool:
    """True when CRC-32C runs in C (google-crc32c installed)."""
    return bool(_fn if _fn is not None else _load())


def _py_crc32c(crc: int, mv: memoryview) -> int:
    global _TABLE
    if _TABLE is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
        _TABLE = table
    t = _TABLE
    c = crc ^ 0xFFFFFFFF
    for b in mv.tobytes():
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc32c(data: Any, crc: int = 0) -> int:
    """CRC-32C of bytes-like `data`, extending `crc` (so checksums can be built chunk by chunk)."""
    mv = as_buffer(data)
    n = mv.nbytes
    if not n:
        return crc
    fn = _fn if _fn is not None else _load()
    if fn and fn != "module":
        if not mv.readonly:
            return int(fn(crc, ctypes.addressof(ctypes.c_char.from_buffer(mv)), n))
        obj = mv.obj
        if isinstance(obj, bytes) and len(obj) == n:  # ctypes passes a bytes object's own buffer
            return int(fn(crc, obj, n))
        if n >= 4096:  # a read-only buffer of another exporter: its address, no copy
            got = _readonly_crc(fn, crc, mv)
            if got is not None:
                return got
    if fn:
        import google_crc32c

        return int(google_crc32c.extend(crc, bytes(mv)))
    return _py_crc32c(crc, mv)


def masked_crc32c(data: Any) -> int:
    """TFRecord's masked CRC-32C: ((crc >> 15) | (crc << 17)) + 0xa282ead8, modulo 2**32."""
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def format_crc32c(crc: int) -> str:
    """The original's text form, 'crc32c:%08x'."""
    return f"crc32c:{crc & 0xFFFFFFFF:08x}"


class ChecksummingWriter(ObjectWriter):
    """Passes every write to `inner` and keeps the CRC-32C of the bytes written; commit and abort go to
    `inner` (so the object still appears only at `close()`). `compressed_bytes` is what reached the store
    (the inner writer's count when it compresses, else the bytes written)."""

    def __init__(self, inner: ObjectWriter) -> None:
        super().__init__(inner.uri)
        self.inner = inner
        self.crc = 0

    def checksum(self) -> str:
        return format_crc32c(self.crc)

    @property
    def compressed_bytes(self) -> int:
        return int(getattr(self.inner, "compressed_bytes", self.inner.bytes_written))

    def close(self) -> int:
        if not self.closed:
            self.closed = True
            try:
                self.inner.close()  # the inner writer records the PUT
            except BaseException:
                self._abort_quietly()
                raise
        return self.bytes_written

    def _write(self, mv: memoryview) -> None:
        self.inner.write(mv)
        self.crc = crc32c(mv, self.crc)

    def _write_borrowed(self, mv: memoryview) -> None:
        self.inner.write_borrowed(mv)
        self.crc = crc32c(mv, self.crc)

    def _commit(self) -> None:  # pragma: no cover - close() commits the inner writer directly
        self.inner.close()

    def _abort(self) -> None:
        self.inner.abort()
