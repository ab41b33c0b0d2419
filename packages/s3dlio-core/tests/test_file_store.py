"""file:// semantics: atomic writes, concurrency, list/delete rules, stat, ranges and errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading

import pytest
from s3dlio_core import (
    LengthMismatchError,
    ObjectNotFoundError,
    S3dlioError,
    store_for_uri,
)
from s3dlio_core.file_store import TEMP_PREFIX


@pytest.fixture
def root(tmp_path) -> str:
    return f"file://{tmp_path}/"


@pytest.fixture
def store(root):
    return store_for_uri(root)[0]


def test_put_creates_parents_and_roundtrips(store, root) -> None:
    uri = root + "a/b/c/obj.bin"
    store.put(uri, b"payload")
    assert bytes(store.get(uri)) == b"payload"


def test_put_accepts_buffers_and_streams(store, root, tmp_path) -> None:
    import array

    import numpy as np

    store.put(root + "arr", array.array("i", [1, 2, 3]))
    assert len(store.get(root + "arr")) == 12
    store.put(root + "np", np.arange(4, dtype=np.uint16))
    assert bytes(store.get(root + "np")) == np.arange(4, dtype=np.uint16).tobytes()
    src = tmp_path / "src.bin"
    payload = os.urandom(3 << 20)
    src.write_bytes(payload)
    with open(src, "rb") as f:
        store.put(root + "from-file", f)
    assert bytes(store.get(root + "from-file")) == payload
    import io

    store.put(root + "from-bytesio", io.BytesIO(payload))
    assert bytes(store.get(root + "from-bytesio")) == payload


@pytest.mark.parametrize("bad", [1, True, "text", [1, 2], None])
def test_put_rejects_non_bytes(store, root, bad) -> None:
    with pytest.raises(TypeError, match="Cannot convert data to bytes"):
        store.put(root + "x", bad)


def test_ranges(store, root) -> None:
    data = os.urandom(10_000)
    uri = root + "r"
    store.put(uri, data)
    assert bytes(store.get_range(uri, 0, 10)) == data[:10]
    assert bytes(store.get_range(uri, 9_995)) == data[9_995:]
    assert bytes(store.get_range(uri, 9_995, 100)) == data[9_995:]
    assert bytes(store.get_range(uri, 20_000, 5)) == b""  # past the end: empty, like the original
    with pytest.raises(OverflowError):
        store.get_range(uri, -1, 5)
    with pytest.raises(OverflowError):
        store.get_range(uri, 0, -5)


def test_get_into_checks_length(store, root) -> None:
    uri = root + "g"
    store.put(uri, b"0123456789")
    assert store.get_into(uri, bytearray(10)) == 10
    with pytest.raises(LengthMismatchError) as ei:
        store.get_into(uri, bytearray(20))
    assert ei.value.expected == 20 and ei.value.actual == 10 and uri in str(ei.value)
    with pytest.raises(LengthMismatchError):
        store.get_into(uri, bytearray(4))
    with pytest.raises(ValueError, match="writable"):
        store.get_into(uri, b"0" * 10)


def test_stat_fields(store, root) -> None:
    uri = root + "s.bin"
    store.put(uri, b"x" * 123)
    st = store.stat(uri)
    assert list(st) == ["size", "last_modified", "etag", "content_type", "content_language",
                        "content_encoding", "cache_control", "content_disposition", "expires",
                        "storage_class", "server_side_encryption", "ssekms_key_id",
                        "sse_customer_algorithm", "version_id", "replication_status", "metadata"]
    assert st["size"] == 123
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", st["last_modified"])
    assert re.fullmatch(r"file-123-\d+", st["etag"])
    assert st["storage_class"] == "STANDARD" and st["metadata"] == {}


def test_missing_and_directory_errors(store, root) -> None:
    with pytest.raises(ObjectNotFoundError) as ei:
        store.get(root + "nope")
    assert "nope" in str(ei.value) and isinstance(ei.value, FileNotFoundError)
    with pytest.raises(ObjectNotFoundError, match="File not found"):
        store.stat(root + "nope")
    store.mkdir(root + "d")
    with pytest.raises(ObjectNotFoundError, match="not a file"):
        store.stat(root + "d")
    assert store.exists(root + "d") is False
    assert store.exists(root + "nope") is False


def test_list_rules(store, root, tmp_path) -> None:
    for k in ["a.bin", "foobar.bin", "sub/s.dat", "c.dat", "sub/deeper/z.dat"]:
        store.put(root + k, k.encode())
    assert store.list(root) == [root + "a.bin", root + "c.dat", root + "foobar.bin", root + "sub/"]
    assert store.list(root.rstrip("/")) == store.list(root)  # file:///d and file:///d/ are the same
    assert store.list(root, recursive=True) == [root + "a.bin", root + "c.dat", root + "foobar.bin",
                                                root + "sub/deeper/z.dat", root + "sub/s.dat"]
    assert store.list(root + "a.bin") == [root + "a.bin"]  # a file lists itself
    assert store.list(root + "foo") == []  # no prefix matching on a filesystem
    assert store.list(root + "missing/") == []
    assert store.list(root, recursive=True, pattern=r"\.dat$") == [root + "c.dat", root + "sub/deeper/z.dat",
                                                                    root + "sub/s.dat"]
    assert store.list(root, pattern="^sub/") == [root + "sub/"]
    with pytest.raises(S3dlioError, match="Invalid regex pattern"):
        store.list(root, pattern="(")


def test_list_pages_stream(store, root) -> None:
    store.put_many([(root + f"many/{i:05d}", b"x") for i in range(2500)], max_in_flight=8)
    it = store.list_iter(root + "many/")
    first = next(it)
    assert first == root + "many/00000"
    assert 1 + sum(1 for _ in it) == 2500


def test_delete_contract(store, root, tmp_path) -> None:
    store.put(root + "d/one", b"1")
    store.put(root + "d/sub/two", b"2")
    store.put(root + "keep", b"k")
    store.delete(root + "missing")  # missing: success
    with pytest.raises(S3dlioError, match="is a directory; use -r / recursive=True"):
        store.delete(root + "d/")
    assert store.exists(root + "d/one")
    store.delete(root + "d/one")
    assert not store.exists(root + "d/one")
    store.delete(root + "d", recursive=True)  # with or without the trailing '/'
    assert store.list(root, recursive=True) == [root + "keep"]
    assert not (tmp_path / "d").exists()  # emptied directories go too: the prefix lists nothing


def test_writer_commits_only_on_close(store, root, tmp_path) -> None:
    uri = root + "streamed.bin"
    w = store.open_writer(uri)
    w.write(b"part1-")
    w.write(memoryview(b"part2"))
    assert not store.exists(uri)
    assert store.list(root) == []  # the temporary file is never listed
    assert w.close() == 11
    assert bytes(store.get(uri)) == b"part1-part2"


def test_writer_abort_and_exception_leave_nothing(store, root, tmp_path) -> None:
    w = store.open_writer(root + "aborted")
    w.write(b"x" * 1000)
    w.abort()
    with pytest.raises(RuntimeError, match="boom"), store.open_writer(root + "failed") as w2:
        w2.write(b"y" * 1000)
        raise RuntimeError("boom")
    w3 = store.open_writer(root + "dropped")
    w3.write(b"z")
    del w3
    assert os.listdir(tmp_path) == []


def test_killed_writer_leaves_nothing_visible(tmp_path) -> None:
    """A process killed in the middle of a write leaves no object and no listed entry."""
    target = tmp_path / "victim.bin"
    code = textwrap.dedent(f"""
        import os, signal, sys
        from s3dlio_core import store_for_uri
        uri = "file://{target}"
        store, _ = store_for_uri(uri)
        w = store.open_writer(uri)
        w.write(b"a" * (4 << 20))
        sys.stdout.write("written\\n"); sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert "written" in proc.stdout
    assert not target.exists()
    store, _ = store_for_uri(f"file://{tmp_path}/")
    assert store.list(f"file://{tmp_path}/", recursive=True) == []
    # the orphaned temp file is hidden from listings and does not block the next write
    assert any(n.startswith(TEMP_PREFIX) for n in os.listdir(tmp_path))
    store.put(f"file://{target}", b"ok")
    assert bytes(store.get(f"file://{target}")) == b"ok"


def test_concurrent_writers_and_readers_never_see_a_mix(store, root) -> None:
    uri = root + "contended.bin"
    size = 1 << 20
    payloads = [bytes([c]) * size for c in b"ABCD"]
    store.put(uri, payloads[0])
    stop = threading.Event()
    errors: list[str] = []

    def writer(p: bytes) -> None:
        for _ in range(20):
            store.put(uri, p)

    def reader() -> None:
        while not stop.is_set():
            v = store.get(uri)
            if len(v) != size or v.count(v[0:1]) != size:
                errors.append(f"torn read: len={len(v)}")

    readers = [threading.Thread(target=reader) for _ in range(3)]
    writers = [threading.Thread(target=writer, args=(p,)) for p in payloads]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    final = store.get(uri)
    assert bytes(final) in payloads


def test_download_to_is_atomic(store, root, tmp_path) -> None:
    data = os.urandom(2 << 20)
    store.put(root + "dl/src.bin", data)
    dest = tmp_path / "out" / "copy.bin"
    assert store.download_to(root + "dl/src.bin", str(dest)) == len(data)
    assert dest.read_bytes() == data
    with pytest.raises(ObjectNotFoundError):
        store.download_to(root + "dl/missing.bin", str(tmp_path / "out" / "never.bin"))
    assert sorted(os.listdir(tmp_path / "out")) == ["copy.bin"]


def test_mkdir_and_buckets(store, root, tmp_path) -> None:
    store.mkdir(root + "x/y/z")
    store.mkdir(root + "x/y/z")  # existing is fine
    assert (tmp_path / "x" / "y" / "z").is_dir()
    assert store.list_buckets(root) == [{"name": "x", "uri": root + "x", "creation_date": None}]


def test_get_many_mixes_cached_inline_reads_and_fan_out(store, root, tmp_path) -> None:
    """Small cached objects are read inline, the rest (evicted, large) fan out: same results, in order,
    each GET recorded once."""
    from s3dlio_core import add_observer, remove_observer

    sizes = [10, 4096, 3 << 20, 100, 0, 5000]
    uris = [root + f"gm/{i}" for i in range(len(sizes))]
    datas = [os.urandom(n) for n in sizes]
    for u, d in zip(uris, datas, strict=True):
        store.put(u, d)
    fd = os.open(tmp_path / "gm" / "1", os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # not cached any more: must wait for the disk
    os.close(fd)
    seen = []
    add_observer(seen.append)
    try:
        got = store.get_many(uris, max_in_flight=8)
    finally:
        remove_observer(seen.append)
    assert [u for u, _ in got] == uris
    assert [bytes(v) for _, v in got] == datas
    assert sorted(r.uri for r in seen if r.op == "GET") == sorted(uris)
    with pytest.raises(ObjectNotFoundError):
        store.get_many([uris[0], root + "gm/missing", uris[2]])


def _resident(path: str) -> int:
    """Pages of `path` in the page cache (mincore over a mapping)."""
    import ctypes
    import mmap

    size = os.path.getsize(path)
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
        vec = (ctypes.c_ubyte * pages)()
        buf = (ctypes.c_char * size).from_buffer(mm)
        rc = libc.mincore(ctypes.c_void_p(ctypes.addressof(buf)), ctypes.c_size_t(size), vec)
        del buf
        assert rc == 0
        return sum(b & 1 for b in vec)
    finally:
        mm.close()


def test_drop_cache_after_reads_and_on_demand(tmp_path) -> None:
    from s3dlio_core import StoreConfig, new_store

    path = tmp_path / "hot.bin"
    path.write_bytes(os.urandom(4 << 20))
    uri = f"file://{path}"
    plain, _ = store_for_uri(uri)
    plain.get(uri)
    if _resident(str(path)) == 0:
        pytest.skip("this filesystem does not keep file pages in the page cache")
    assert plain.drop_cache(uri) == 1
    assert _resident(str(path)) == 0
    plain.get(uri)
    assert _resident(str(path)) > 0
    dropping = new_store(uri, StoreConfig(file_drop_cache=True))
    assert len(dropping.get(uri)) == 4 << 20
    assert _resident(str(path)) == 0
    assert plain.drop_cache(f"file://{tmp_path}/") == 1


def test_small_dataset_warns_once(recwarn) -> None:
    from s3dlio_core.hygiene import BenchmarkHygieneWarning, warn_if_cacheable

    assert warn_if_cacheable(10, "file:///tmp/ds-a/")
    assert not warn_if_cacheable(10, "file:///tmp/ds-a/")
    assert not warn_if_cacheable(1 << 62, "file:///tmp/ds-b/")
    w = [x for x in recwarn if issubclass(x.category, BenchmarkHygieneWarning)]
    assert len(w) == 1 and "ds-a" in str(w[0].message) and "MLPerf" in str(w[0].message)
