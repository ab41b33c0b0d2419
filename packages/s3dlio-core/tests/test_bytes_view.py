"""BytesView: the buffer protocol on Python 3.11, and proof that reads land in it without a copy."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
from s3dlio_core import BytesView, store_for_uri
from s3dlio_core import file_store as fs_mod


def test_buffer_protocol_views() -> None:
    v = BytesView.wrap(b"hello world")
    assert len(v) == 11
    assert bytes(v) == b"hello world"
    assert v.to_bytes() == b"hello world"
    mv = memoryview(v)
    assert mv.format == "B" and mv.ndim == 1 and mv.nbytes == 11
    ro = v.memoryview()
    assert ro.readonly and ro.tobytes() == b"hello world"
    arr = np.frombuffer(v, dtype=np.uint8)
    assert arr.tobytes() == b"hello world"
    assert repr(v) == "BytesView(11 bytes)"
    assert v == b"hello world"  # value equality, as the spec's examples assume


def test_views_share_memory_with_the_buffer() -> None:
    v = BytesView.allocate(4096)
    arr = np.frombuffer(v, dtype=np.uint8)
    ro = np.frombuffer(v.memoryview(), dtype=np.uint8)
    v[0:4] = b"abcd"  # written through the owner, visible through both views
    assert arr[:4].tobytes() == b"abcd"
    assert ro[:4].tobytes() == b"abcd"
    assert np.shares_memory(arr, ro)


def test_allocate_is_uninitialised_and_sized() -> None:
    for n in (0, 1, 4096, 5 << 20):
        assert len(BytesView.allocate(n)) == n
    with pytest.raises(ValueError):
        BytesView.allocate(-1)


def test_pickles_as_bytesview() -> None:
    import pickle

    v = BytesView.wrap(b"xyz")
    w = pickle.loads(pickle.dumps(v))
    assert isinstance(w, BytesView) and w == b"xyz"


def test_file_get_reads_straight_into_the_returned_buffer(tmp_path, monkeypatch) -> None:
    """The read syscall's destination is the very object `get` returns (no intermediate buffer)."""
    data = os.urandom(3 << 20)
    p = tmp_path / "obj.bin"
    p.write_bytes(data)
    targets = []
    real_readv = os.readv

    def spy(fd, buffers):
        targets.extend(b.obj for b in buffers)
        return real_readv(fd, buffers)

    monkeypatch.setattr(fs_mod.os, "readv", spy)
    store, _ = store_for_uri(f"file://{p}")
    v = store.get(f"file://{p}")
    assert targets and all(t is v for t in targets)
    assert bytes(v) == data


def test_file_get_allocates_the_object_once(tmp_path) -> None:
    """Peak traced memory of a 32 MiB get stays at one object's size: nothing is copied."""
    size = 32 << 20
    p = tmp_path / "big.bin"
    p.write_bytes(os.urandom(size))
    store, _ = store_for_uri(f"file://{p}")
    store.get(f"file://{p}")  # warm imports
    tracemalloc.start()
    try:
        v = store.get(f"file://{p}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(v) == size
    assert peak < size * 1.02, peak


def test_range_and_get_into_land_in_place(tmp_path) -> None:
    data = os.urandom(1 << 20)
    p = tmp_path / "r.bin"
    p.write_bytes(data)
    store, _ = store_for_uri(f"file://{p}")
    dst = bytearray(len(data))
    assert store.get_into(f"file://{p}", dst) == len(data)
    assert dst == data
    arr = np.empty(len(data), dtype=np.uint8)
    assert store.get_into(f"file://{p}", arr) == len(data)
    assert arr.tobytes() == data


def _vma_flags(addr: int) -> list[str]:
    """The VmFlags of the mapping holding `addr` (from /proc/self/smaps)."""
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = lo <= addr < hi
            elif inside and head == "VmFlags:":
                return line.split()[1:]
    raise AssertionError(f"no mapping holds {addr:#x}")


def test_huge_page_advice_is_opt_in() -> None:
    """Off by default (on VMs whose host reclaims free guest memory it makes first touch ~5x dearer);
    set_hugepage_min() turns it on for large buffers only, and back off."""
    from s3dlio_core import bytes_view

    assert bytes_view.HUGEPAGE_MIN is None or os.environ.get("S3DLIO_HUGEPAGE_MIN_MB")
    size = 16 << 20
    plain = BytesView.allocate(size)
    assert "hg" not in _vma_flags(plain.address() + size // 2)
    try:
        bytes_view.set_hugepage_min(4 << 20)
        advised = BytesView.allocate(size)
        small = BytesView.allocate(1 << 20)
        assert "hg" in _vma_flags(advised.address() + size // 2)
        assert len(small) == 1 << 20
        with pytest.raises(ValueError):
            bytes_view.set_hugepage_min(-1)
    finally:
        bytes_view.set_hugepage_min(None)
    assert bytes_view.HUGEPAGE_MIN is None
    again = BytesView.allocate(size)
    assert "hg" not in _vma_flags(again.address() + size // 2)
