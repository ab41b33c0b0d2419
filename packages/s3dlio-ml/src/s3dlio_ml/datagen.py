"""Synthetic data with exact dedup and compress ratios, generated fast and in place.

Layout (the original's block scheme, dgen-data 0.2.4): the data is cut into 1 MiB blocks (one block of
`size` bytes when smaller); with dedup factor d only round(nblocks / d) blocks are unique and block i is a
copy of unique block i % unique; with compress factor c each unique block ends in a run of zeros
(c-1)/c of its length long (spread exactly with Bresenham) after a random prefix.

Bytes: the random prefix of unique block u is a counter-based random stream keyed by
key_u = splitmix64(seed + u) (AES-128-CTR, or a numpy SplitMix64 stream without `cryptography`; see
`_datagen_kernel`). Being counter-based, any byte range can be produced on its own: threads fill disjoint
ranges, a streaming `Generator` gives the same bytes whatever its chunk sizes, and every fill writes the
caller's buffer in place. The bytes differ from the original's xoshiro streams; the ratios are the same by
construction. numpy is not imported unless the fallback kernel runs.
"""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = [
    "BLOCK_SIZE",
    "DataLayout",
    "Generator",
    "XorStream",
    "default_data_gen_threads",
    "fill_buffer",
    "generate_data",
    "generate_data_with_threads",
    "generate_into_buffer",
    "new_seed",
]

BLOCK_SIZE = 1 << 20
DEFAULT_CHUNK_SIZE = 32 << 20  # Generator.chunk_size when none is given (the original's)
_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MIN_PARALLEL = 4 * BLOCK_SIZE  # below this one thread is faster than handing work out


def splitmix64(x: int) -> int:
    """SplitMix64 of `x + golden` on Python ints (for keys; the bulk data is made by the kernels)."""
    z = (x + _GOLDEN) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def new_seed() -> int:
    """A fresh random 64-bit seed (os.urandom): two calls without a seed never share blocks."""
    return int.from_bytes(os.urandom(8), "little")


class DataLayout:
    """Where the random bytes and zero runs of a `size`-byte dataset lie (see the module docstring)."""

    __slots__ = ("block_len", "den", "floor_zero", "nblocks", "rem", "seed", "size", "unique")

    def __init__(self, size: int, dedup: int = 1, compress: int = 1, seed: int | None = None) -> None:
        size, dedup, compress = _check_size(size), _check_factor(dedup, "dedup"), _check_factor(compress,
                                                                                              "compress")
        self.size = size
        self.block_len = size if size < BLOCK_SIZE else BLOCK_SIZE
        self.nblocks = 1 if size < BLOCK_SIZE else -(-size // BLOCK_SIZE)
        # round half away from zero, as Rust's f64::round (Python's round() is banker's)
        self.unique = self.nblocks if dedup == 1 else max(1, (2 * self.nblocks + dedup) // (2 * dedup))
        num, self.den = (compress - 1, compress) if compress > 1 else (0, 1)
        self.floor_zero, self.rem = divmod(num * self.block_len, self.den)
        self.seed = (new_seed() if seed is None else int(seed)) & _M64

    def zero_len(self, u: int) -> int:
        """Length of the zero run at the end of unique block `u` (Bresenham spread of the remainder)."""
        return self.floor_zero + ((u + 1) * self.rem // self.den - u * self.rem // self.den)

    def block_key(self, u: int) -> int:
        return splitmix64((self.seed + u) & _M64)

    def fill(self, dst: memoryview, start: int = 0) -> None:
        """Write bytes [start, start + len(dst)) of the dataset into the byte memoryview `dst`.

        When `dst` holds the dataset from byte 0, repeated (dedup) blocks are copied from their first
        occurrence instead of being generated again.
        """
        end = start + len(dst)
        L = self.block_len
        p = start
        while p < end:
            i, o = divmod(p, L)
            take = min(L - o, end - p)
            u = i % self.unique
            piece = dst[p - start:p - start + take]
            src = u * L + o
            if u != i and start <= src and src + take <= p:
                piece[:] = dst[src - start:src - start + take]  # an earlier copy of the same block
            else:
                from ._datagen_kernel import random_bytes, zero_fill

                rand_end = L - self.zero_len(u)
                r = max(0, min(take, rand_end - o))
                if r:
                    random_bytes(piece[:r], self.block_key(u), o)
                if r < take:
                    zero_fill(piece[r:])
            p += take


def _is_int(v: Any) -> bool:
    return not isinstance(v, bool) and hasattr(v, "__index__") and not isinstance(v, (str, bytes, float))


def _check_size(size: Any) -> int:
    if not _is_int(size):
        raise TypeError(f"size must be an int, got {type(size).__name__}")
    if size < 0:
        raise OverflowError(f"can't convert negative int to unsigned: size {size}")
    return int(size)


def _check_factor(v: Any, name: str) -> int:
    if v is None:
        return 1
    if not _is_int(v):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < 0:
        raise OverflowError(f"can't convert negative int to unsigned: {name} {v}")
    return max(1, int(v))


def default_data_gen_threads() -> int:
    """Threads a generation call uses when none is given: $DGEN_THREADS, else every logical CPU."""
    raw = os.environ.get("DGEN_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def _as_bytes(buffer: Any) -> memoryview:
    from ._datagen_kernel import as_bytes

    return as_bytes(buffer)


def _threads_for(n: int, threads: int | None) -> int:
    if threads is None or threads == 0:
        threads = default_data_gen_threads() if n >= _MIN_PARALLEL else 1
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"threads must be a non-negative int, got {threads!r}")
    return max(1, min(threads, -(-n // BLOCK_SIZE)))


def fill_buffer(dst: memoryview, layout: DataLayout, start: int = 0, threads: int | None = None) -> None:
    """Fill the byte memoryview `dst` with bytes [start, ...) of `layout`, on up to `threads` threads."""
    n = len(dst)
    t = _threads_for(n, threads)
    if t == 1:
        layout.fill(dst, start)
        return
    from s3dlio_core import bounded_map

    # unique blocks first (in parallel), then the dedup copies (in parallel, from the finished originals)
    L = layout.block_len
    first = min(n, layout.unique * L - start) if start < layout.unique * L else 0
    for lo, hi in ((0, first), (first, n)):
        if hi <= lo:
            continue
        per = -(-(hi - lo) // t)
        per = -(-per // BLOCK_SIZE) * BLOCK_SIZE
        spans = [(a, min(hi, a + per)) for a in range(lo, hi, per)]
        if lo == 0:
            bounded_map(lambda s: layout.fill(dst[s[0]:s[1]], start + s[0]), spans, len(spans), level="parts")
        else:
            bounded_map(lambda s: _copy_or_fill(dst, layout, start, s, first), spans, len(spans),
                        level="parts")


def _copy_or_fill(dst: memoryview, layout: DataLayout, start: int, span: tuple[int, int], done: int) -> None:
    """Fill dst[span] (dataset bytes start+span) from the dedup originals finished in dst[:done]."""
    L = layout.block_len
    p, end = span
    while p < end:
        i, o = divmod(start + p, L)
        take = min(L - o, end - p)
        src = (i % layout.unique) * L + o - start
        if src >= 0 and src + take <= done:
            dst[p:p + take] = dst[src:src + take]
        else:
            layout.fill(dst[p:p + take], start + p)
        p += take


def generate_into_buffer(buffer: Any, dedup: int = 1, compress: int = 1, threads: int | None = None, *,
                         seed: int | None = None) -> int:
    """Fill any writable buffer (bytearray, numpy array, memoryview, mmap) in place; returns its length."""
    dst = _as_bytes(buffer)
    layout = DataLayout(len(dst), dedup, compress, seed)
    fill_buffer(dst, layout, 0, threads)
    return len(dst)


def generate_data_with_threads(size: int, dedup: int = 1, compress: int = 1, threads: int | None = None, *,
                               seed: int | None = None) -> Any:
    """`size` bytes of synthetic data as a BytesView, generated on `threads` threads (None: all CPUs)."""
    from s3dlio_core import BytesView

    layout = DataLayout(size, dedup, compress, seed)
    out = BytesView.allocate(layout.size)
    if layout.size:
        fill_buffer(_as_bytes(out), layout, 0, threads)
    return out


def generate_data(size: int, dedup: int = 1, compress: int = 1, *, seed: int | None = None) -> Any:
    """`size` bytes of synthetic data (BytesView): dedup d gives d x fewer unique 1 MiB blocks, compress c
    makes it c x compressible; 1 and 1 is incompressible and unique. A fresh seed per call unless given."""
    return generate_data_with_threads(size, dedup, compress, None, seed=seed)


class Generator:
    """A seeded stream of `size` synthetic bytes, produced chunk by chunk into the caller's buffers.

    Equal seed and parameters give identical bytes, whatever the sizes of the buffers passed to
    `fill_chunk` (the generator is counter-based).
    """

    def __init__(self, size: int, dedup: int = 1, compress: int = 1, threads: int | None = None,
                 chunk_size: int | None = None, seed: int | None = None) -> None:
        self._layout = DataLayout(size, dedup, compress, seed)
        self._threads = threads
        if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                       or chunk_size <= 0):
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
        self._chunk_size = chunk_size or DEFAULT_CHUNK_SIZE
        self._pos = 0

    @property
    def chunk_size(self) -> int:
        """The recommended buffer size for `fill_chunk`."""
        return self._chunk_size

    @property
    def size(self) -> int:
        return self._layout.size

    @property
    def position(self) -> int:
        """Bytes produced so far."""
        return self._pos

    @property
    def seed(self) -> int:
        return self._layout.seed

    def fill_chunk(self, buffer: Any) -> int:
        """Fill `buffer` with the next bytes of the stream; returns how many (short at the end, 0 when done)."""
        dst = _as_bytes(buffer)
        n = min(len(dst), self._layout.size - self._pos)
        if n <= 0:
            return 0
        fill_buffer(dst[:n], self._layout, self._pos, self._threads)
        self._pos += n
        return n

    def generate_chunk(self, size: int | None = None) -> Any:
        """The next `size` (default chunk_size) bytes as a BytesView (shorter at the end, empty when done)."""
        from s3dlio_core import BytesView

        want = self._chunk_size if size is None else _check_size(size)
        out = BytesView.allocate(min(want, self._layout.size - self._pos))
        if len(out):
            self.fill_chunk(out)
        return out

    def is_complete(self) -> bool:
        return self._pos >= self._layout.size

    def reset(self) -> None:
        """Start again from byte 0 (same seed: the same bytes again)."""
        self._pos = 0

    def __repr__(self) -> str:
        return f"Generator(size={self._layout.size}, position={self._pos})"


class XorStream:
    """An always-unique, incompressible stream: every `fill`/`generate` call gives new bytes.

    Thread-safe: many threads may share one stream (each call takes the next key under a lock, then
    fills without it).
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seed = (new_seed() if seed is None else int(seed)) & _M64
        self._count = 0
        self._lock = threading.Lock()

    @property
    def objects_generated(self) -> int:
        """How many buffers this stream has filled."""
        return self._count

    def _next_key(self) -> int:
        with self._lock:
            c = self._count
            self._count = c + 1
        return splitmix64((self._seed ^ (c * 0xD1B54A32D192ED03)) & _M64)

    def fill(self, buffer: Any) -> int:
        """Fill a writable buffer in place with fresh unique bytes; returns its length."""
        dst = _as_bytes(buffer)
        key = self._next_key()
        if len(dst):
            from ._datagen_kernel import random_bytes

            random_bytes(dst, key, 0)
        return len(dst)

    def generate(self, size: int) -> Any:
        """`size` fresh unique bytes as a BytesView."""
        from s3dlio_core import BytesView

        out = BytesView.allocate(_check_size(size))
        self.fill(out)
        return out

    def __repr__(self) -> str:
        return f"XorStream(objects_generated={self._count})"
