"""Synthetic data with exact dedup and compress ratios, generated fast and in place.

Layout (the original's block scheme, dgen-data 0.2.4): the data is cut into 1 MiB blocks (one block of
`size` bytes when smaller); with dedup factor d only round(nblocks / d) blocks are unique (half away from
zero) and block i is a copy of unique block i % unique; with compress factor c each unique block ends in a
run of zeros (c-1)/c of its length long (spread exactly with Bresenham) after a random prefix. A last
partial block is, as in the original, a prefix of a full block in the one-shot calls without a seed, and a
block of its own length (random part = its length minus the full block's zero run, maybe none) in
`Generator` and in every seeded call.

Bytes:
* with a seed (`exact`): the original's, byte for byte. Unique block u is `fill_bytes` of Xoshiro256++
  seeded with SplitMix64(seed + u) (see `_xoshiro`: pure numpy, vectorised over many lanes of each
  stream with GF(2) jump tables). `Generator(size=2 MiB, seed=42)` starts 9f6876444f4d76d0 as the
  original's does.
* without a seed: a fresh 64-bit seed and the fast kernel (`_datagen_kernel`: AES-128-CTR through
  OpenSSL, or a numpy SplitMix64 stream), counter-based, keyed by splitmix64(seed + u).
Either way any byte range can be produced on its own: threads fill disjoint ranges, a streaming
`Generator` gives the same bytes whatever its chunk sizes (the original's do not when fills are not
multiples of 1 MiB), and every fill writes the caller's buffer in place. numpy is imported on first use.
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
    """Where the random bytes and zero runs of a `size`-byte dataset lie, and which kernel makes them.

    exact: the original's Xoshiro256++ bytes (default: when a seed is given). own_tail: a last partial
    block is a block of its own length, as in the original's Generator (default: when exact), rather
    than a prefix of a full block, as in the original's one-shot calls.
    """

    __slots__ = ("block_len", "den", "exact", "floor_zero", "nblocks", "own_tail", "rem", "seed", "size",
                 "unique")

    def __init__(self, size: int, dedup: int = 1, compress: int = 1, seed: int | None = None, *,
                 exact: bool | None = None, own_tail: bool | None = None) -> None:
        size, dedup, compress = _check_size(size), _check_factor(dedup, "dedup"), _check_factor(compress,
                                                                                              "compress")
        if seed is not None and not _is_int(seed):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        self.size = size
        self.block_len = size if size < BLOCK_SIZE else BLOCK_SIZE
        self.nblocks = 1 if size < BLOCK_SIZE else -(-size // BLOCK_SIZE)
        # round half away from zero, as Rust's f64::round (Python's round() is banker's)
        self.unique = self.nblocks if dedup == 1 else max(1, (2 * self.nblocks + dedup) // (2 * dedup))
        num, self.den = (compress - 1, compress) if compress > 1 else (0, 1)
        self.floor_zero, self.rem = divmod(num * self.block_len, self.den)
        self.exact = (seed is not None) if exact is None else bool(exact)
        self.own_tail = self.exact if own_tail is None else bool(own_tail)
        self.seed = (new_seed() if seed is None else int(seed)) & _M64

    def zero_len(self, u: int) -> int:
        """Length of the zero run at the end of unique block `u` (Bresenham spread of the remainder)."""
        return self.floor_zero + ((u + 1) * self.rem // self.den - u * self.rem // self.den)

    def block_key(self, u: int) -> int:
        return splitmix64((self.seed + u) & _M64)

    def is_copy_of_unique(self, i: int) -> bool:
        """Whether block i holds unique block i % unique's bytes (all of them, or a prefix of them)."""
        return not self.own_tail or (i + 1) * self.block_len <= self.size

    def random_len(self, i: int) -> int:
        """Length of the random prefix of block i (its zero run follows, to the block's end)."""
        zl = self.zero_len(i % self.unique)
        if self.own_tail:
            return max(0, min(self.block_len, self.size - i * self.block_len) - zl)
        return self.block_len - zl

    def fill(self, dst: memoryview, start: int = 0) -> None:
        """Write bytes [start, start + len(dst)) of the dataset into the byte memoryview `dst`.

        A repeated (dedup) block is generated once per call and copied from its first occurrence in `dst`.
        """
        end = start + len(dst)
        L = self.block_len
        jobs: list[tuple[int, int, int, memoryview]] = []  # (u, random length, offset in block, piece)
        zeros: list[memoryview] = []
        copies: list[tuple[int, int, int]] = []  # (to, from, length) inside dst
        made: dict[tuple[int, int, int], int] = {}  # (u, offset, length) -> where in dst it was made
        p = start
        while p < end:
            i, o = divmod(p, L)
            take = min(L - o, end - p)
            u = i % self.unique
            d = p - start
            same = self.is_copy_of_unique(i)
            src = u * L + o
            if same and u != i and start <= src and src + take <= p:
                copies.append((d, src - start, take))  # the unique block itself is in dst
            elif same and (u, o, take) in made:
                copies.append((d, made[(u, o, take)], take))
            else:
                r = self.random_len(i)
                n = max(0, min(take, r - o))
                if n:
                    jobs.append((u, r, o, dst[d:d + n]))
                if n < take:
                    zeros.append(dst[d + n:d + take])
                if same:
                    made[(u, o, take)] = d
            p += take
        from ._datagen_kernel import zero_fill

        if self.exact:
            from ._xoshiro import fill_streams

            fill_streams([((self.seed + u) & _M64, r, o, piece) for u, r, o, piece in jobs])
        else:
            from ._datagen_kernel import random_bytes

            for u, _r, o, piece in jobs:
                random_bytes(piece, self.block_key(u), o)
        for z in zeros:
            zero_fill(z)
        for to, frm, n in copies:
            dst[to:to + n] = dst[frm:frm + n]


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
        if lo == 0 or first == 0:  # unique blocks, or no original in dst to copy from
            bounded_map(lambda s: layout.fill(dst[s[0]:s[1]], start + s[0]), spans, len(spans), level="parts")
        else:
            bounded_map(lambda s: _copy_or_fill(dst, layout, start, s, first), spans, len(spans),
                        level="parts")


def _copy_or_fill(dst: memoryview, layout: DataLayout, start: int, span: tuple[int, int], done: int) -> None:
    """Fill dst[span] (dataset bytes start+span) from the dedup originals finished in dst[:done]; what has
    no original there is generated (in one call per run of such blocks)."""
    L = layout.block_len
    p, end = span
    gap = -1  # start of the current run of blocks to generate
    while p < end:
        i, o = divmod(start + p, L)
        take = min(L - o, end - p)
        src = (i % layout.unique) * L + o - start
        if layout.is_copy_of_unique(i) and src >= 0 and src + take <= done:
            if gap >= 0:
                layout.fill(dst[gap:p], start + gap)
                gap = -1
            dst[p:p + take] = dst[src:src + take]
        elif gap < 0:
            gap = p
        p += take
    if gap >= 0:
        layout.fill(dst[gap:end], start + gap)


def generate_into_buffer(buffer: Any, dedup: int = 1, compress: int = 1, threads: int | None = None, *,
                         seed: int | None = None, exact: bool | None = None) -> int:
    """Fill any writable buffer (bytearray, numpy array, memoryview, mmap) in place; returns its length.

    With a seed the bytes are the original's seeded ones (see the module docstring); `exact=False` keeps
    the fast kernel with that seed (reproducible with this library only). Raises ValueError for a read-only
    or non-contiguous buffer, TypeError for a non-buffer.
    """
    dst = _as_bytes(buffer)
    layout = DataLayout(len(dst), dedup, compress, seed, exact=exact)
    fill_buffer(dst, layout, 0, threads)
    return len(dst)


def generate_data_with_threads(size: int, dedup: int = 1, compress: int = 1, threads: int | None = None, *,
                               seed: int | None = None, exact: bool | None = None) -> Any:
    """`size` bytes of synthetic data as a BytesView, generated on `threads` threads (None: all CPUs).

    seed/exact as in `generate_into_buffer`. Raises OverflowError for a negative size or factor.
    """
    from s3dlio_core import BytesView

    layout = DataLayout(size, dedup, compress, seed, exact=exact)
    out = BytesView.allocate(layout.size)
    if layout.size:
        fill_buffer(_as_bytes(out), layout, 0, threads)
    return out


def generate_data(size: int, dedup: int = 1, compress: int = 1, *, seed: int | None = None,
                  exact: bool | None = None) -> Any:
    """`size` bytes of synthetic data (BytesView): dedup d gives d x fewer unique 1 MiB blocks, compress c
    makes it c x compressible; 1 and 1 is incompressible and unique. A fresh seed per call unless given;
    with a seed the bytes equal `Generator(size, dedup, compress, seed=seed)`'s (the original's)."""
    return generate_data_with_threads(size, dedup, compress, None, seed=seed, exact=exact)


class Generator:
    """A stream of `size` synthetic bytes, produced chunk by chunk into the caller's buffers.

    With a seed the bytes are the original 0.10.0 Generator's, byte for byte (for fills of any size; the
    original's own bytes drift when fills are not multiples of 1 MiB), and equal seed and parameters give
    identical bytes whatever the sizes of the buffers passed to `fill_chunk`. `exact=False` keeps the fast
    kernel with that seed.
    """

    def __init__(self, size: int, dedup: int = 1, compress: int = 1, threads: int | None = None,
                 chunk_size: int | None = None, seed: int | None = None, *, exact: bool | None = None) -> None:
        self._layout = DataLayout(size, dedup, compress, seed, exact=exact, own_tail=True)
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

    The original has no such class, so there are no original bytes to match: a seed here keys the fast
    kernel (reproducible with this library).

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
