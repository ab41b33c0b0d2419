"""Epoch orders and shards: the original's exact shuffle (Fisher-Yates driven by ChaCha20) and the
rank/worker split every dataset and loader uses.

The original shuffles with `rand_chacha::ChaCha20Rng::seed_from_u64(seed)` (PCG32 expands the u64 into
the 32-byte key) and `for i in (1..n).rev() { j = next_u32() % (i + 1); swap(i, j) }`. The keystream comes
from the `cryptography` package's ChaCha20 when it is installed (a 1M-sample order in well under a second)
and from a pure-Python block function otherwise; orders are cached per (n, seed, epoch).
"""

from __future__ import annotations

import functools
import struct
from array import array

__all__ = ["ChaCha20Rng", "keystream_words", "shuffled_indices", "epoch_seed", "epoch_order", "shard_positions"]

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
_PCG_MUL = 6364136223846793005
_PCG_INC = 11634580027462260723
_GOLDEN = 0x9E3779B97F4A7C15
_CONSTANTS = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)  # "expand 32-byte k"


def _pcg32(state: int) -> tuple[int, int]:
    state = (state * _PCG_MUL + _PCG_INC) & _MASK64
    xorshifted = (((state >> 18) ^ state) >> 27) & _MASK32
    rot = state >> 59
    return state, ((xorshifted >> rot) | (xorshifted << ((32 - rot) & 31))) & _MASK32


def _block(key: tuple[int, ...], counter: int) -> list[int]:
    """One ChaCha20 block (20 rounds, 64-bit counter, stream 0) as 16 little-endian u32 words."""
    s = [*_CONSTANTS, *key, counter & _MASK32, counter >> 32, 0, 0]
    x = s[:]

    def qr(a: int, b: int, c: int, d: int) -> None:
        x[a] = (x[a] + x[b]) & _MASK32
        t = x[d] ^ x[a]
        x[d] = ((t << 16) | (t >> 16)) & _MASK32
        x[c] = (x[c] + x[d]) & _MASK32
        t = x[b] ^ x[c]
        x[b] = ((t << 12) | (t >> 20)) & _MASK32
        x[a] = (x[a] + x[b]) & _MASK32
        t = x[d] ^ x[a]
        x[d] = ((t << 8) | (t >> 24)) & _MASK32
        x[c] = (x[c] + x[d]) & _MASK32
        t = x[b] ^ x[c]
        x[b] = ((t << 7) | (t >> 25)) & _MASK32

    for _ in range(10):
        qr(0, 4, 8, 12)
        qr(1, 5, 9, 13)
        qr(2, 6, 10, 14)
        qr(3, 7, 11, 15)
        qr(0, 5, 10, 15)
        qr(1, 6, 11, 12)
        qr(2, 7, 8, 13)
        qr(3, 4, 9, 14)
    return [(a + b) & _MASK32 for a, b in zip(x, s, strict=True)]


class ChaCha20Rng:
    """`rand_chacha::ChaCha20Rng` as the original seeds it: `seed_from_u64(seed)`, then `next_u32()`."""

    __slots__ = ("_buf", "_counter", "_key", "_pos")

    def __init__(self, seed: int) -> None:
        # PCG32 writes each word little-endian into the seed; ChaCha reads the key as little-endian words
        self._key = struct.unpack("<8I", _seed_key(seed))
        self._counter = 0
        self._buf: list[int] = []
        self._pos = 0

    def next_u32(self) -> int:
        if self._pos >= len(self._buf):
            self._buf = _block(self._key, self._counter)
            self._counter += 1
            self._pos = 0
        v = self._buf[self._pos]
        self._pos += 1
        return v


def _seed_key(seed: int) -> bytes:
    state = int(seed) & _MASK64
    words = []
    for _ in range(8):
        state, w = _pcg32(state)
        words.append(w)
    return struct.pack("<8I", *words)


def keystream_words(seed: int, count: int) -> array:
    """The first `count` `next_u32()` values of `ChaCha20Rng::seed_from_u64(seed)`."""
    out = array("I")
    if count <= 0:
        return out
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
    except ImportError:  # pragma: no cover - cryptography is a dependency of s3dlio-ml
        rng = ChaCha20Rng(seed)
        out.extend(rng.next_u32() for _ in range(count))
        return out
    # 16-byte IV = 32-bit block counter 0 + 96-bit nonce 0: the same words as rand_chacha's 64-bit counter
    enc = Cipher(algorithms.ChaCha20(_seed_key(seed), bytes(16)), mode=None).encryptor()
    out.frombytes(enc.update(bytes(4 * count)))
    if out.itemsize != 4 or struct.pack("=I", 1) != struct.pack("<I", 1):  # pragma: no cover - exotic ABI
        out = array("I", struct.unpack(f"<{count}I", out.tobytes()))
    return out


def shuffled_indices(n: int, seed: int) -> array:
    """`0..n` shuffled exactly as the original's PyAsyncDataLoader does for `seed`."""
    order = array("q", range(n))
    if n < 2:
        return order
    words = keystream_words(seed, n - 1)
    for w, i in enumerate(range(n - 1, 0, -1)):
        j = words[w] % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def epoch_seed(seed: int, epoch: int) -> int:
    """The shuffle seed of `epoch`: epoch 0 is `seed` itself (the original's order), later epochs differ."""
    return (int(seed) + int(epoch) * _GOLDEN) & _MASK64


@functools.lru_cache(maxsize=8)
def _cached_order(n: int, seed: int, epoch: int) -> array:
    return shuffled_indices(n, epoch_seed(seed, epoch))


def epoch_order(n: int, shuffle: bool, seed: int, epoch: int) -> array | range:
    """Dataset indices in the order of `epoch`: `range(n)` unless shuffling. The same on every rank and
    worker for the same (n, seed, epoch), so shards cut from it are disjoint."""
    if not shuffle or n < 2:
        return range(n)
    return _cached_order(n, int(seed) & _MASK64, int(epoch))


def shard_positions(n: int, shard: int, shards: int) -> range:
    """Positions `k` of an epoch order kept by shard `shard` of `shards`: `k % shards == shard` (the
    original's stream-dataset rule, shard = rank * workers + worker)."""
    if shards < 1 or not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is outside 0..{shards - 1}")
    return range(shard, n, shards)
