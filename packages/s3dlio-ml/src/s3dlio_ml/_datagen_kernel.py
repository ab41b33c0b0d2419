"""The numpy kernel of the data generator: a counter-based SplitMix64 word stream written in place.

Word j of stream `key` is splitmix64(key + (j + 1) * golden). It is vectorized over at most one 1 MiB block
of words per call (numpy releases the GIL inside each ufunc), with per-thread scratch arrays, so filling
never allocates on the data path.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = ["as_uint8", "random_bytes", "BLOCK_SIZE"]

BLOCK_SIZE = 1 << 20
_WORDS = BLOCK_SIZE // 8
_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)

_steps: np.ndarray | None = None  # _steps[j] = (j + 1) * golden mod 2**64, one block of words
_steps_lock = threading.Lock()
_tls = threading.local()


def _step_table() -> np.ndarray:
    global _steps
    if _steps is None:
        with _steps_lock:
            if _steps is None:
                t = np.arange(1, _WORDS + 1, dtype=np.uint64)
                t *= np.uint64(_GOLDEN)
                _steps = t
    return _steps


def _scratch() -> tuple[np.ndarray, np.ndarray]:
    """Two per-thread word arrays of one block: a temporary, and a landing area for unaligned output."""
    s = getattr(_tls, "scratch", None)
    if s is None:
        s = (np.empty(_WORDS, dtype=np.uint64), np.empty(_WORDS, dtype=np.uint64))
        _tls.scratch = s
    return s


def _mix_words(out: np.ndarray, key: int, w0: int, tmp: np.ndarray) -> None:
    """out[k] = splitmix64(key + (w0 + k + 1) * golden) for k < len(out) <= one block of words."""
    n = out.shape[0]
    tmp = tmp[:n]
    np.add(_step_table()[:n], np.uint64((key + w0 * _GOLDEN) & _M64), out=out)
    np.right_shift(out, _S30, out=tmp)
    out ^= tmp
    out *= _C1
    np.right_shift(out, _S27, out=tmp)
    out ^= tmp
    out *= _C2
    np.right_shift(out, _S31, out=tmp)
    out ^= tmp


def random_bytes(dst: np.ndarray, key: int, byte0: int) -> None:
    """Fill the uint8 array `dst` with bytes [byte0, byte0 + len(dst)) of word stream `key`."""
    n = dst.shape[0]
    tmp, land = _scratch()
    done = 0
    while done < n:
        pos = byte0 + done
        w0, lead = divmod(pos, 8)
        take = min(n - done, BLOCK_SIZE - lead)
        piece = dst[done:done + take]
        if lead == 0 and take % 8 == 0 and piece.ctypes.data % 8 == 0:
            _mix_words(piece.view(np.uint64), key, w0, tmp)
        else:
            nwords = (lead + take + 7) // 8
            _mix_words(land[:nwords], key, w0, tmp)
            piece[:] = land.view(np.uint8)[lead:lead + take]
        done += take


def as_uint8(buffer: Any) -> np.ndarray:
    """A writable flat uint8 numpy view of any writable, contiguous buffer (no copy)."""
    try:
        mv = memoryview(buffer)
    except TypeError:
        raise TypeError(f"buffer must support the buffer protocol, got {type(buffer).__name__}") from None
    if mv.readonly:
        raise ValueError("Buffer must be writable")
    if not mv.c_contiguous:
        raise ValueError("Buffer must be C-contiguous")
    if mv.ndim != 1 or mv.itemsize != 1:
        mv = mv.cast("B")
    return np.frombuffer(mv, dtype=np.uint8)
