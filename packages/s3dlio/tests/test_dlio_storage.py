"""The DLIO storage interface of s3dlio.integrations.dlio (StorageOps, the body of S3dlioStorage and the
drop-in) on file:// and on SeaweedFS: names, nodes, listings and globs, data in and out, multipart
writes and their abort. DLIO itself runs the real classes in tests/dlio."""

from __future__ import annotations

import enum
import io
import os
import pathlib
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import s3dlio
from s3dlio.integrations.dlio._storage_ops import StorageOps, namespace_uri, traced_by
from s3dlio_core.errors import InvalidUriError, UnsupportedOperationError
from s3dlio_testsupport import server_fixtures

_servers = server_fixtures("s3")
s3_test_env = _servers.s3_test_env
seaweedfs_server = _servers.seaweedfs_server
s3_fault_proxy_session = _servers.s3_fault_proxy_session
s3_fault_proxy = _servers.s3_fault_proxy
S3_BUCKET = _servers.S3_BUCKET

MiB = 1 << 20


class Meta(enum.Enum):  # stands in for DLIO's MetadataType
    FILE = "file"
    DIRECTORY = "directory"


class Storage(StorageOps):
    metadata_type = Meta

    def __init__(self, namespace: Any, **storage_options: str) -> None:
        self._args = SimpleNamespace(storage_options=storage_options)
        self._setup(namespace)


@pytest.fixture(autouse=True)
def no_multipart_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("S3DLIO_MULTIPART_THRESHOLD_MB", "S3DLIO_MULTIPART_PART_SIZE_MB",
                 "S3DLIO_MULTIPART_MAX_IN_FLIGHT", "S3DLIO_DISABLE_MULTIPART"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def local(tmp_path: pathlib.Path) -> Storage:
    return Storage(f"file://{tmp_path}/ns/")


@pytest.fixture
def s3ns(seaweedfs_server: Any) -> Storage:
    return Storage(f"s3://{S3_BUCKET}/dlio-{uuid.uuid4().hex[:10]}")


def _boto(server: Any) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


# ---------------------------------------------------------------- names
@pytest.mark.parametrize(("ns", "uri"), [("bucket", "s3://bucket"), ("bucket/pre/", "s3://bucket/pre"),
                                         ("s3://b/p/", "s3://b/p"), ("s3://b", "s3://b"),
                                         ("file:///tmp/x/", "file:///tmp/x"), ("az://acct/cont", "az://acct/cont"),
                                         ("direct:///data/", "direct:///data"), ("gs://b/p", "gs://b/p"),
                                         (pathlib.PurePosixPath("bkt/p"), "s3://bkt/p")])
def test_namespace_uri(ns: Any, uri: str) -> None:
    assert namespace_uri(ns) == uri


def test_namespace_errors() -> None:
    with pytest.raises(ValueError, match="storage_root"):
        namespace_uri(" / ")
    with pytest.raises(InvalidUriError, match="ftp://"):
        namespace_uri("ftp://host/x")


def test_names_resolve_like_dlio() -> None:
    st = Storage("s3://bkt/base/")
    assert (st.scheme, st.bucket, st.base_path, st.prefix) == ("s3", "bkt", "base", "s3://bkt/base")
    assert st.get_uri("train/a.npz") == "s3://bkt/base/train/a.npz"
    assert st.get_uri("/train/a.npz") == "s3://bkt/base/train/a.npz"
    assert st.get_uri("") == "s3://bkt/base"
    for full in ("s3://other/x.npz", "S3://other/x", "az://a/c/x", "gs://b/x", "file:///tmp/x", "direct:///d/x"):
        assert st.get_uri(full) == full  # full URIs as written
    assert st.get_basename("s3://bkt/base/train/a.npz") == "a.npz"
    assert st.islocalfs() is False
    assert repr(st) == "Storage(namespace='s3://bkt/base')"
    loc = Storage("file:///data/ns")
    assert (loc.scheme, loc.bucket, loc.base_path) == ("file", "", "/data/ns")


def test_s3_part_size_below_minimum_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3DLIO_MULTIPART_PART_SIZE_MB", "4")
    with pytest.raises(ValueError, match="S3DLIO_MULTIPART_PART_SIZE_MB=4"):
        Storage("s3://bkt/x")
    Storage("file:///tmp/x")  # no S3 parts there
    monkeypatch.setenv("S3DLIO_DISABLE_MULTIPART", "1")
    Storage("s3://bkt/x")


# ---------------------------------------------------------------- file://
def test_local_nodes_and_listing(local: Storage, tmp_path: pathlib.Path) -> None:
    assert local.create_namespace(exist_ok=True) is True
    assert (tmp_path / "ns").is_dir()
    assert local.create_node("train/", exist_ok=True) and local.create_node("train/00", exist_ok=True)
    assert local.create_node("train/01")
    assert local.get_node("train") is Meta.DIRECTORY and local.get_node("train/00") is Meta.DIRECTORY  # empty dir
    for i in range(4):
        local.put_data(local.get_uri(f"train/{i % 2:02d}/img_{i}.npz"), b"x" * (i + 1))
    local.put_data(local.get_uri("train/01/IMG_9.NPZ"), b"upper")
    local.put_data(local.get_uri("train/01/notes.txt"), b"t")
    assert sorted(local.walk_node("train")) == ["00", "01"]
    assert sorted(local.walk_node(local.get_uri("train/01"))) == ["IMG_9.NPZ", "img_1.npz", "img_3.npz", "notes.txt"]
    got = local.walk_node(local.get_uri("train/*/*.npz"), use_pattern=True)
    base = local.get_uri("train")
    assert got == sorted([f"{base}/00/img_0.npz", f"{base}/00/img_2.npz", f"{base}/01/IMG_9.NPZ",
                          f"{base}/01/img_1.npz", f"{base}/01/img_3.npz"])
    assert local.walk_node("train/0?/img_[12].npz", use_pattern=True) == [f"{base}/00/img_2.npz",
                                                                           f"{base}/01/img_1.npz"]
    assert local.walk_node("train/**", use_pattern=True) == sorted(
        f"file://{p}" for p in (tmp_path / "ns" / "train").rglob("*") if p.is_file())
    assert local.walk_node("train/00/img_0.npz", use_pattern=True) == [f"{base}/00/img_0.npz"]
    with pytest.raises(ValueError, match="lower case"):
        local.walk_node("train/*/*.NPZ", use_pattern=True)
    assert local.walk_node("missing") == []
    assert local.get_node("train/00/img_0.npz") is Meta.FILE and local.isfile("train/00/img_0.npz")
    assert local.get_node("nothing") is None and not local.isfile("train")
    assert local.get_namespace() is Meta.DIRECTORY
    assert local.delete_node("train/00/img_0.npz") is True and not local.isfile("train/00/img_0.npz")
    assert local.delete_node("train") is True  # a tree: everything under it goes
    assert not [p for p in (tmp_path / "ns").rglob("*") if p.is_file()]
    assert local.delete_node("never-there") is True


def test_local_data_in_and_out(local: Storage, tmp_path: pathlib.Path) -> None:
    payload = os.urandom(300_000)
    bio = io.BytesIO(payload)
    local.put_data("a.npz", bio)
    bio.write(b"still usable")  # no buffer export left behind on the caller's BytesIO
    bio.close()
    assert (tmp_path / "ns" / "a.npz").read_bytes() == payload
    view = local.get_data("a.npz", None)
    assert isinstance(view, s3dlio.BytesView) and bytes(view) == payload
    assert bytes(local.get_data("a.npz", None, offset=10, length=20)) == payload[10:30]
    assert bytes(local.get_data("a.npz", offset=299_990)) == payload[299_990:]
    assert bytes(local.get_data("a.npz", length=5)) == payload[:5]
    local.put_data("b.bin", memoryview(payload), length=1000)
    assert (tmp_path / "ns" / "b.bin").read_bytes() == payload[:1000]
    local.put_data("c.bin", io.BufferedReader(io.BytesIO(b"stream")))  # a readable stream
    assert (tmp_path / "ns" / "c.bin").read_bytes() == b"stream"
    local.put_data("d.bin", bytearray(b"ba"), offset=0)
    with pytest.raises(UnsupportedOperationError, match="offset=5"):
        local.put_data("e.bin", b"x", offset=5)
    with pytest.raises(ValueError, match="exceeds"):
        local.put_data("e.bin", b"x", length=2)
    for bad in ({"offset": -1}, {"length": -2}, {"offset": 1.5}, {"length": True}):
        with pytest.raises(ValueError, match="must be an int"):
            local.get_data("a.npz", None, **bad)
    assert not (tmp_path / "ns" / "e.bin").exists()
    with pytest.raises(FileNotFoundError):
        local.get_data("missing.npz")


def test_local_multipart_path_uses_the_streaming_writer(local: Storage, tmp_path: pathlib.Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3DLIO_MULTIPART_THRESHOLD_MB", "0")
    payload = os.urandom(3 * MiB + 7)
    local.put_data("big.bin", payload)
    assert (tmp_path / "ns" / "big.bin").read_bytes() == payload
    assert [p.name for p in (tmp_path / "ns").iterdir()] == ["big.bin"]  # no temporary left


def test_profiler_wrapping_keeps_behaviour(tmp_path: pathlib.Path) -> None:
    calls: list[str] = []

    class Profile:  # the shape of DLIO's dftracer Profile: log(fn, name=...) and log_init(fn, name=...)
        def log(self, fn: Any, name: str | None = None) -> Any:
            def wrapper(*a: Any, **k: Any) -> Any:
                calls.append(name or fn.__qualname__)
                return fn(*a, **k)
            return wrapper

        log_init = log

    @traced_by(Profile())
    class Traced(Storage):
        def __init__(self, namespace: Any) -> None:
            super().__init__(namespace)

    st = Traced(f"file://{tmp_path}")
    st.put_data("x", b"1")
    assert bytes(st.get_data("x")) == b"1"
    assert calls == ["Traced.__init__", "Traced.put_data", "Traced.get_data"]


# ---------------------------------------------------------------- S3 (SeaweedFS)
def test_s3_nodes_listing_and_data(s3ns: Storage) -> None:
    assert s3ns.create_namespace() and s3ns.create_node(s3ns.get_uri("train/"), exist_ok=True)
    assert s3ns.get_node("train") is None  # nothing stored yet: object stores have no empty directories
    names = [f"train/{d}/img_{i}.npz" for d in ("a", "b") for i in range(3)]
    for n in names:
        s3ns.put_data(s3ns.get_uri(n), io.BytesIO(n.encode()))
    s3ns.put_data(s3ns.get_uri("train/b/X.NPZ"), b"upper")
    assert s3ns.walk_node(s3ns.get_uri("train")) == ["a", "b"]
    assert s3ns.walk_node("train/a") == ["img_0.npz", "img_1.npz", "img_2.npz"]
    assert s3ns.get_node("train/a") is Meta.DIRECTORY and s3ns.get_node("train/a/img_0.npz") is Meta.FILE
    got = s3ns.walk_node("train/*/*.npz", use_pattern=True)
    assert got == sorted([s3ns.get_uri(n) for n in names] + [s3ns.get_uri("train/b/X.NPZ")])
    assert bytes(s3ns.get_data(s3ns.get_uri(names[0]))) == names[0].encode()
    assert bytes(s3ns.get_data(names[1], None, 6, 4)) == names[1].encode()[6:10]
    assert s3ns.isfile(names[2]) and not s3ns.isfile("train/a")
    s3ns.delete_node("train/a/img_0.npz")
    assert not s3ns.isfile("train/a/img_0.npz")
    s3ns.delete_node("train")  # everything under it
    assert s3dlio.list(s3ns.get_uri("") + "/", recursive=True) == []
    assert s3ns.delete_node("train") is True


def test_s3_writes_single_put_below_threshold_and_multipart_above(s3ns: Storage, seaweedfs_server: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = _boto(seaweedfs_server)
    small, big = os.urandom(128 * 1024), os.urandom(12 * MiB + 5)
    s3ns.put_data("small.npz", small)
    monkeypatch.setenv("S3DLIO_MULTIPART_THRESHOLD_MB", "8")
    monkeypatch.setenv("S3DLIO_MULTIPART_PART_SIZE_MB", "5")
    monkeypatch.setenv("S3DLIO_MULTIPART_MAX_IN_FLIGHT", "2")
    s3ns.put_data("big.npz", io.BytesIO(big))
    monkeypatch.setenv("S3DLIO_MULTIPART_THRESHOLD_MB", "0")
    s3ns.put_data("tiny.npz", b"tiny")
    monkeypatch.setenv("S3DLIO_DISABLE_MULTIPART", "yes")
    s3ns.put_data("off.npz", big)
    key = s3ns.base_path
    etag = {n: s3.head_object(Bucket=S3_BUCKET, Key=f"{key}/{n}")["ETag"].strip('"')
            for n in ("small.npz", "big.npz", "tiny.npz", "off.npz")}
    assert "-" not in etag["small.npz"] and "-" not in etag["off.npz"]  # one PUT each
    assert etag["big.npz"].endswith("-3") and etag["tiny.npz"].endswith("-1")  # 5+5+2 MiB parts; one part
    assert bytes(s3ns.get_data("big.npz")) == big and bytes(s3ns.get_data("tiny.npz")) == b"tiny"


def test_s3_failed_multipart_is_aborted(s3_fault_proxy: Any, seaweedfs_server: Any,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A part the server refuses: put_data raises, no object appears and no upload is left open."""
    monkeypatch.setenv("S3DLIO_MULTIPART_THRESHOLD_MB", "0")
    monkeypatch.setenv("S3DLIO_MULTIPART_PART_SIZE_MB", "5")
    prefix = f"dlio-abort-{uuid.uuid4().hex[:8]}"
    st = Storage(f"s3://{s3_fault_proxy.hostport}/{S3_BUCKET}/{prefix}")
    s3_fault_proxy.reset(["pass", "403"])  # create passes, the part is refused (403 is not retried)
    bio = io.BytesIO(os.urandom(6 * MiB))
    with pytest.raises(PermissionError):
        st.put_data("x.npz", bio)
    bio.write(b"the caller's buffer is free again")
    lines = list(s3_fault_proxy.requests)
    assert any(line.startswith("DELETE ") and "uploadId=" in line for line in lines), lines  # aborted
    s3 = _boto(seaweedfs_server)
    assert "Contents" not in s3.list_objects_v2(Bucket=S3_BUCKET, Prefix=prefix)
    assert not s3.list_multipart_uploads(Bucket=S3_BUCKET, Prefix=prefix).get("Uploads")


def test_s3_bucket_root_as_data_folder(seaweedfs_server: Any) -> None:
    """DLIO's S3 workloads use the bucket itself (`data_folder: s3://bucket`): get_node, walk_node and
    (keep_files: False) delete_node on it."""
    bucket = f"dlio-root-{uuid.uuid4().hex[:8]}"
    s3dlio.create_bucket(bucket)
    try:
        st = Storage(bucket)
        assert st.prefix == f"s3://{bucket}" and st.get_node(f"s3://{bucket}") is None
        st.put_data(f"s3://{bucket}/train/a.npz", b"a")
        st.put_data(f"s3://{bucket}/train/b.npz", b"b")
        assert st.get_node(f"s3://{bucket}") is Meta.DIRECTORY and st.get_namespace() is Meta.DIRECTORY
        assert not st.isfile(f"s3://{bucket}")
        assert st.walk_node(f"s3://{bucket}") == ["train"]
        assert st.walk_node(f"s3://{bucket}/train") == ["a.npz", "b.npz"]
        assert st.delete_node(f"s3://{bucket}") is True
        assert s3dlio.list(f"s3://{bucket}/", recursive=True) == []
    finally:
        s3dlio.delete_bucket(bucket)
