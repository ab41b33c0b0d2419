"""The memory address of a contiguous buffer, read-only ones included (PyObject_GetBuffer through ctypes).

`ctypes.c_char.from_buffer` refuses read-only buffers, yet the buffers worth knowing the address of are
often read-only: torch.save hands its writer read-only memoryviews over tensor storages, mmap'd files and
bytes slices are read-only. Layers use the address to recognise memory they know (a tensor the caller
keeps alive, so its bytes can be uploaded without a copy) or to hand it to C (CRC-32C in place).
"""

from __future__ import annotations

import ctypes
from typing import Any

__all__ = ["buffer_address", "PyBuffer", "get_buffer_api"]


class PyBuffer(ctypes.Structure):
    """CPython's Py_buffer."""

    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.py_object),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_api: Any = None


def get_buffer_api() -> tuple[Any, Any] | None:
    """(PyObject_GetBuffer, PyBuffer_Release) with their ctypes signatures, or None off CPython."""
    global _api
    if _api is None:
        try:
            get = ctypes.pythonapi.PyObject_GetBuffer
            get.argtypes = [ctypes.py_object, ctypes.POINTER(PyBuffer), ctypes.c_int]
            get.restype = ctypes.c_int
            release = ctypes.pythonapi.PyBuffer_Release
            release.argtypes = [ctypes.POINTER(PyBuffer)]
            release.restype = None
            _api = (get, release)
        except (AttributeError, OSError):  # pragma: no cover - not CPython
            _api = False
    return _api or None


def buffer_address(data: Any) -> int | None:
    """The address of the first byte of the contiguous buffer `data` (None when it is empty, not
    contiguous, or the C API is unavailable). The address stays valid only while `data`'s exporter lives."""
    mv = data if isinstance(data, memoryview) else memoryview(data)
    if not mv.nbytes or not mv.c_contiguous:
        return None
    if not mv.readonly:
        return ctypes.addressof(ctypes.c_char.from_buffer(mv))
    api = get_buffer_api()
    if api is None:
        return None  # pragma: no cover
    get, release = api
    view = PyBuffer()
    if get(mv, ctypes.byref(view), 0) != 0:  # PyBUF_SIMPLE; raises on failure
        return None  # pragma: no cover
    try:
        return int(view.buf) if view.buf else None
    finally:
        release(ctypes.byref(view))
