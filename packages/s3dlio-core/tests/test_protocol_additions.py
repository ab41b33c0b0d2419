"""The protocol additions the ML layers build on, on file:// and memory:// (the conformance suite runs
them on every backend too): typed and suffix ranges, get_ranges, get_range_into, open_reader, listing
with metadata, writer file-object methods, per-store configs, path safety."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from s3dlio_core import instrument as ins
from s3dlio_core import new_store, store_for_uri
from s3dlio_core.errors import InvalidUriError, ObjectNotFoundError, StorageIOError
from s3dlio_core.listing import ObjectInfo
from s3dlio_core.memory_store import MemoryStore
from s3dlio_core.ranges import ByteRange, OffsetRange, SuffixRange, as_range, coalesce
from s3dlio_core.settings import settings
from s3dlio_core.store_config import StoreConfig


@pytest.fixture(params=["file", "memory"])
def root(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "file":
        return f"file://{tmp_path}/store/"
    return f"memory://t-{os.urandom(4).hex()}/"


@pytest.fixture
def recorded():
    rows: list[ins.OpRecord] = []
    ins.add_observer(rows.append)
    yield rows
    ins.remove_observer(rows.append)


DATA = bytes(range(256)) * 40  # 10240 bytes


def _put(root: str, name: str = "obj.bin", data: bytes = DATA) -> str:
    store, _ = store_for_uri(root)
    store.put(root + name, data)
    return root + name


def test_typed_ranges_validate() -> None:
    assert as_range((5, 10)) == ByteRange(5, 15)
    assert as_range((5, None)) == OffsetRange(5)
    assert as_range((5, 2**64 - 1)) == OffsetRange(5)
    assert as_range(SuffixRange(3)) == SuffixRange(3)
    with pytest.raises(ValueError, match="before its start"):
        ByteRange(10, 5)
    with pytest.raises(OverflowError):
        OffsetRange(-1)
    with pytest.raises(TypeError, match="range must be"):
        as_range("0-10")
    spans = coalesce([(0, 10), (100, 110), (12, 20), (5000, 5001)], gap=50)
    assert [(s.start, s.end, s.members) for s in spans] == [(0, 20, (0, 2)), (100, 110, (1,)),
                                                            (5000, 5001, (3,))]


def test_get_suffix_and_huge_lengths(root: str, recorded) -> None:
    store, _ = store_for_uri(root)
    uri = _put(root)
    recorded.clear()
    assert bytes(store.get_suffix(uri, 100)) == DATA[-100:]
    assert bytes(store.get_suffix(uri, 10**9)) == DATA
    assert len(store.get_suffix(uri, 0)) == 0
    assert bytes(store.get_range(uri, 0, 2**64 - 1)) == DATA
    assert bytes(store.get_range(uri, 10, 2**64 - 1)) == DATA[10:]
    assert [r.op for r in recorded if r.uri == uri][:2] == ["GET_RANGE", "GET_RANGE"]
    with pytest.raises(ObjectNotFoundError):
        store.get_suffix(root + "missing", 10)


def test_get_ranges_coalesce_and_zero_copy(root: str, recorded) -> None:
    store, _ = store_for_uri(root)
    uri = _put(root)
    ranges = [ByteRange(0, 10), (20, 5), SuffixRange(16), OffsetRange(10200), ByteRange(9000, 20000)]
    recorded.clear()
    got = store.get_ranges(uri, ranges, coalesce_gap=64)
    assert [bytes(m) for m in got] == [DATA[0:10], DATA[20:25], DATA[-16:], DATA[10200:], DATA[9000:]]
    assert all(isinstance(m, memoryview) and m.readonly for m in got)
    assert got[0].obj is got[1].obj  # one request served both: views over the same buffer
    gets = [r for r in recorded if r.op == "GET_RANGE"]
    assert len(gets) == 2  # [0, 25) and [9000, end): suffix/offset ranges fell inside the second span
    recorded.clear()
    got = store.get_ranges(uri, [(0, 1), (5000, 1)], coalesce_gap=0, size=len(DATA))
    assert [bytes(m) for m in got] == [DATA[0:1], DATA[5000:5001]]
    assert not [r for r in recorded if r.op == "HEAD"]  # size given: no stat
    assert store.get_ranges(uri, []) == []
    # only ByteRanges: no stat needed, truncated at the end
    assert [bytes(m) for m in store.get_ranges(uri, [ByteRange(10230, 10300)])] == [DATA[10230:]]


def test_get_range_into(root: str) -> None:
    store, _ = store_for_uri(root)
    uri = _put(root)
    buf = bytearray(100)
    assert store.get_range_into(uri, 50, buf) == 100
    assert buf == DATA[50:150]
    assert store.get_range_into(uri, len(DATA) - 10, buf) == 10
    assert buf[:10] == DATA[-10:]
    assert store.get_range_into(uri, len(DATA) + 5, buf) == 0
    with pytest.raises(ValueError, match="writable"):
        store.get_range_into(uri, 0, b"readonly")


def test_open_reader_is_a_seekable_file(root: str, recorded) -> None:
    store, _ = store_for_uri(root)
    uri = _put(root)
    with store.open_reader(uri, buffer_size=1024) as f:
        assert f.seekable() and f.readable()
        assert f.read(4) == DATA[:4]
        f.seek(-6, io.SEEK_END)
        assert f.read() == DATA[-6:]
        f.seek(3000)
        assert f.tell() == 3000
        big = bytearray(5000)
        assert f.readinto(big) == 5000 and big == DATA[3000:8000]
        assert f.read(10**6) == DATA[8000:]
        assert f.read(1) == b""
    # size known from a listing: no stat
    recorded.clear()
    with store.open_reader(uri, size=len(DATA)) as f:
        f.seek(100)
        assert f.read(10) == DATA[100:110]
    assert [r.op for r in recorded] == ["GET_RANGE"]


def test_open_reader_serves_zipfile_reading_only_what_it_needs(root: str, recorded) -> None:
    store, _ = store_for_uri(root)
    buf = io.BytesIO()
    big = os.urandom(3 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("big.bin", big)
        z.writestr("small.txt", b"hello")
    uri = _put(root, "a.zip", buf.getvalue())
    recorded.clear()
    with store.open_reader(uri, buffer_size=64 << 10) as f, zipfile.ZipFile(f) as z:
        assert z.read("small.txt") == b"hello"
    moved = sum(r.bytes for r in recorded if r.op == "GET_RANGE")
    assert moved < 512 << 10  # the big member was never read


def test_list_info_carries_metadata(root: str) -> None:
    store, _ = store_for_uri(root)
    _put(root, "d/a.bin", b"a" * 10)
    _put(root, "d/sub/b.bin", b"b" * 20)
    flat = store.list_info(root + "d/")
    assert [(os.path.basename(e.uri.rstrip("/")), e.size, e.is_dir) for e in flat] == [
        ("a.bin", 10, False), ("sub", None, True)]
    rec = store.list_info(root + "d/", recursive=True)
    assert all(isinstance(e, ObjectInfo) for e in rec)
    assert [e.size for e in rec] == [10, 20]
    assert all(e.last_modified and e.last_modified.endswith("Z") and e.etag for e in rec)
    assert [e.uri for e in rec] == store.list(root + "d/", recursive=True)
    assert [e.uri for e in store.list_info(root + "d/", True, pattern=r"\.bin$")] == [e.uri for e in rec]
    assert store.list_info(root + "nothing-here/", True) == []


def test_writer_file_object_methods(root: str) -> None:
    store, _ = store_for_uri(root)
    w = store.open_writer(root + "w.bin")
    assert w.writable() and not w.seekable() and not w.readable() and w.tell() == 0
    w.write(b"abc")
    w.flush()
    assert w.tell() == 3 and w.name == root + "w.bin"
    assert not store.exists(root + "w.bin")
    w.close()
    assert not w.writable()
    with pytest.raises(ValueError):
        w.flush()
    assert bytes(store.get(root + "w.bin")) == b"abc"


def test_store_config_overrides_settings_and_hides_secrets() -> None:
    cfg = StoreConfig(max_retry_attempts=7, multipart_part_size=8 << 20)
    store = new_store("memory://cfg/", cfg)
    assert store is not store_for_uri("memory://cfg/")[0]
    assert store.settings.max_retry_attempts == 7 and store.settings.multipart_part_size == 8 << 20
    assert store.settings.range_threshold == settings().range_threshold
    assert store_for_uri("memory://cfg/")[0].settings is settings()

    from dataclasses import dataclass

    @dataclass(frozen=True, repr=False)
    class WithSecrets(StoreConfig):
        endpoint_url: str | None = None
        secret_access_key: str | None = None
        session_token: str | None = None

    text = repr(WithSecrets(endpoint_url="http://h:1", secret_access_key="hunter2", session_token="tok"))
    assert "hunter2" not in text and "tok'" not in text and "http://h:1" in text and "***" in text


def test_dotdot_paths_are_refused(tmp_path) -> None:
    root = tmp_path / "R"
    root.mkdir()
    for uri in (f"file://{root}/../x", f"file://{root}/sub/../../x", f"file://{root}/a/b/../../../x",
                f"direct://{root}/../x", "file://../x"):
        with pytest.raises(InvalidUriError) as ei:
            store_for_uri(uri)[0].put(uri, b"x")
        assert ei.value.uri == uri
    assert not (tmp_path / "x").exists()
    # percent-encoded stays a literal name
    store, _ = store_for_uri(f"file://{root}/")
    store.put(f"file://{root}/%2e%2e/x", b"ok")
    assert (root / "%2e%2e" / "x").read_bytes() == b"ok"


def _remove_deep(top: str) -> None:
    """Remove a directory chain too deep for shutil.rmtree's recursion (and for PATH_MAX): descend with
    chdir, then remove bottom-up by relative names."""
    here = os.getcwd()
    depth = 0
    try:
        os.chdir(top)
        while True:
            subs = [e for e in os.listdir(".") if os.path.isdir(e)]
            for f in os.listdir("."):
                if not os.path.isdir(f):
                    os.unlink(f)
            if not subs:
                break
            os.chdir(subs[0])
            depth += 1
        for _ in range(depth):
            name = os.path.basename(os.getcwd())
            os.chdir("..")
            os.rmdir(name)
    finally:
        os.chdir(here)
    os.rmdir(top)


def test_very_deep_paths_give_a_typed_error(tmp_path) -> None:
    deep = "/".join(["d"] * 2100)
    uri = f"file://{tmp_path}/{deep}/x.bin"
    try:
        with pytest.raises(StorageIOError) as ei:
            store_for_uri(uri)[0].put(uri, b"x")
        assert ei.value.uri == uri
        ok = f"file://{tmp_path}/" + "/".join(["e"] * 600) + "/y.bin"
        store_for_uri(ok)[0].put(ok, b"y")  # deeper than the recursion limit of os.makedirs' old path
        assert bytes(store_for_uri(ok)[0].get(ok)) == b"y"
    finally:  # pytest's own clean-up (shutil.rmtree) would recurse past Python's limit here
        for top in ("d", "e"):
            if os.path.isdir(tmp_path / top):
                _remove_deep(str(tmp_path / top))


def test_memory_store_buckets_and_paging() -> None:
    MemoryStore.reset()
    store, _ = store_for_uri("memory://pg/")
    store.put_many([(f"memory://pg/k/{i:05d}", b"v") for i in range(2500)], 16)
    store.put("memory://pg/k/sub/x", b"y")
    assert len(store.list("memory://pg/k/", recursive=True)) == 2501
    top = store.list("memory://pg/k/")
    assert len(top) == 2501 and top[-1] == "memory://pg/k/sub/"
    assert [b["name"] for b in store.list_buckets("memory://_/")] == ["pg"]
    with pytest.raises(StorageIOError, match="not empty"):
        store.delete_bucket("memory://pg/")
    store.delete("memory://pg/k/", recursive=True)
    assert store.list("memory://pg/", recursive=True) == []
    store.delete_bucket("memory://pg/")
    with pytest.raises(ObjectNotFoundError):
        store.get("memory://pg/k/00001")


def test_new_store_takes_a_bare_scheme() -> None:
    store = new_store("memory://", StoreConfig(max_retry_attempts=2))
    store.put("memory://bare/x", b"1")
    assert store.settings.max_retry_attempts == 2 and bytes(store.get("memory://bare/x")) == b"1"
