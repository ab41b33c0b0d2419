"""Xoshiro256++ streams, byte-exact with the original's seeded generator, vectorised over many lanes.

The original fills each unique block with `rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed)` (state
from four SplitMix64 outputs) and `fill_bytes` (next_u64 little-endian, 8 bytes at a time; a tail of 5..7
bytes takes the low bytes of one more next_u64, a tail of 1..4 bytes the low bytes of `next_u64() >> 32`).
One stream is sequential, so numpy cannot vectorise it directly. It can vectorise many streams, and one
stream cut into many: Xoshiro's state transition T is linear over GF(2), so the state k steps on is the
256x256 bit matrix T^k times the seed state. `fill_streams` starts one lane every S words of every stream it
is asked for (lane states from precomputed jump tables), runs all lanes in lock-step for S steps with numpy,
and writes the words in stream order. Exact integer arithmetic all the way: the bytes are the original's.

Jump tables (built once per process on first use: 30 ms, 3 MiB): lane offsets are multiples of G = 32
words; for k < 12 the matrix T^(G 2^k) is kept as a method-of-four-Russians table (for each byte of the
input state and each of its 256 values, the XOR of the matching columns), so one jump of N states is a
gather of 32 N rows and an XOR reduction. A job's first lane is reached by the binary decomposition of its
offset; the lanes after it by doubling (lanes [m, 2m) are lanes [0, m) advanced m lane lengths).
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["fill_streams", "seed_state", "stream_bytes"]

_M64 = (1 << 64) - 1
G = 32  # lane offsets are multiples of this many words
LEVELS = 12  # jump tables for T^(G 2^k), k < LEVELS: offsets up to G 2^LEVELS words (one 1 MiB block)
MAX_WORDS = G << LEVELS
R = 16  # steps between two output passes (the states of R steps are kept, then turned into words)
TARGET_LANES = 4096  # lanes per lock-step run: enough to hide numpy's per-call cost
MAX_STEPS = 2048
BATCH_WORDS = 1 << 21  # at most 16 MiB of words per run (bounded scratch memory)
SMALL_WORDS = 384  # below this many words in all, a plain Python loop is faster than the lanes

_tables: Any = None
_tables_lock = threading.Lock()
_tls = threading.local()


def seed_state(seed: int) -> tuple[int, int, int, int]:
    """Xoshiro256 state from SplitMix64(seed): rand_xoshiro's `seed_from_u64`."""
    s = seed & _M64
    out = []
    for _ in range(4):
        s = (s + 0x9E3779B97F4A7C15) & _M64
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        out.append(z ^ (z >> 31))
    return out[0], out[1], out[2], out[3]


def _python_words(seed: int, n: int) -> list[int]:
    """The first `n` next_u64 outputs of stream `seed` (plain Python: for a few hundred words)."""
    s0, s1, s2, s3 = seed_state(seed)
    out = []
    for _ in range(n):
        v = (s0 + s3) & _M64
        out.append((((v << 23) | (v >> 41)) + s0) & _M64)
        t = (s1 << 17) & _M64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & _M64
    return out


def stream_bytes(seed: int, rlen: int) -> bytes:
    """`fill_bytes` of `rlen` bytes from stream `seed`, in plain Python (the reference for small sizes)."""
    q, k = divmod(rlen, 8)
    words = _python_words(seed, q + (1 if k else 0))
    out = bytearray(b"".join(w.to_bytes(8, "little") for w in words[:q]))
    if k > 4:
        out += words[q].to_bytes(8, "little")[:k]
    elif k:
        out += (words[q] >> 32).to_bytes(4, "little")[:k]
    return bytes(out)


# ---------------------------------------------------------------- jump tables
def _linear_steps(np: Any, state: Any, steps: int, every: int) -> list[Any]:
    """Run the linear part of the transition on the lanes of `state` (4, n); snapshot every `every` steps."""
    s0, s1, s2, s3 = (state[i].copy() for i in range(4))
    c17, c45, c19 = np.uint64(17), np.uint64(45), np.uint64(19)
    snaps = [np.stack([s0, s1, s2, s3])]
    t = np.empty_like(s0)
    for k in range(1, steps + 1):
        np.left_shift(s1, c17, out=t)
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        np.bitwise_or(np.left_shift(s3, c45), np.right_shift(s3, c19), out=s3)
        if k % every == 0:
            snaps.append(np.stack([s0, s1, s2, s3]))
    return snaps


class _Tables:
    """Jump tables, the numpy module and constants (one per process)."""

    def __init__(self) -> None:
        import numpy as np

        self.np = np
        self.groups = np.arange(32, dtype=np.intp)[:, None] * 256
        basis = np.zeros((4, 256), dtype=np.uint64)  # lane i = the state with only bit i set
        for i in range(256):
            basis[i // 64, i] = np.uint64(1) << np.uint64(i % 64)
        cols = _linear_steps(np, basis, G, G)[1].T.copy()  # columns of T^G: (256, 4)
        self.tabs = [self._table(cols)]
        for _ in range(1, LEVELS):  # T^(G 2^(k+1)) = T^(G 2^k) T^(G 2^k): jump its own columns
            cols = self.jump(self.tabs[-1], cols)
            self.tabs.append(self._table(cols))
        self.c = tuple(np.uint64(v) for v in (17, 45, 19, 23, 41))

    def _table(self, cols: Any) -> Any:
        """Four-Russians table of the matrix with columns `cols` (256, 4 words), as (32 * 256) 32-byte rows.

        Row 256 g + v is the XOR of the columns 8 g + t over the set bits t of v: a state's image is the XOR
        over g of the rows picked by its 32 bytes.
        """
        np = self.np
        tab = np.zeros((32, 256, 4), dtype=np.uint64)
        cg = cols.reshape(32, 8, 4)
        for t in range(8):
            n = 1 << t
            tab[:, n:2 * n] = tab[:, 0:n] ^ cg[:, t][:, None]
        return tab.reshape(-1, 4).view(np.dtype((np.void, 32))).ravel()

    def jump(self, tab: Any, x: Any) -> Any:
        """The images of the states x (N, 4) under the matrix of `tab`: (N, 4)."""
        np = self.np
        n = x.shape[0]
        idx = np.ascontiguousarray(x).view(np.uint8).reshape(n, 32).T.astype(np.intp)  # (32, N)
        idx += self.groups
        rows = tab.take(idx.ravel())
        return np.bitwise_xor.reduce(rows.view(np.uint64).reshape(32, n, 4), axis=0)

    def lane_states(self, seeds: list[int], firsts: list[int], lanes: list[int], step_g: int) -> Any:
        """States (4, sum(lanes)) of every lane: lane i of job j is stream seeds[j] advanced
        (firsts[j] + i * step_g) * G words (step_g a power of two)."""
        np = self.np
        x = np.array([seed_state(s) for s in seeds], dtype=np.uint64)  # (jobs, 4)
        fa = np.array(firsts, dtype=np.intp)
        for k in range(LEVELS):  # advance each job to its first lane (binary decomposition)
            sel = np.nonzero((fa >> k) & 1)[0]
            if len(sel):
                x[sel] = self.jump(self.tabs[k], x[sel])
        most = max(lanes)
        st = x[:, None, :]  # (jobs, m, 4): lanes 0..m-1
        k = step_g.bit_length() - 1
        while st.shape[1] < most:  # lanes [m, 2m) are lanes [0, m) advanced m * step_g * G words
            m = st.shape[1]
            nxt = self.jump(self.tabs[k], st.reshape(-1, 4)).reshape(len(seeds), m, 4)
            st = np.concatenate([st, nxt], axis=1)
            k += 1
        parts = [st[j, :n] for j, n in enumerate(lanes)]
        return np.ascontiguousarray(np.concatenate(parts).T)


def _get_tables() -> _Tables:
    global _tables
    if _tables is None:
        with _tables_lock:
            if _tables is None:
                _tables = _Tables()
    return _tables


def _scratch(np: Any, name: str, n: int) -> Any:
    """A per-thread uint64 array of at least n words (reused: no page faults per call)."""
    arr = getattr(_tls, name, None)
    if arr is None or arr.shape[0] < n:
        arr = np.empty(max(n, 1 << 12), dtype=np.uint64)
        setattr(_tls, name, arr)
    return arr[:n]


def _run_lanes(tb: _Tables, state: Any, steps: int) -> Any:
    """Lock-step Xoshiro256++ over the lanes of `state` (4, lanes): returns words (lanes, steps)."""
    np = tb.np
    c17, c45, c19, c23, c41 = tb.c
    lanes = state.shape[1]
    s = _scratch(np, "state", 4 * lanes).reshape(4, lanes)
    s[:] = state
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    x = _scratch(np, "x", lanes)
    t = _scratch(np, "t", lanes)
    h0 = _scratch(np, "h0", R * lanes).reshape(R, lanes)
    h3 = _scratch(np, "h3", R * lanes).reshape(R, lanes)
    tmp = _scratch(np, "tmp", R * lanes).reshape(R, lanes)
    out = _scratch(np, "out", lanes * steps).reshape(lanes, steps)
    for k0 in range(0, steps, R):
        rr = min(R, steps - k0)
        for r in range(rr):
            h0[r] = s0
            h3[r] = s3
            np.left_shift(s1, c17, out=t)
            np.bitwise_xor(s3, s1, out=x)
            s2 ^= s0
            s1 ^= s2
            s2 ^= t
            s0 ^= x
            np.left_shift(x, c45, out=s3)
            np.right_shift(x, c19, out=t)
            s3 |= t
        a0, a3, w = h0[:rr], h3[:rr], tmp[:rr]
        a3 += a0  # s0 + s3
        np.left_shift(a3, c23, out=w)
        a3 >>= c41
        w |= a3
        w += a0  # rotl(s0 + s3, 23) + s0
        out[:, k0:k0 + rr] = w.T
    return out


def fill_streams(jobs: list[tuple[int, int, int, memoryview]]) -> None:
    """Fill each job's `dst` with bytes [lo, lo + len(dst)) of `fill_bytes(rlen)` from stream `seed`.

    jobs: (seed, rlen, lo, dst) with lo + len(dst) <= rlen <= 1 MiB; dst a writable byte view.
    """
    jobs = [j for j in jobs if len(j[3])]
    if not jobs:
        return
    total = sum(len(j[3]) for j in jobs) // 8
    if total <= SMALL_WORDS:
        for seed, rlen, lo, dst in jobs:
            dst[:] = stream_bytes(seed, rlen)[lo:lo + len(dst)]
        return
    tb = _get_tables()
    batch: list[tuple[int, int, int, memoryview]] = []
    words = 0
    for job in jobs:
        n = (len(job[3]) + 15) // 8 + G
        if batch and words + n > BATCH_WORDS:
            _fill_batch(tb, batch)
            batch, words = [], 0
        batch.append(job)
        words += n
    _fill_batch(tb, batch)


def _fill_batch(tb: _Tables, jobs: list[tuple[int, int, int, memoryview]]) -> None:
    spans = []  # per job: first word (a multiple of G), words needed
    for _seed, rlen, lo, dst in jobs:
        hi = lo + len(dst)
        if not 0 <= lo < hi <= rlen or rlen > 8 * MAX_WORDS:
            raise ValueError(f"stream range [{lo}, {hi}) is outside a stream of {rlen} bytes")
        w0 = (lo // 8) // G * G
        w1 = min(-(-hi // 8), -(-rlen // 8))
        spans.append((w0, w1 - w0))
    total = sum(n for _, n in spans)
    steps = G
    while steps < MAX_STEPS and total > steps * TARGET_LANES:
        steps *= 2
    lanes = [-(-n // steps) for _, n in spans]
    state = tb.lane_states([j[0] for j in jobs], [w0 // G for w0, _ in spans], lanes, steps // G)
    words = _run_lanes(tb, state, steps)
    flat = memoryview(words.reshape(-1)).cast("B")
    row = 0
    for (_seed, rlen, lo, dst), (w0, _n), nl in zip(jobs, spans, lanes, strict=True):
        base = row * steps * 8 - w0 * 8  # byte p of the stream is flat[base + p]
        hi = lo + len(dst)
        dst[:] = flat[base + lo:base + hi]
        q, k = divmod(rlen, 8)
        if 0 < k <= 4 and hi > 8 * q:  # a short tail comes from the high half of word q
            p0 = max(lo, 8 * q)
            src = base + 8 * q + 4 + (p0 - 8 * q)
            dst[p0 - lo:hi - lo] = flat[src:src + hi - p0]
        row += nl
