"""Bulk `put(prefix, num, template, ...)`: the original's object names, distinct content per object, the
ratios, both generation modes, the object formats and the async twin, on file://."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import pathlib
import struct

import numpy as np
import pytest
import s3dlio
import zstandard

MiB = 1 << 20


@pytest.fixture
def prefix(tmp_path: pathlib.Path) -> str:
    return f"file://{tmp_path}/bulk/"


def names(prefix: str) -> list[str]:
    return sorted(u[len(prefix):] for u in s3dlio.list(prefix, recursive=True))


def test_spec_example_names_prefix_is_a_directory(tmp_path: pathlib.Path) -> None:
    # spec: put(prefix="s3://bucket/object-{}.bin", num=10, template="obj-{}-of-{}", ...); the original
    # treats the prefix as a directory and fills the template's {} with index and total
    base = f"file://{tmp_path}/object-{{}}.bin"
    s3dlio.put(prefix=base, num=3, template="obj-{}-of-{}", size=1000, max_in_flight=64)
    assert names(base + "/") == ["obj-0-of-3", "obj-1-of-3", "obj-2-of-3"]


def test_default_template_and_sizes(prefix: str) -> None:
    s3dlio.put(prefix, 4, size=12345)
    assert names(prefix) == ["object-0", "object-1", "object-2", "object-3"]
    assert all(s3dlio.stat(prefix + n)["size"] == 12345 for n in names(prefix))


def test_prefix_without_slash_and_extra_braces(tmp_path: pathlib.Path) -> None:
    s3dlio.put(f"file://{tmp_path}/p", 2, template="a_{}_{}_{}.dat", size=10)
    assert names(f"file://{tmp_path}/p/") == ["a_0_2_{}.dat", "a_1_2_{}.dat"]


def test_template_without_braces_writes_one_name(prefix: str) -> None:
    s3dlio.put(prefix, 3, template="fixed", size=100)
    assert names(prefix) == ["fixed"]


def test_every_object_has_its_own_content(prefix: str) -> None:
    s3dlio.put(prefix, 6, size=2 * MiB + 17)
    digests = {hashlib.sha256(s3dlio.get(prefix + n)).hexdigest() for n in names(prefix)}
    assert len(digests) == 6


@pytest.mark.parametrize("mode", ["streaming", "single-pass"])
def test_ratios_hold_in_both_modes(prefix: str, mode: str) -> None:
    s3dlio.put(prefix, 2, size=8 * MiB, dedup_factor=2, compress_factor=3, data_gen_mode=mode,
               chunk_size=300_000)
    for n in names(prefix):
        data = s3dlio.get(prefix + n)
        assert len(data) == 8 * MiB
        mv = memoryview(data)
        blocks = {hashlib.sha1(mv[i:i + MiB]).digest() for i in range(0, len(mv), MiB)}
        assert len(blocks) == 4
        ratio = 4 * MiB / len(zstandard.ZstdCompressor(level=1).compress(mv[: 4 * MiB]))
        assert abs(ratio - 3) <= 0.3


def test_incompressible_by_default(prefix: str) -> None:
    s3dlio.put(prefix, 1, size=4 * MiB)
    data = s3dlio.get(prefix + "object-0")
    assert len(zstandard.ZstdCompressor(level=1).compress(memoryview(data))) >= len(data) / 1.01


def test_zero_objects_and_default_size(prefix: str) -> None:
    s3dlio.put(prefix, 0)
    assert s3dlio.list(prefix, recursive=True) == []
    s3dlio.put(prefix, 1)
    assert s3dlio.stat(prefix + "object-0")["size"] == 20 * MiB


def test_should_create_bucket_makes_the_directory(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "made" / "here"
    s3dlio.put(f"file://{target}/", 0, should_create_bucket=True)
    assert target.is_dir()


def test_npz_and_tfrecord_object_types(prefix: str) -> None:
    s3dlio.put(prefix, 1, template="a.npz", size=65536, object_type="NPZ")
    arr = np.load(io.BytesIO(bytes(s3dlio.get(prefix + "a.npz"))))
    assert arr.files == ["data"]
    assert arr["data"].shape == (65536,) and arr["data"].dtype == np.uint8  # the true shape (the original: (1,))
    assert s3dlio.read_npz(prefix + "a.npz", "data").shape == (65536,)
    s3dlio.put(prefix, 1, template="a.tfrecord", size=65536, object_type="tfrecord")
    rec = bytes(s3dlio.get(prefix + "a.tfrecord"))
    assert len(rec) == 65536 + 16
    assert struct.unpack("<Q", rec[:8])[0] == 65536


def test_hdf5_object_type(prefix: str) -> None:
    import h5py  # the hdf5 extra; installed in the workspace

    s3dlio.put(prefix, 1, template="a.h5", size=4096, object_type="hdf5")
    with h5py.File(io.BytesIO(bytes(s3dlio.get(prefix + "a.h5"))), "r") as f:
        assert f["data"].shape == (4096,)


def test_zeros_and_unknown_types_are_raw(prefix: str) -> None:
    s3dlio.put(prefix, 1, template="z", size=1000, object_type="zeros")
    s3dlio.put(prefix, 1, template="r", size=1000, object_type="random")
    assert s3dlio.stat(prefix + "z")["size"] == s3dlio.stat(prefix + "r")["size"] == 1000


def test_put_async(prefix: str) -> None:
    async def go() -> None:
        await s3dlio.put_async(prefix, 3, template="as-{}", size=1000)

    asyncio.run(go())
    assert names(prefix) == ["as-0", "as-1", "as-2"]


def test_bad_arguments(prefix: str) -> None:
    with pytest.raises(ValueError, match="max_in_flight"):
        s3dlio.put(prefix, 2, size=10, max_in_flight=0)
    with pytest.raises(OverflowError):
        s3dlio.put(prefix, -1, size=10)
    with pytest.raises(s3dlio.InvalidUriError):
        s3dlio.put("nope://x/", 2, size=10)
    assert not os.path.exists(prefix[len("file://"):])


def test_put_with_bytes_still_writes_one_object(prefix: str) -> None:
    s3dlio.put(prefix + "one.bin", b"hello")
    assert bytes(s3dlio.get(prefix + "one.bin")) == b"hello"


@pytest.mark.parametrize("mode", ["streaming", "single-pass"])
def test_failed_object_leaves_nothing_half_written(tmp_path: pathlib.Path, mode: str) -> None:
    root = tmp_path / "fail"
    (root / "object-1").mkdir(parents=True)  # a directory where object-1 must go
    with pytest.raises(RuntimeError, match="object-1"):
        s3dlio.put(f"file://{root}/", 3, size=2 * MiB, max_in_flight=1, data_gen_mode=mode, chunk_size=MiB)
    leftovers = sorted(p.name for p in root.iterdir())
    assert leftovers == ["object-0", "object-1"]  # object-0 done, object-1 still the directory, no temp files
    assert (root / "object-0").stat().st_size == 2 * MiB
