"""s3dlio.fsspec on memory:// and file://: registration, the path/URL rule, the requests each call makes
(counted through the instrumentation point the op-log uses), reads, writes, deletes, directories, errors."""

from __future__ import annotations

import io
import os
import pathlib
import pickle
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import fsspec
import pytest
import s3dlio
from s3dlio.fsspec import S3dlioFileSystem, strip_protocol, to_path, to_uri, to_url
from s3dlio_core import instrument
from s3dlio_core.errors import InvalidUriError, StorageIOError, ThrottledError
from s3dlio_core.memory_store import MemoryStore
from s3dlio_core.registry import register_store


@pytest.fixture
def fs() -> S3dlioFileSystem:
    return fsspec.filesystem("s3dlio")


@pytest.fixture
def mem() -> str:
    """A fresh bucket as an fsspec path ('memory/<bucket>')."""
    return f"memory/fs-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ops() -> Iterator[list[str]]:
    """The op names of every store operation made while the fixture is alive."""
    seen: list[str] = []

    def observe(rec: Any) -> None:
        seen.append(rec.op)

    instrument.add_observer(observe)
    yield seen
    instrument.remove_observer(observe)


def _tree(fs: S3dlioFileSystem, root: str) -> None:
    fs.pipe({f"{root}/a.bin": b"a" * 10, f"{root}/d/b.bin": b"b" * 20, f"{root}/d/e/c.bin": b"c" * 30,
             f"{root}/d.bak": b"x"})


# ---------------------------------------------------------------- registration and paths
def test_import_s3dlio_does_not_import_fsspec() -> None:
    code = "import sys, s3dlio; s3dlio.list('memory://b/'); print('fsspec' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_missing_fsspec_names_the_extra() -> None:
    code = ("import sys; sys.modules['fsspec'] = None\n"
            "try:\n    import s3dlio.fsspec\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 's3dlio[fsspec]'" in out


def test_registered_through_the_entry_point() -> None:
    from importlib.metadata import entry_points

    eps = [ep for ep in entry_points(group="fsspec.specs") if ep.name == "s3dlio"]
    assert [ep.value for ep in eps] == ["s3dlio.fsspec:S3dlioFileSystem"]
    assert fsspec.get_filesystem_class("s3dlio") is S3dlioFileSystem
    assert "s3dlio" in fsspec.available_protocols()
    fs, path = fsspec.url_to_fs("s3dlio://memory/bkt/x/y.bin")
    assert isinstance(fs, S3dlioFileSystem) and path == "memory/bkt/x/y.bin"


@pytest.mark.parametrize(("uri", "path"), [
    ("s3://bucket/key/a.bin", "s3/bucket/key/a.bin"),
    ("s3://127.0.0.1:9000/bucket/key", "s3/127.0.0.1:9000/bucket/key"),
    ("gs://bucket/k", "gs/bucket/k"),
    ("gcs://bucket/k", "gcs/bucket/k"),
    ("az://acct/cont/blob", "az/acct/cont/blob"),
    ("memory://b/k", "memory/b/k"),
    ("file:///data/x.npz", "file/data/x.npz"),
    ("direct:///data/x.npz", "direct/data/x.npz"),
])
def test_path_rule(uri: str, path: str) -> None:
    assert to_path(uri) == path
    assert to_uri(path) == uri
    assert to_url(uri) == "s3dlio://" + path
    assert strip_protocol("s3dlio://" + path) == path == strip_protocol(uri)
    assert S3dlioFileSystem._strip_protocol("s3dlio://" + path + "/") == path
    assert fsspec.filesystem("s3dlio").unstrip_protocol(path) == "s3dlio://" + path


def test_path_rule_edges(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert to_uri("s3/bucket") == "s3://bucket/"  # a bucket itself
    assert to_uri("s3/127.0.0.1:9000/bucket") == "s3://127.0.0.1:9000/bucket/"
    assert to_uri("s3/b/dir", directory=True) == "s3://b/dir/"
    assert to_uri("file") == "file:///"
    assert to_path("memory://b/dir/") == "memory/b/dir"
    assert to_path("s3://s3/file") == "s3/s3/file"  # the first segment is always the scheme
    monkeypatch.chdir(tmp_path)
    assert to_path("file://rel/x") == f"file{tmp_path}/rel/x"  # relative local paths become absolute
    with pytest.raises(InvalidUriError, match="does not start with a storage scheme"):
        to_uri("bucket/key")
    with pytest.raises(ValueError, match="storage scheme"):
        fsspec.filesystem("s3dlio").cat_file("nosuchscheme/b/k")


def test_options_are_checked() -> None:
    with pytest.raises(TypeError, match="endpoint_url"):
        S3dlioFileSystem(endpoint_url="http://x", skip_instance_cache=True)
    with pytest.raises(ValueError):
        S3dlioFileSystem(max_in_flight=0, skip_instance_cache=True)
    with pytest.raises(ValueError):
        S3dlioFileSystem(coalesce_gap=-1, skip_instance_cache=True)
    fs = S3dlioFileSystem(max_in_flight=4, coalesce_gap=0, block_size=4096, asynchronous=False)
    assert (fs.max_in_flight, fs.coalesce_gap, fs.blocksize) == (4, 0, 4096)
    assert pickle.loads(pickle.dumps(fs)) == fs


# ---------------------------------------------------------------- listing and metadata
def test_ls_info_find_du_from_the_listing(fs: S3dlioFileSystem, mem: str, ops: list[str]) -> None:
    _tree(fs, mem)
    ops.clear()
    assert fs.ls(mem, detail=False) == [f"{mem}/a.bin", f"{mem}/d.bak", f"{mem}/d"]  # listing (key) order
    entries = {e["name"]: e for e in fs.ls(mem + "/d")}
    assert entries[f"{mem}/d/b.bin"]["size"] == 20 and entries[f"{mem}/d/b.bin"]["type"] == "file"
    assert entries[f"{mem}/d/b.bin"]["etag"] and entries[f"{mem}/d/b.bin"]["mtime"].tzinfo is not None
    assert entries[f"{mem}/d/e"] == {"name": f"{mem}/d/e", "size": 0, "type": "directory"}
    found = fs.find(mem, detail=True)
    assert {n: e["size"] for n, e in found.items()} == {
        f"{mem}/a.bin": 10, f"{mem}/d.bak": 1, f"{mem}/d/b.bin": 20, f"{mem}/d/e/c.bin": 30}
    assert fs.find(mem + "/d", withdirs=True) == [f"{mem}/d", f"{mem}/d/b.bin", f"{mem}/d/e", f"{mem}/d/e/c.bin"]
    assert fs.find(mem, maxdepth=1) == [f"{mem}/a.bin", f"{mem}/d.bak"]
    assert fs.du(mem) == 61
    assert fs.du(mem + "/d", total=False) == {f"{mem}/d/b.bin": 20, f"{mem}/d/e/c.bin": 30}
    assert fs.glob(mem + "/**/*.bin") == [f"{mem}/a.bin", f"{mem}/d/b.bin", f"{mem}/d/e/c.bin"]
    assert fs.glob(mem + "/d*") == [f"{mem}/d", f"{mem}/d.bak"]
    assert "HEAD" not in ops  # sizes, mtimes and etags came from the listings
    ops.clear()
    assert fs.info(mem + "/d/b.bin")["size"] == 20 and ops == ["HEAD"]
    ops.clear()
    assert fs.info(mem + "/d")["type"] == "directory" and ops == ["HEAD", "LIST"]
    assert fs.info(mem)["type"] == "directory"
    assert fs.ls(mem + "/a.bin", detail=False) == [f"{mem}/a.bin"]
    assert fs.find(mem + "/a.bin") == [f"{mem}/a.bin"]
    assert fs.size(mem + "/d/e/c.bin") == 30
    assert fs.isdir(mem + "/d") and not fs.isdir(mem + "/a.bin") and not fs.isdir(mem + "/zz")
    assert fs.isfile(mem + "/a.bin") and not fs.isfile(mem + "/d")
    assert fs.exists(mem + "/d/e") and not fs.exists(mem + "/d/e/nope")
    for missing in (mem + "/nope", mem + "/d/nope", f"memory/no-such-bucket-{uuid.uuid4().hex}"):
        with pytest.raises(FileNotFoundError):
            fs.info(missing)
        with pytest.raises(FileNotFoundError):
            fs.ls(missing)
    assert fs.find(mem + "/nope") == []


def test_scheme_root_lists_buckets(fs: S3dlioFileSystem, mem: str) -> None:
    fs.pipe_file(mem + "/k", b"1")
    assert mem in fs.ls("memory", detail=False)
    assert fs.info("memory")["type"] == "directory"
    with pytest.raises(InvalidUriError):
        fs.ls("")


def test_modified_and_created(fs: S3dlioFileSystem, mem: str, tmp_path: pathlib.Path) -> None:
    fs.pipe_file(mem + "/x", b"1")
    assert fs.modified(mem + "/x") == fs.created(mem + "/x")
    (tmp_path / "f").write_bytes(b"1")
    local = to_path(f"file://{tmp_path}/f")
    assert abs(fs.modified(local).timestamp() - os.stat(tmp_path / "f").st_mtime) < 1e-3
    with pytest.raises(NotImplementedError):
        fs.created(local)


# ---------------------------------------------------------------- reading
def test_cat_file_ranges_one_request_each(fs: S3dlioFileSystem, mem: str, ops: list[str]) -> None:
    data = bytes(range(256)) * 4
    fs.pipe_file(mem + "/r.bin", data)
    p = mem + "/r.bin"
    ops.clear()
    whole = fs.cat_file(p)
    assert whole == data and isinstance(whole, s3dlio.BytesView) and ops == ["GET"]
    ops.clear()
    assert fs.cat_file(p, 10, 20) == data[10:20] and ops == ["GET_RANGE"]
    ops.clear()
    assert fs.cat_file(p, -16) == data[-16:] and ops == ["GET_RANGE"]  # a suffix request, no stat
    assert fs.cat_file(p, 1000) == data[1000:]
    assert fs.cat_file(p, -2000) == data
    assert fs.cat_file(p, 5, -5) == data[5:-5]
    assert fs.cat_file(p, -10, -5) == data[-10:-5]
    assert fs.cat_file(p, 20, 10) == b""
    assert fs.head(p, 3) == data[:3] and fs.tail(p, 3) == data[-3:]
    assert fs.read_block(p, 100, 50) == data[100:150]
    with pytest.raises(FileNotFoundError):
        fs.cat_file(mem + "/missing", 0, 0)


def test_cat_ranges_coalesces_and_avoids_copies(fs: S3dlioFileSystem, mem: str, ops: list[str]) -> None:
    data = os.urandom(4 << 20)
    fs.pipe({mem + "/a": data, mem + "/b": data[:1000]})
    ops.clear()
    got = fs.cat_ranges([mem + "/a"] * 3 + [mem + "/b"], [0, 4096, -100, 10], [100, 8192, None, None])
    assert got == [data[:100], data[4096:8192], data[-100:], data[10:1000]]
    # a: the two nearby ranges in one request, the far suffix in another; b: one. The suffix and the
    # open-ended range need each object's size: one stat per object
    assert sorted(ops) == ["GET_RANGE"] * 3 + ["HEAD"] * 2
    ops.clear()
    assert fs.cat_ranges([mem + "/a"] * 2, [0, 100], [10, 110]) == [data[:10], data[100:110]]
    assert ops == ["GET_RANGE"]  # start/end ranges need no size
    alone = fs.cat_ranges([mem + "/a"], [0], [4096], max_gap=0)[0]
    assert isinstance(alone, s3dlio.BytesView) and alone == data[:4096]  # the fetched buffer itself
    res = fs.cat_ranges([mem + "/a", mem + "/nope"], [0, 0], [1, 1])
    assert res[0] == data[:1] and isinstance(res[1], FileNotFoundError)
    with pytest.raises(FileNotFoundError):
        fs.cat_ranges([mem + "/nope"], [0], [1], on_error="raise")
    with pytest.raises(ValueError):
        fs.cat_ranges([mem + "/a"], [0, 1], [1])


def test_cat_many_paths(fs: S3dlioFileSystem, mem: str) -> None:
    _tree(fs, mem)
    assert fs.cat(mem + "/d", recursive=True) == {f"{mem}/d/b.bin": b"b" * 20, f"{mem}/d/e/c.bin": b"c" * 30}
    assert fs.cat([mem + "/a.bin", mem + "/nope"], on_error="omit") == {f"{mem}/a.bin": b"a" * 10}
    assert isinstance(fs.cat([mem + "/nope"], on_error="return")[mem + "/nope"], FileNotFoundError)
    with pytest.raises(FileNotFoundError):
        fs.cat([mem + "/nope"])
    with pytest.raises(IsADirectoryError):
        fs.cat_file(mem + "/d")


def test_open_rb_is_the_seekable_reader(fs: S3dlioFileSystem, mem: str, ops: list[str]) -> None:
    data = os.urandom(300_000)
    fs.pipe_file(mem + "/o.bin", data)
    ops.clear()
    with fs.open(mem + "/o.bin", "rb", block_size=65536) as f:
        assert f.seekable() and f.size == len(data)
        assert f.read(10) == data[:10]
        f.seek(-5, io.SEEK_END)
        assert f.read() == data[-5:]
        f.seek(1000)
        buf = bytearray(200_000)
        assert f.readinto(buf) == 200_000 and buf == data[1000:201_000]
    assert ops[0] == "HEAD" and set(ops[1:]) == {"GET_RANGE"}  # range reads, never the whole object
    with fs.open(mem + "/o.bin", "rb", size=len(data)) as f:  # a size from a listing saves the stat
        f.read(1)
    with fsspec.open(to_url(to_uri(mem + "/o.bin")), "rb") as f:
        assert f.read() == data
    with pytest.raises(FileNotFoundError):
        fs.open(mem + "/missing", "rb")


def test_text_mode(fs: S3dlioFileSystem, mem: str) -> None:
    with fs.open(mem + "/t.txt", "w", encoding="utf-8") as f:
        f.write("héllo\nworld\n")
    with fs.open(mem + "/t.txt", "r", encoding="utf-8") as f:
        assert f.readlines() == ["héllo\n", "world\n"]
    assert fs.read_text(mem + "/t.txt", encoding="utf-8") == "héllo\nworld\n"


# ---------------------------------------------------------------- writing
def test_open_wb_publishes_on_close_only(fs: S3dlioFileSystem, mem: str) -> None:
    f = fs.open(mem + "/w.bin", "wb")
    f.write(b"part1")
    f.write(memoryview(b"part2"))
    assert f.tell() == 10
    assert not fs.exists(mem + "/w.bin")  # nothing visible until close
    f.close()
    assert fs.cat_file(mem + "/w.bin") == b"part1part2"


@pytest.mark.parametrize("mode", ["wb", "w"])
def test_failed_write_leaves_nothing(fs: S3dlioFileSystem, mem: str, mode: str) -> None:
    with pytest.raises(KeyError), fs.open(mem + "/bad", mode) as f:
        f.write(b"half" if "b" in mode else "half")
        raise KeyError("boom")
    assert not fs.exists(mem + "/bad")


def test_exclusive_and_unsupported_modes(fs: S3dlioFileSystem, mem: str) -> None:
    fs.pipe_file(mem + "/x", b"1")
    with pytest.raises(FileExistsError):
        fs.open(mem + "/x", "xb")
    with pytest.raises(FileExistsError):
        fs.pipe_file(mem + "/x", b"2", mode="create")
    with fs.open(mem + "/new", "xb") as f:
        f.write(b"n")
    with pytest.raises(NotImplementedError, match="appended"):
        fs.open(mem + "/x", "ab")
    with pytest.raises(NotImplementedError):
        fs.open(mem + "/x", "r+b")
    with pytest.raises(ValueError):
        fs.pipe_file(mem + "/x", b"", mode="append")
    fs.touch(mem + "/x")
    assert fs.cat_file(mem + "/x") == b""
    with pytest.raises(NotImplementedError):
        fs.touch(mem + "/x", truncate=False)


def test_transaction_commits_at_the_end(fs: S3dlioFileSystem, mem: str) -> None:
    with fs.transaction:
        with fs.open(mem + "/t1", "wb") as f:
            f.write(b"one")
        with fs.open(mem + "/t2", "wb") as f:
            f.write(b"two")
        assert not fs.exists(mem + "/t1")  # written, closed, not yet published
    assert fs.cat([mem + "/t1", mem + "/t2"]) == {mem + "/t1": b"one", mem + "/t2": b"two"}
    with pytest.raises(KeyError), fs.transaction:
        with fs.open(mem + "/t3", "wb") as f:
            f.write(b"three")
        raise KeyError
    assert not fs.exists(mem + "/t3")  # discarded


def test_pipe_put_get_copy(fs: S3dlioFileSystem, mem: str, tmp_path: pathlib.Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for i in range(20):
        (src / ("sub" if i % 2 else "") / f"f{i}.bin").write_bytes(bytes([i]) * 100)
    fs.put(str(src), mem + "/up", recursive=True)
    assert len(fs.find(mem + "/up")) == 20 and fs.cat_file(mem + "/up/sub/f3.bin") == bytes([3]) * 100
    fs.copy(mem + "/up", mem + "/copy", recursive=True)
    assert fs.find(mem + "/copy") == [p.replace("/up/", "/copy/") for p in fs.find(mem + "/up")]
    dst = tmp_path / "down"
    fs.get(mem + "/copy/", str(dst), recursive=True)
    assert sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*.bin")) == sorted(
        p.relative_to(src).as_posix() for p in src.rglob("*.bin"))
    assert (dst / "sub" / "f5.bin").read_bytes() == bytes([5]) * 100
    # into an open file object, and across stores (memory -> file)
    sink = io.BytesIO()
    fs.get_file(mem + "/up/f0.bin", sink)
    assert sink.getvalue() == bytes([0]) * 100
    fs.cp_file(mem + "/up/f0.bin", to_path(f"file://{tmp_path}/x/f0.bin"))
    assert (tmp_path / "x" / "f0.bin").read_bytes() == bytes([0]) * 100
    fs.mv(mem + "/up/f2.bin", mem + "/moved.bin")
    assert fs.exists(mem + "/moved.bin") and not fs.exists(mem + "/up/f2.bin")
    with pytest.raises(FileNotFoundError):
        fs.get_file(mem + "/nope", str(tmp_path / "nope"))
    assert not (tmp_path / "nope").exists()


# ---------------------------------------------------------------- deleting and directories
def test_rm(fs: S3dlioFileSystem, mem: str, ops: list[str]) -> None:
    _tree(fs, mem)
    with pytest.raises(IsADirectoryError):
        fs.rm(mem + "/d")
    with pytest.raises(FileNotFoundError):
        fs.rm(mem + "/nope")
    with pytest.raises(FileNotFoundError):
        fs.rm(mem + "/nope", recursive=True)
    ops.clear()
    fs.rm(mem + "/d", recursive=True)
    assert "HEAD" not in ops  # one listing, batched deletes
    assert fs.find(mem) == [f"{mem}/a.bin", f"{mem}/d.bak"]  # 'd.bak' beside 'd' survives
    fs.pipe({f"{mem}/g/{i}.tmp": b"" for i in range(5)} | {f"{mem}/g/keep.bin": b"k"})
    fs.rm(mem + "/g/*.tmp")
    assert fs.find(mem + "/g") == [f"{mem}/g/keep.bin"]
    fs.rm([mem + "/a.bin", mem + "/d.bak"])
    fs.rm(mem + "/g/keep.bin")
    assert fs.find(mem) == []
    with pytest.raises(InvalidUriError):
        fs.rm("memory", recursive=True)


def test_bucket_level_directories(fs: S3dlioFileSystem) -> None:
    b = f"memory/fs-mk-{uuid.uuid4().hex[:8]}"
    fs.mkdir(b)  # a bucket path creates the bucket
    assert fs.isdir(b) and fs.ls(b) == []
    with pytest.raises(FileExistsError):
        fs.makedirs(b)
    fs.makedirs(b, exist_ok=True)
    fs.makedirs(b + "/x/y")  # a prefix: nothing to create
    assert not fs.exists(b + "/x")
    fs.pipe_file(b + "/x/y/z", b"1")
    with pytest.raises(OSError, match="not empty"):
        fs.rmdir(b + "/x")
    fs.rm(b, recursive=True)  # a bucket's contents and the bucket
    assert not fs.exists(b)


def test_local_directories(fs: S3dlioFileSystem, tmp_path: pathlib.Path) -> None:
    root = to_path(f"file://{tmp_path}")
    fs.mkdir(root + "/new")
    assert (tmp_path / "new").is_dir() and fs.ls(root + "/new") == [] and fs.isdir(root + "/new")
    with pytest.raises(FileExistsError):
        fs.mkdir(root + "/new")
    with pytest.raises(FileNotFoundError):
        fs.mkdir(root + "/a/b", create_parents=False)
    fs.makedirs(root + "/a/b")
    fs.makedirs(root + "/a/b", exist_ok=True)
    with pytest.raises(FileExistsError):
        fs.makedirs(root + "/a/b")
    assert fs.find(root, withdirs=True) == [root, root + "/a", root + "/a/b", root + "/new"]
    fs.rmdir(root + "/new")
    assert not (tmp_path / "new").exists()
    fs.pipe_file(root + "/a/b/f", b"1")
    with pytest.raises(OSError):
        fs.rmdir(root + "/a")
    fs.rm(root + "/a", recursive=True)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- errors
class _FailingStore(MemoryStore):
    """memory:// whose reads fail as a server error would (StorageIOError / ThrottledError)."""

    def _get(self, u: Any) -> Any:
        if "throttle" in u.key:
            raise ThrottledError(f"GET {u.uri}: SlowDown", u.uri, status=503, code="SlowDown", retried=4)
        raise StorageIOError(f"GET {u.uri}: InternalError", u.uri, status=500, code="InternalError", retried=2)


def test_io_failures_are_oserrors_and_keep_their_type(fs: S3dlioFileSystem, mem: str) -> None:
    fs.pipe({mem + "/x": b"1", mem + "/throttle": b"1"})
    register_store("memory", _FailingStore)
    try:
        with pytest.raises(OSError) as ei:
            fs.cat_file(mem + "/x")
        e = ei.value
        assert isinstance(e, StorageIOError) and (e.status, e.code, e.retried) == (500, "InternalError", 2)
        assert to_uri(mem + "/x") in str(e) and e.uri == to_uri(mem + "/x")
        with pytest.raises(ThrottledError) as ti:
            fs.cat_file(mem + "/throttle")
        assert isinstance(ti.value, OSError) and ti.value.status == 503
    finally:
        register_store("memory", None)
