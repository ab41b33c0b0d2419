"""The fast kernels of the data generator (unseeded data, or `exact=False`): counter-based random streams
written in place, seekable to any byte. Seeded data uses the original's Xoshiro256++ streams instead
(`_xoshiro`).

Two kernels, chosen once per process:
* "aes" (used when the `cryptography` package is importable, as it is wherever s3dlio's backends are
  installed): the AES-128-CTR keystream of a key derived from the stream key, written by OpenSSL straight
  into the destination (AES-NI: several GB/s per core, GIL released).
* "numpy" (fallback): word j of stream `key` is splitmix64(key + (j + 1) * golden), vectorized over at most
  one 1 MiB block of words per call with per-thread scratch arrays.
Both are counter-based, so any byte range can be produced on its own. The same seed gives the same bytes
with the same kernel; `S3DLIO_DATAGEN_KERNEL=numpy|aes` forces one.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["as_bytes", "random_bytes", "kernel_name", "zero_fill", "BLOCK_SIZE"]

BLOCK_SIZE = 1 << 20
_WORDS = BLOCK_SIZE // 8
_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15

_np_state: Any = None  # (numpy, constants, step table), made on first use of the numpy kernel
_np_lock = threading.Lock()
_tls = threading.local()


def _numpy() -> Any:
    global _np_state
    if _np_state is None:
        with _np_lock:
            if _np_state is None:
                import numpy as np

                steps = np.arange(1, _WORDS + 1, dtype=np.uint64)
                steps *= np.uint64(_GOLDEN)  # steps[j] = (j + 1) * golden mod 2**64
                consts = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB),
                          np.uint64(30), np.uint64(27), np.uint64(31))
                _np_state = (np, consts, steps)
    return _np_state


def _scratch(np: Any) -> tuple[Any, Any]:
    """Two per-thread word arrays of one block: a temporary, and a landing area for unaligned output."""
    s = getattr(_tls, "scratch", None)
    if s is None:
        s = (np.empty(_WORDS, dtype=np.uint64), np.empty(_WORDS, dtype=np.uint64))
        _tls.scratch = s
    return s


def _mix_words(out: Any, key: int, w0: int, tmp: Any) -> None:
    """out[k] = splitmix64(key + (w0 + k + 1) * golden) for k < len(out) <= one block of words."""
    np, (c1, c2, s30, s27, s31), steps = _np_state
    n = out.shape[0]
    tmp = tmp[:n]
    np.add(steps[:n], np.uint64((key + w0 * _GOLDEN) & _M64), out=out)
    np.right_shift(out, s30, out=tmp)
    out ^= tmp
    out *= c1
    np.right_shift(out, s27, out=tmp)
    out ^= tmp
    out *= c2
    np.right_shift(out, s31, out=tmp)
    out ^= tmp


def _numpy_random_bytes(dst: memoryview, key: int, byte0: int) -> None:
    """dst <- bytes [byte0, byte0 + len(dst)) of the SplitMix word stream `key` (numpy, in place)."""
    np = _numpy()[0]
    arr = np.frombuffer(dst, dtype=np.uint8)
    n = arr.shape[0]
    tmp, land = _scratch(np)
    done = 0
    while done < n:
        pos = byte0 + done
        w0, lead = divmod(pos, 8)
        take = min(n - done, BLOCK_SIZE - lead)
        piece = arr[done:done + take]
        if lead == 0 and take % 8 == 0 and piece.ctypes.data % 8 == 0:
            _mix_words(piece.view(np.uint64), key, w0, tmp)
        else:
            nwords = (lead + take + 7) // 8
            _mix_words(land[:nwords], key, w0, tmp)
            piece[:] = land.view(np.uint8)[lead:lead + take]
        done += take


def as_bytes(buffer: Any) -> memoryview:
    """A writable, flat byte memoryview of any writable, C-contiguous buffer (no copy)."""
    try:
        mv = memoryview(buffer)
    except TypeError:
        raise TypeError(f"buffer must support the buffer protocol, got {type(buffer).__name__}") from None
    if mv.readonly:
        raise ValueError("Buffer must be writable")
    if not mv.c_contiguous:
        raise ValueError("Buffer must be C-contiguous")
    if mv.ndim != 1 or mv.format != "B":
        mv = mv.cast("B")
    return mv


def zero_fill(dst: memoryview) -> None:
    """dst <- zeros, one block at a time from a shared zero buffer."""
    n = len(dst)
    for i in range(0, n, BLOCK_SIZE):
        k = min(BLOCK_SIZE, n - i)
        dst[i:i + k] = _ZMV[:k]


# ---------------------------------------------------------------- AES-CTR kernel
_ZEROS = bytes(BLOCK_SIZE)
_ZMV = memoryview(_ZEROS)
_aes: Any = None  # (Cipher, AES, CTR) or False


def _aes_parts() -> Any:
    global _aes
    if _aes is None:
        import os

        choice = os.environ.get("S3DLIO_DATAGEN_KERNEL", "").strip().lower()
        if choice == "numpy":
            _aes = False
        else:
            try:
                from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

                _aes = (Cipher, algorithms.AES, modes.CTR)
            except ImportError:
                if choice == "aes":
                    raise
                _aes = False
    return _aes


def kernel_name() -> str:
    """'aes' or 'numpy': the kernel this process uses."""
    return "aes" if _aes_parts() else "numpy"


def _aes_key(key: int) -> bytes:
    a = (key * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & _M64
    a ^= a >> 31
    b = (key ^ 0xD6E8FEB86659FD93) * 0xBF58476D1CE4E5B9 & _M64
    b ^= b >> 29
    return a.to_bytes(8, "little") + b.to_bytes(8, "little")


def _aes_random_bytes(parts: Any, dst: memoryview, key: int, byte0: int) -> None:
    """dst <- bytes [byte0, byte0 + len(dst)) of the AES-128-CTR keystream of `key`."""
    cipher, aes, ctr = parts
    out = dst
    n = len(out)
    block, lead = divmod(byte0, 16)
    enc = cipher(aes(_aes_key(key)), ctr(block.to_bytes(16, "big"))).encryptor()
    if lead:
        enc.update(_ZMV[:lead])  # advance the keystream to byte0
    done = 0
    while done < n:
        take = min(n - done, BLOCK_SIZE)
        room = n - done
        direct = take if room >= take + 15 else max(0, room - 15)  # update_into wants 15 bytes of slack
        if direct:
            enc.update_into(_ZMV[:direct], out[done:])
        if direct < take:
            out[done + direct:done + take] = enc.update(_ZMV[:take - direct])
        done += take


def random_bytes(dst: memoryview, key: int, byte0: int) -> None:
    """Fill the byte memoryview `dst` with bytes [byte0, byte0 + len(dst)) of random stream `key`."""
    parts = _aes if _aes is not None else _aes_parts()
    if parts:
        _aes_random_bytes(parts, dst, key, byte0)
    else:
        _numpy_random_bytes(dst, key, byte0)
