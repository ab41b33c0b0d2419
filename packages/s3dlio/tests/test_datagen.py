"""Synthetic data generation through the flat API: the dedup/compress ratios hold by construction,
1/1 data is incompressible and never repeats a block, seeds reproduce, buffers are filled in place."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest
import s3dlio
import zstandard

MiB = 1 << 20


def unique_blocks(data: object, block: int = MiB) -> tuple[int, int]:
    """(blocks, unique blocks) when `data` is cut into `block`-byte pieces."""
    mv = memoryview(data).cast("B")
    digests = [hashlib.blake2b(mv[i:i + block], digest_size=16).digest() for i in range(0, len(mv), block)]
    return len(digests), len(set(digests))


def zstd1_ratio(data: object) -> float:
    mv = memoryview(data).cast("B")
    return len(mv) / len(zstandard.ZstdCompressor(level=1).compress(mv))


@pytest.mark.parametrize("dedup", [1, 2, 3, 4, 7])
def test_dedup_factor_gives_d_times_fewer_unique_blocks(dedup: int) -> None:
    size = 24 * MiB
    data = s3dlio.generate_data(size, dedup, 1)
    assert isinstance(data, s3dlio.BytesView) and len(data) == size
    blocks, unique = unique_blocks(data)
    assert blocks == 24
    assert abs(unique - blocks / dedup) <= 1, (dedup, unique)


@pytest.mark.parametrize("compress", [1, 2, 3, 4, 6])
def test_compress_factor_gives_c_times_compression_with_zstd_level_1(compress: int) -> None:
    data = s3dlio.generate_data(16 * MiB, 1, compress)
    ratio = zstd1_ratio(data)
    if compress == 1:
        assert ratio <= 1.01
    else:
        assert abs(ratio - compress) <= 0.1 * compress, ratio


def test_dedup_and_compress_combine() -> None:
    data = s3dlio.generate_data(16 * MiB, 4, 3)
    _, unique = unique_blocks(data)
    assert unique == 4
    # zstd level 1's window is smaller than the repeat distance, so measure compression on unique blocks
    assert abs(zstd1_ratio(memoryview(data)[: 4 * MiB]) - 3) <= 0.3


def test_one_one_is_incompressible_and_unique_within_and_across_calls() -> None:
    a = s3dlio.generate_data(8 * MiB)
    b = s3dlio.generate_data(8 * MiB)
    assert zstd1_ratio(a) <= 1.01
    for block in (4096, MiB):
        blocks, unique = unique_blocks(bytes(a) + bytes(b), block)
        assert unique == blocks  # no block repeats, in one call or across two
    assert bytes(a) != bytes(b)


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    gen = s3dlio.generate_data
    assert bytes(gen(3 * MiB + 5, 2, 2, seed=42)) == bytes(gen(3 * MiB + 5, 2, 2, seed=42))
    assert bytes(gen(MiB, seed=1)) != bytes(gen(MiB, seed=2))


def test_thread_count_does_not_change_the_bytes() -> None:
    one = s3dlio.generate_data_with_threads(9 * MiB + 123, 3, 2, threads=1, seed=5)
    many = s3dlio.generate_data_with_threads(9 * MiB + 123, 3, 2, threads=4, seed=5)
    assert bytes(one) == bytes(many)
    assert len(s3dlio.generate_data_with_threads(MiB, threads=None)) == MiB


def test_small_and_odd_sizes() -> None:
    assert len(s3dlio.generate_data(0)) == 0
    assert len(s3dlio.generate_data(1)) == 1
    tiny = bytes(s3dlio.generate_data(1000, 1, 3))
    assert tiny.endswith(b"\0" * 666) and tiny[:334].count(0) < 10
    assert len(s3dlio.generate_data(3 * MiB // 2, 1, 2)) == 3 * MiB // 2
    # factors of 0 count as 1, like the original
    assert zstd1_ratio(s3dlio.generate_data(2 * MiB, 0, 0)) <= 1.01


def test_bad_arguments_raise_clear_errors() -> None:
    with pytest.raises(OverflowError):
        s3dlio.generate_data(-1)
    with pytest.raises(OverflowError):
        s3dlio.generate_data(10, -2)
    with pytest.raises(TypeError):
        s3dlio.generate_data("10")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="writable"):
        s3dlio.generate_into_buffer(b"readonly")


@pytest.mark.parametrize("kind", ["bytearray", "numpy", "numpy2d", "memoryview"])
def test_generate_into_buffer_fills_in_place(kind: str) -> None:
    n = 2 * MiB + 24
    backing: object = np.zeros(n, dtype=np.uint8) if kind.startswith("numpy") else bytearray(n)
    buf = {"bytearray": backing, "numpy": backing, "memoryview": memoryview(backing),  # type: ignore[arg-type]
           "numpy2d": backing.reshape(-1, 8) if kind == "numpy2d" else None}[kind]  # type: ignore[union-attr]
    assert s3dlio.generate_into_buffer(buf, 1, 2) == n
    raw = bytes(memoryview(backing).cast("B"))  # type: ignore[arg-type]
    assert raw.count(0) >= MiB // 2  # the zero runs compress 2 needs
    assert zstd1_ratio(raw) > 1.5


def test_streaming_generator_matches_one_shot_whatever_the_chunks() -> None:
    size = 5 * MiB + 777
    whole = bytes(s3dlio.generate_data(size, 2, 3, seed=99))
    g = s3dlio.Generator(size, 2, 3, seed=99)
    assert g.chunk_size == 32 * MiB
    out = bytearray()
    buf = bytearray(300_001)
    while n := g.fill_chunk(buf):
        out += buf[:n]
    assert g.is_complete() and g.fill_chunk(buf) == 0
    assert bytes(out) == whole
    g.reset()
    assert not g.is_complete()
    first = bytearray(MiB)
    assert g.fill_chunk(first) == MiB and bytes(first) == whole[:MiB]
    assert s3dlio.Generator(10, chunk_size=4096).chunk_size == 4096


def test_generator_without_seed_differs_between_instances() -> None:
    a, b = bytearray(MiB), bytearray(MiB)
    s3dlio.Generator(MiB).fill_chunk(a)
    s3dlio.Generator(MiB).fill_chunk(b)
    assert a != b


def test_xorstream_is_unique_per_fill_and_counts() -> None:
    x = s3dlio.XorStream()
    buf = bytearray(4 * MiB)
    x.fill(buf)
    first = bytes(buf)
    x.fill(buf)
    assert bytes(buf) != first
    assert x.objects_generated == 2
    g = x.generate(MiB)
    assert isinstance(g, s3dlio.BytesView) and len(g) == MiB
    assert x.objects_generated == 3
    blocks, unique = unique_blocks(first + bytes(buf) + bytes(g), 512)
    assert unique == blocks
    assert zstd1_ratio(first) <= 1.01


def test_default_threads_is_positive() -> None:
    assert s3dlio.py_default_data_gen_threads() >= 1


def test_import_s3dlio_does_not_import_numpy() -> None:
    code = "import sys, s3dlio; s3dlio.Generator; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_numpy_kernel_keeps_every_property() -> None:
    """The fallback kernel (no `cryptography`) gives the same ratios, uniqueness and reproducibility."""
    code = """
import hashlib, zstandard, s3dlio
from s3dlio_ml._datagen_kernel import kernel_name
assert kernel_name() == "numpy"
MiB = 1 << 20
d = bytes(s3dlio.generate_data(8 * MiB, 2, 3, seed=11, exact=False))
assert d == bytes(s3dlio.generate_data_with_threads(8 * MiB, 2, 3, threads=3, seed=11, exact=False))
assert len({hashlib.sha1(d[i:i + MiB]).digest() for i in range(0, len(d), MiB)}) == 4
r = 4 * MiB / len(zstandard.ZstdCompressor(level=1).compress(d[:4 * MiB]))
assert abs(r - 3) < 0.3, r
u = bytes(s3dlio.generate_data(4 * MiB)) + bytes(s3dlio.generate_data(4 * MiB))
assert len({u[i:i + 4096] for i in range(0, len(u), 4096)}) == len(u) // 4096
assert len(zstandard.ZstdCompressor(level=1).compress(u)) >= len(u) / 1.01
print("ok")
"""
    import os

    env = {**os.environ, "S3DLIO_DATAGEN_KERNEL": "numpy"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr
