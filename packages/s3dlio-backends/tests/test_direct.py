"""direct:// against the real filesystem: exact bytes, any range, aligned I/O, page cache left alone."""

from __future__ import annotations

import ctypes
import errno
import logging
import mmap
import os
import pathlib

import pytest
import s3dlio
import s3dlio_core
from s3dlio_backends.direct import DirectStore
from s3dlio_backends.direct import store as direct_store
from s3dlio_backends.direct.alignment import address_of, logical_block_size

SIZES = [0, 1, 511, 512, 4095, 4096, 4097, 1 << 20, 5 * (1 << 20) + 123, 17 * (1 << 20) + 1]
_libc = ctypes.CDLL(None, use_errno=True)


def _fs_type(path: pathlib.Path) -> str:
    best, kind = "", ""
    p = str(path.resolve())
    with open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and (p == parts[1] or p.startswith(parts[1].rstrip("/") + "/")) \
                    and len(parts[1]) >= len(best):
                best, kind = parts[1], parts[2]
    return kind


@pytest.fixture
def root(tmp_path: pathlib.Path) -> pathlib.Path:
    """A directory on a disk filesystem (the checkout's, when tmp_path is on tmpfs)."""
    if _fs_type(tmp_path) != "tmpfs":
        return tmp_path
    base = pathlib.Path(__file__).resolve().parents[3] / ".pytest-direct"
    base.mkdir(exist_ok=True)
    d = base / tmp_path.name
    d.mkdir()
    return d


def test_registered_for_direct_scheme() -> None:
    store, _ = s3dlio_core.store_for_uri("direct:///tmp/x")
    assert isinstance(store, DirectStore)
    assert store.list_directories is False


@pytest.mark.parametrize("size", SIZES, ids=lambda n: f"{n}B")
def test_roundtrip_exact_size_and_ranges(root: pathlib.Path, size: int) -> None:
    data = os.urandom(size)
    uri = f"direct://{root}/obj.bin"
    s3dlio.put(uri, data)
    assert os.path.getsize(root / "obj.bin") == size  # the unaligned tail was cut exactly
    got = s3dlio.get(uri)
    assert isinstance(got, s3dlio.BytesView)
    assert bytes(got) == data
    for off, ln in [(0, None), (3, 10), (size // 2, None), (max(0, size - 5), 100), (size + 10, 5),
                    (511, 1000), (4095, 4098)]:
        want = data[off:] if ln is None else data[off: off + ln]
        assert bytes(s3dlio.get_range(uri, off, ln)) == want, (off, ln)
    assert s3dlio.stat(uri)["size"] == size
    buf = bytearray(size)
    assert s3dlio.get_into(uri, buf) == size and bytes(buf) == data


def test_writer_is_atomic_and_exact(root: pathlib.Path) -> None:
    store, _ = s3dlio_core.store_for_uri(f"direct://{root}/")
    uri = f"direct://{root}/stream.bin"
    parts = [os.urandom(n) for n in (1, 4096, 100_000, 3 << 20, 7)]
    w = store.open_writer(uri)
    for p in parts:
        w.write(p)
    assert not (root / "stream.bin").exists()  # nothing visible before close
    assert s3dlio.list(f"direct://{root}/") == []  # the temporary file is never listed
    w.close()
    assert (root / "stream.bin").read_bytes() == b"".join(parts)
    w2 = store.open_writer(f"direct://{root}/aborted.bin")
    w2.write(b"x" * 10_000)
    w2.abort()
    assert sorted(os.listdir(root)) == ["stream.bin"]


def test_listing_omits_directories(root: pathlib.Path) -> None:
    for k in ["a.bin", "sub/b.bin", "sub/deeper/c.bin"]:
        s3dlio.put(f"direct://{root}/{k}", b"x")
    p = f"direct://{root}/"
    assert s3dlio.list(p) == [p + "a.bin"]
    assert sorted(s3dlio.list(p, recursive=True)) == [p + "a.bin", p + "sub/b.bin", p + "sub/deeper/c.bin"]


def test_block_size_from_sysfs_is_a_power_of_two(root: pathlib.Path) -> None:
    bs = logical_block_size(os.stat(root).st_dev)
    assert bs >= 512 and bs & (bs - 1) == 0


def test_read_result_is_the_aligned_buffer_itself(root: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The O_DIRECT read lands in the returned object: its data starts inside the allocation we aligned."""
    data = os.urandom(3 * 4096 + 17)
    (root / "f.bin").write_bytes(data)
    seen: list[tuple[int, int]] = []
    real = direct_store._pread_aligned

    def spy(fd: int, mv: memoryview, offset: int, block: int) -> int:
        seen.append((address_of(mv.obj), mv.nbytes))  # the BytesView being filled
        return real(fd, mv, offset, block)

    monkeypatch.setattr(direct_store, "_pread_aligned", spy)
    v = s3dlio.get(f"direct://{root}/f.bin")
    assert bytes(v) == data
    assert len(seen) == 1
    # front deletion moved the start pointer inside the same allocation: the address is page-aligned
    assert address_of(v) % mmap.PAGESIZE == 0


def _resident_pages(path: pathlib.Path) -> int:
    size = path.stat().st_size
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY)
    try:
        c = (ctypes.c_char * size).from_buffer(mm)
        npages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
        vec = (ctypes.c_ubyte * npages)()
        rc = _libc.mincore(ctypes.c_void_p(ctypes.addressof(c)), ctypes.c_size_t(size), vec)
        del c
        assert rc == 0, os.strerror(ctypes.get_errno())
        return sum(b & 1 for b in vec)
    finally:
        mm.close()


def _evict(path: pathlib.Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def test_reads_and_writes_leave_the_page_cache_alone(root: pathlib.Path) -> None:
    data = os.urandom(8 << 20)
    path = root / "cold.bin"
    path.write_bytes(data)
    _evict(path)
    if _resident_pages(path) != 0:
        pytest.skip(f"the filesystem of {root} ({_fs_type(root)}) keeps file pages resident; "
                    "page-cache behaviour cannot be observed there")
    assert bytes(s3dlio.get(f"direct://{path}")) == data
    assert _resident_pages(path) == 0  # O_DIRECT read: nothing cached
    assert bytes(s3dlio.get_range(f"direct://{path}", 12345, 1 << 20)) == data[12345: 12345 + (1 << 20)]
    assert _resident_pages(path) == 0
    assert bytes(s3dlio.get(f"file://{path}")) == data  # control: a buffered read does cache
    assert _resident_pages(path) > 0
    s3dlio.put(f"direct://{root}/written.bin", data[:(5 << 20) + 3])
    assert _resident_pages(root / "written.bin") == 0


def test_falls_back_to_buffered_io_with_one_warning(root: pathlib.Path, monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """Filesystems that refuse O_DIRECT (EINVAL at open) still work, buffered, with a single warning."""
    real_open = os.open

    def refusing_open(path: str, flags: int, mode: int = 0o777, **kw: object) -> int:
        if flags & direct_store.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(direct_store.os, "open", refusing_open)
    monkeypatch.setattr(direct_store, "_warned", False)
    data = os.urandom(10_001)
    with caplog.at_level(logging.WARNING, logger="s3dlio.direct"):
        s3dlio.put(f"direct://{root}/fb.bin", data)
        assert bytes(s3dlio.get(f"direct://{root}/fb.bin")) == data
        assert bytes(s3dlio.get_range(f"direct://{root}/fb.bin", 7, 3)) == data[7:10]
    warnings = [r for r in caplog.records if r.name == "s3dlio.direct" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "O_DIRECT" in warnings[0].getMessage()


def test_missing_file_and_directory_errors(root: pathlib.Path) -> None:
    with pytest.raises(s3dlio.ObjectNotFoundError) as ei:
        s3dlio.get(f"direct://{root}/nope.bin")
    assert "nope.bin" in str(ei.value)
    (root / "d").mkdir()
    with pytest.raises(s3dlio.ObjectNotFoundError):
        s3dlio.get(f"direct://{root}/d")


def test_direct_objects_are_not_memory_mapped(tmp_path) -> None:
    """map_object would read through the page cache that direct:// bypasses: the capability is off."""
    from s3dlio_core import UnsupportedOperationError, store_for_uri

    (tmp_path / "x").write_bytes(b"y" * 4096)
    store = store_for_uri(f"direct://{tmp_path}/x")[0]
    assert not store.capabilities.mmap
    with pytest.raises(UnsupportedOperationError):
        store.map_object(f"direct://{tmp_path}/x")
