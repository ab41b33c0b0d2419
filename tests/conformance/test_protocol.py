"""The protocol the ML layers stand on, on every store: suffix and typed ranges, get_ranges coalescing,
get_range_into, open_reader as a file object, listing with metadata, writer file-object methods."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
import s3dlio_core
from s3dlio_core import instrument as ins
from s3dlio_core.ranges import ByteRange, OffsetRange, SuffixRange

MiB = 1 << 20


@pytest.fixture
def recorded():
    rows: list[ins.OpRecord] = []
    ins.add_observer(rows.append)
    yield rows
    ins.remove_observer(rows.append)


def _store(prefix: str) -> s3dlio_core.ObjectStore:
    return s3dlio_core.store_for_uri(prefix)[0]


def test_suffix_and_open_ended_ranges(store_prefix: str) -> None:
    store = _store(store_prefix)
    data = os.urandom(1000)
    uri = store_prefix + "r.bin"
    store.put(uri, data)
    assert bytes(store.get_suffix(uri, 24)) == data[-24:]
    assert bytes(store.get_suffix(uri, 5000)) == data
    assert bytes(store.get_range(uri, 0, 2**64 - 1)) == data
    assert bytes(store.get_range(uri, 10, 2**64 - 1)) == data[10:]
    assert bytes(store.get_range(uri, 990, 100)) == data[990:]


def test_get_ranges_in_order_zero_copy(store_prefix: str, recorded) -> None:
    store = _store(store_prefix)
    data = os.urandom(3 * MiB)
    uri = store_prefix + "many.bin"
    store.put(uri, data)
    ranges = [ByteRange(2 * MiB, 2 * MiB + 10), (5, 10), SuffixRange(100), OffsetRange(3 * MiB - 50), (0, 3)]
    recorded.clear()
    got = store.get_ranges(uri, ranges, coalesce_gap=4096)
    assert [bytes(m) for m in got] == [data[2 * MiB:2 * MiB + 10], data[5:15], data[-100:], data[-50:],
                                       data[0:3]]
    assert got[1].obj is got[4].obj
    assert sum(1 for r in recorded if r.op == "GET_RANGE") == 3


def test_get_range_into_and_reader(store_prefix: str, recorded) -> None:
    store = _store(store_prefix)
    data = os.urandom(2 * MiB + 17)
    uri = store_prefix + "reader.bin"
    store.put(uri, data)
    buf = bytearray(1 * MiB)
    assert store.get_range_into(uri, MiB - 100, buf) == MiB
    assert buf == data[MiB - 100:2 * MiB - 100]
    assert store.get_range_into(uri, 2 * MiB, buf) == 17
    recorded.clear()
    with store.open_reader(uri, size=len(data), buffer_size=64 << 10) as f:
        f.seek(123_456)
        assert f.read(100) == data[123_456:123_556]
        f.seek(-7, io.SEEK_END)
        assert f.read() == data[-7:]
    assert sum(r.bytes for r in recorded if r.op == "GET_RANGE") < 256 << 10


def test_zipfile_through_open_reader(store_prefix: str) -> None:
    store = _store(store_prefix)
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("x.txt", b"x" * 1000)
        z.writestr("y.bin", os.urandom(70_000))
    uri = store_prefix + "a.zip"
    store.put(uri, b.getvalue())
    with store.open_reader(uri) as f, zipfile.ZipFile(f) as z:
        assert z.namelist() == ["x.txt", "y.bin"]
        assert z.read("x.txt") == b"x" * 1000
        assert z.testzip() is None


def test_list_info_sizes_from_the_listing(store_prefix: str, recorded) -> None:
    store = _store(store_prefix)
    for i, n in enumerate([0, 1, 300, 5000]):
        store.put(store_prefix + f"li/o{i}.bin", os.urandom(n))
    store.put(store_prefix + "li/sub/deep.bin", b"12345")
    recorded.clear()
    infos = store.list_info(store_prefix + "li/", recursive=True)
    assert [i.uri for i in infos] == sorted(store.list(store_prefix + "li/", recursive=True))
    sizes = {i.uri.rsplit("/", 1)[1]: i.size for i in infos}
    assert sizes == {"o0.bin": 0, "o1.bin": 1, "o2.bin": 300, "o3.bin": 5000, "deep.bin": 5}
    assert all(i.last_modified and i.etag for i in infos)
    assert not [r for r in recorded if r.op == "HEAD"]
    top = store.list_info(store_prefix + "li/")
    dirs = [i for i in top if i.is_dir]
    if dirs:  # stores that list directories in one-level listings
        assert [d.uri for d in dirs] == [store_prefix + "li/sub/"] and dirs[0].size is None


def test_writer_tell_flush_and_torch_like_use(store_prefix: str) -> None:
    store = _store(store_prefix)
    uri = store_prefix + "w/stream.bin"
    with store.open_writer(uri) as w:
        for i in range(5):
            w.write(bytes([i]) * 1000)
            w.flush()
            assert w.tell() == (i + 1) * 1000
        assert w.writable() and not w.seekable()
        assert not store.exists(uri)
    assert store.stat(uri)["size"] == 5000
