"""s3dlio.compat.s3torchconnector on memory:// and file://: key-prefix listing, readers, writer, client,
datasets (sharding, prefetch, pickling), checkpoints and the dcp classes. The drop-in proof against
SeaweedFS with s3torchconnector's own examples is tests/test_s3torchconnector_compat.py."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import uuid

import pytest
import s3dlio
from s3dlio.compat.s3torchconnector import (
    RangedS3Reader,
    S3Checkpoint,
    S3ClientConfig,
    S3Exception,
    S3Item,
    S3Reader,
    S3ReaderConstructor,
    S3Writer,
    SequentialS3Reader,
)
from s3dlio.compat.s3torchconnector._s3client import S3Client
from s3dlio.compat.s3torchconnector._stores import _s3_config, list_key_prefix, store_for
from s3dlio_core import ObjectNotFoundError


@pytest.fixture
def mem() -> str:
    return f"memory://compat-{uuid.uuid4().hex[:8]}/"


def _put(uri: str, data: bytes) -> None:
    s3dlio.put(uri, data)


KEYS = ["data/img0.jpg", "data/img1.jpg", "data/img/a.jpg", "data/images/b.jpg", "data/other", "dataimg"]


@pytest.fixture
def tree(mem: str) -> str:
    for k in KEYS:
        _put(mem + k, k.encode())
    return mem


# ---------------------------------------------------------------- imports
def test_import_s3dlio_and_the_client_side_need_no_torch() -> None:
    code = (
        "import sys, s3dlio, s3dlio.compat\n"
        "assert 'torch' not in sys.modules, 'import s3dlio imported torch'\n"
        "from s3dlio.compat.s3torchconnector import S3Checkpoint, S3ClientConfig, S3ReaderConstructor\n"
        "from s3dlio.compat.s3torchconnector._s3client import S3Client\n"
        "assert 'torch' not in sys.modules, 'the client side imported torch'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.torch
def test_the_datasets_import_torch_when_first_used() -> None:
    code = (
        "import sys, s3dlio.compat.s3torchconnector as s3tc\n"
        "assert 'torch' not in sys.modules\n"
        "s3tc.S3MapDataset\n"
        "assert 'torch' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.torch
def test_s3dlio_compat_reexports() -> None:
    import s3dlio.compat as compat
    from s3dlio.compat import s3torchconnector as s3tc

    assert compat.S3Checkpoint is s3tc.S3Checkpoint
    assert compat.S3MapDataset is s3tc.S3MapDataset
    assert compat.S3IterableDataset is s3tc.S3IterableDataset
    with pytest.raises(AttributeError):
        compat.Nope  # noqa: B018


# ---------------------------------------------------------------- key-prefix listing
def _listed(uri: str) -> list[str]:
    store = store_for(uri, (None, None, None))
    return [i.uri for i in list_key_prefix(store, uri)]


def test_a_prefix_is_a_key_prefix(tree: str) -> None:
    assert _listed(tree + "data/img") == [
        tree + k for k in ("data/img/a.jpg", "data/img0.jpg", "data/img1.jpg")
    ]
    assert _listed(tree + "data/im") == [
        tree + k for k in ("data/images/b.jpg", "data/img/a.jpg", "data/img0.jpg", "data/img1.jpg")
    ]
    assert _listed(tree + "data/") == [tree + k for k in sorted(KEYS) if k.startswith("data/")]
    assert _listed(tree) == [tree + k for k in sorted(KEYS)]
    assert _listed(tree + "data") == [tree + k for k in sorted(KEYS)]  # 'dataimg' starts with 'data' too
    assert _listed(tree + "nothing") == []


def test_the_original_helpers(tree: str) -> None:
    from s3dlio.compat.s3torchconnector import _list_by_key_prefix

    assert _list_by_key_prefix(tree + "data/img") == [
        tree + k for k in ("data/img/a.jpg", "data/img0.jpg", "data/img1.jpg")
    ]
    assert S3Client._make_uri("b", "k/x") == "s3://b/k/x"
    assert S3Client._make_uri("b", "gs://other/k") == "gs://other/k"


def test_a_key_prefix_with_glob_characters_is_literal(mem: str) -> None:
    for k in ("a*b/1", "a*b/2", "axb/3", "a?c"):
        _put(mem + k, b"x")
    assert _listed(mem + "a*b/") == [mem + "a*b/1", mem + "a*b/2"]
    assert _listed(mem + "a*") == [mem + "a*b/1", mem + "a*b/2"]
    assert _listed(mem + "a?") == [mem + "a?c"]


def test_file_prefix_is_a_path_prefix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "data" / "img").mkdir(parents=True)
    (tmp_path / "data" / "images").mkdir()
    for rel in ("data/img0.jpg", "data/img/a.jpg", "data/images/b.jpg", "data/other"):
        (tmp_path / rel).write_bytes(rel.encode())
    root = f"file://{tmp_path}/"
    assert _listed(root + "data/img") == [root + "data/img/a.jpg", root + "data/img0.jpg"]
    assert sorted(_listed(root + "data")) == sorted(
        root + r for r in ("data/img0.jpg", "data/img/a.jpg", "data/images/b.jpg", "data/other")
    )
    assert _listed(root + "missing/x") == []


# ---------------------------------------------------------------- readers
def test_s3item_reads_seeks_and_closes(mem: str) -> None:
    data = bytes(range(256)) * 40
    _put(mem + "obj", data)
    item = S3Client().get_object("ignored", mem + "obj")
    assert isinstance(item, S3Item) and isinstance(item, SequentialS3Reader) and isinstance(item, S3Reader)
    assert item.bucket == mem.split("//")[1].rstrip("/") and item.key == "obj" and item.uri == mem + "obj"
    assert item.readable() and item.seekable() and not item.writable()
    assert item.seek(0, io.SEEK_END) == len(data)  # from a HEAD, nothing fetched yet
    item.seek(10)
    assert item.read(5) == data[10:15] and item.tell() == 15
    buf = bytearray(100)
    assert item.readinto(buf) == 100 and bytes(buf) == data[15:115]
    assert item.seek(-6, io.SEEK_END) == len(data) - 6 and item.read() == data[-6:]
    assert item.read() == b"" and item.read(10) == b""
    assert item.seek(5, io.SEEK_CUR) == len(data) + 5 and item.read() == b""
    with pytest.raises(ValueError, match="negative seek"):
        item.seek(-1)
    with pytest.raises(ValueError, match="whence"):
        item.seek(0, 7)
    assert item.read_bytes() == data and item.readall() == b"" and len(item) == len(data)
    assert bytes(item.getbuffer()) == data and item.getbuffer().readonly
    assert repr(item) == f"S3Item(bucket={item.bucket!r}, key='obj', size={len(data)})"
    item.close()
    assert len(item) == 0
    with pytest.raises(ValueError, match="I/O operation on closed S3Item"):
        item.read()


def test_s3item_of_bytes_and_file_uri(tmp_path) -> None:  # type: ignore[no-untyped-def]
    it = S3Item("s3://bucket/dir/key.bin", b"hello")
    assert (it.bucket, it.key, it.read(), len(it)) == ("bucket", "dir/key.bin", b"hello", 5)
    p = tmp_path / "f.bin"
    p.write_bytes(b"abc")
    f = S3Item(f"file://{p}")
    assert (f.bucket, f.key, f.read()) == (str(tmp_path), "f.bin", b"abc")


def test_get_object_byte_range_is_inclusive(mem: str) -> None:
    _put(mem + "r", b"0123456789")
    c = S3Client()
    assert c.get_object("b", mem + "r", 2, 5).read() == b"2345"
    assert c.get_object("b", mem + "r", 7).read() == b"789"
    r = c.get_object("b", mem + "r", 2, 100)
    assert r.seek(0, io.SEEK_END) == 8 and (r.seek(0), r.read()) == (0, b"23456789")


@pytest.mark.parametrize("buffer_size", [None, 0, 4])
def test_range_based_reader(mem: str, buffer_size: int | None) -> None:
    data = bytes(range(256)) * 64
    _put(mem + "big", data)
    r = S3Client().get_object(
        "b", mem + "big", reader_constructor=S3ReaderConstructor.range_based(buffer_size)
    )
    assert isinstance(r, RangedS3Reader) and r.key == "big"
    assert r.seek(1000) == 1000 and r.tell() == 1000  # no request yet
    buf = bytearray(3000)
    assert r.readinto(buf) == 3000 and bytes(buf) == data[1000:4000]
    assert r.read(3) == data[4000:4003]
    assert r.seek(-10, io.SEEK_END) == len(data) - 10 and r.read() == data[-10:]
    r.seek(len(data) + 100)
    assert r.readinto(bytearray(10)) == 0
    r.close()
    with pytest.raises(ValueError):
        r.read()
    with pytest.raises(ValueError):
        S3ReaderConstructor.range_based(-1)


def test_reader_constructor_types() -> None:
    get = S3ReaderConstructor.get_reader_type_string
    assert (
        get(None)
        == get(S3ReaderConstructor.default())
        == get(S3ReaderConstructor.sequential())
        == "sequential"
    )
    assert get(S3ReaderConstructor.range_based()) == "range_based"
    assert get(S3ReaderConstructor.dcp_optimized()) == "dcp_optimized"
    assert get(lambda **kw: None) == "unknown"
    with pytest.raises(ValueError):
        S3ReaderConstructor.dcp_optimized(-1)


def test_custom_reader_constructor_gets_bucket_key_info_and_source(mem: str) -> None:
    _put(mem + "c", b"custom")
    seen = {}

    def ctor(bucket, key, get_object_info, get_stream):  # type: ignore[no-untyped-def]
        seen.update(bucket=bucket, key=key, size=get_object_info().size)
        return SequentialS3Reader(bucket, key, get_object_info, get_stream)

    assert S3Client().get_object("b", mem + "c", reader_constructor=ctor).read() == b"custom"
    assert seen == {"bucket": mem.split("//")[1].rstrip("/"), "key": "c", "size": 6}


# ---------------------------------------------------------------- writer and client
def test_writer_commits_on_close_and_aborts_on_error(mem: str) -> None:
    c = S3Client()
    with c.put_object("b", mem + "w1") as w:
        assert isinstance(w, S3Writer) and w.writable() and not w.readable()
        assert w.write(b"abc") == 3 and w.write(memoryview(b"defg")) == 4 and w.write(bytearray(2)) == 2
        assert w.tell() == 9
        assert not s3dlio.exists(mem + "w1")  # nothing visible before close
    assert s3dlio.get(mem + "w1") == b"abcdefg\x00\x00" and w.closed
    with pytest.raises(ValueError, match="closed"):
        w.write(b"x")
    with pytest.raises(RuntimeError, match="boom"), c.put_object("b", mem + "w2") as w2:
        w2.write(b"partial")
        raise RuntimeError("boom")
    assert not s3dlio.exists(mem + "w2")
    w3 = c.put_object("b", mem + "w3")
    w3.write(b"dropped")
    del w3
    assert not s3dlio.exists(mem + "w3")
    import array

    with c.put_object("b", mem + "typed") as wt:
        assert wt.write(array.array("i", [1, 2])) == 8
    assert s3dlio.get(mem + "typed") == array.array("i", [1, 2]).tobytes()
    w4 = c.put_object("b", mem + "w4")
    w4.close()
    w4.close()
    assert s3dlio.get(mem + "w4") == b""


def test_client_head_list_delete_copy(tree: str) -> None:
    bucket = tree.split("//")[1].rstrip("/")
    c = S3Client("us-west-2")
    assert c.region == "us-west-2" and c.endpoint is None and c.s3client_config == S3ClientConfig()
    head = c.head_object(bucket, tree + "data/other")
    assert head.size == len(b"data/other") and head.etag and head.last_modified > 1_600_000_000
    pages = list(c.list_objects(bucket, tree + "data/"))
    assert [o.key for p in pages for o in p.object_info] == sorted(k for k in KEYS if k.startswith("data/"))
    grouped = list(c.list_objects(bucket, tree + "data/", delimiter="/"))
    assert [o.key for p in grouped for o in p.object_info] == ["data/img0.jpg", "data/img1.jpg", "data/other"]
    assert [x for p in grouped for x in p.common_prefixes] == ["data/images/", "data/img/"]
    paged = c.list_objects(bucket, tree + "data/img", max_keys=2)
    sizes = [len(p.object_info) for p in paged]
    assert sizes == [2, 1] and paged.complete
    assert [p.object_info for p in c.list_objects(bucket, tree + "zzz")] == [[]]
    c.copy_object(bucket, tree + "data/other", bucket, tree + "copy")
    assert s3dlio.get(tree + "copy") == b"data/other"
    c.delete_object(bucket, tree + "copy")
    assert not s3dlio.exists(tree + "copy")
    with pytest.raises(S3Exception):
        c.head_object(bucket, tree + "missing")
    with pytest.raises(ObjectNotFoundError):
        c.get_object(bucket, tree + "missing").read()


def test_client_pickles_without_its_store(mem: str) -> None:
    c = S3Client("eu-west-1", endpoint="http://127.0.0.1:1", s3client_config=S3ClientConfig(max_attempts=3))
    c2 = pickle.loads(pickle.dumps(c))
    assert (c2.region, c2.endpoint, c2.s3client_config.max_attempts) == ("eu-west-1", "http://127.0.0.1:1", 3)


def test_client_config_validation_and_mapping() -> None:
    with pytest.raises(ValueError, match="requester_pays"):
        S3ClientConfig(unsigned=True, requester_pays=True)
    with pytest.raises(ValueError, match="part_size"):
        S3ClientConfig(part_size=1 << 20)
    with pytest.raises(ValueError, match="max_attempts"):
        S3ClientConfig(max_attempts=0)
    cfg = _s3_config(
        (
            "ap-south-1",
            "http://127.0.0.1:8333",
            S3ClientConfig(part_size=16 << 20, max_attempts=4, force_path_style=True, profile="p"),
        )
    )
    assert (cfg.region, cfg.endpoint_url, cfg.multipart_part_size, cfg.max_retry_attempts) == (
        "ap-south-1",
        "http://127.0.0.1:8333",
        16 << 20,
        4,
    )
    assert (cfg.addressing_style, cfg.profile) == ("path", "p")
    s1 = store_for("s3://b/k", ("r", "http://127.0.0.1:1", None))
    assert store_for("s3://b/other", ("r", "http://127.0.0.1:1", None)) is s1
    assert store_for("s3://b/k", ("r", "http://127.0.0.1:2", None)) is not s1
    assert store_for("memory://b/k", ("r", "http://127.0.0.1:1", None)) is s3dlio_store("memory://b/k")


def s3dlio_store(uri: str):  # type: ignore[no-untyped-def]
    from s3dlio_core import store_for_uri

    return store_for_uri(uri)[0]


# ---------------------------------------------------------------- checkpoints
@pytest.mark.torch
def test_checkpoint_round_trip_and_failed_save(mem: str) -> None:
    import torch

    ck = S3Checkpoint(region="us-east-1")
    state = {"w": torch.randn(64, 32), "step": 7}
    with ck.writer(mem + "ck/epoch0.ckpt") as w:
        torch.save(state, w)
    with ck.reader(mem + "ck/epoch0.ckpt") as r:
        back = torch.load(r, weights_only=True)
    assert torch.equal(back["w"], state["w"]) and back["step"] == 7
    with pytest.raises(RuntimeError, match="fail"), ck.writer(mem + "ck/bad.ckpt") as w:
        torch.save(state, w)
        raise RuntimeError("fail")
    assert not s3dlio.exists(mem + "ck/bad.ckpt")
    with pytest.raises(ValueError):
        ck.writer("")


# ---------------------------------------------------------------- datasets
def _key_and_bytes(r: S3Reader) -> tuple[str, bytes]:
    return r.key, r.read()


@pytest.mark.torch
def test_map_dataset(tree: str) -> None:
    from s3dlio.compat.s3torchconnector import S3MapDataset

    ds = S3MapDataset.from_prefix(tree + "data/img", region="us-east-1")
    assert ds.region == "us-east-1" and ds.endpoint is None
    assert ds._bucket_key_pairs is None  # listed at the first access
    assert len(ds) == 3
    assert [ds[i].key for i in range(3)] == ["data/img/a.jpg", "data/img0.jpg", "data/img1.jpg"]
    assert ds[-1].read() == b"data/img1.jpg"
    with pytest.raises(IndexError):
        ds[3]
    assert [x.key for x in ds] == ["data/img/a.jpg", "data/img0.jpg", "data/img1.jpg"]  # sequence protocol
    t = S3MapDataset.from_prefix(tree + "data/img", transform=_key_and_bytes)
    assert t.__getitems__([2, 0]) == [
        ("data/img1.jpg", b"data/img1.jpg"),
        ("data/img/a.jpg", b"data/img/a.jpg"),
    ]
    ranged = S3MapDataset.from_prefix(
        tree + "data/img", reader_constructor=S3ReaderConstructor.range_based(), transform=lambda r: type(r)
    )
    assert ranged.__getitems__([0, 1]) == [RangedS3Reader, RangedS3Reader]
    objs = S3MapDataset.from_objects([tree + "dataimg", tree + "data/other"])
    assert [objs[i].read() for i in range(len(objs))] == [b"dataimg", b"data/other"]
    again = pickle.loads(pickle.dumps(t))
    assert again._client is None and again[0] == ("data/img/a.jpg", b"data/img/a.jpg")
    with pytest.raises(TypeError):
        S3MapDataset.from_prefix(tree, transform=5)  # type: ignore[arg-type]


@pytest.mark.torch
def test_iterable_dataset_lists_per_iteration_and_prefetches(tree: str) -> None:
    from s3dlio.compat.s3torchconnector import S3IterableDataset

    ds = S3IterableDataset.from_prefix(
        tree + "data/img", region="us-east-1", transform=lambda r: (r.key, r.read())
    )
    first = list(ds)
    assert first == [(k, k.encode()) for k in ("data/img/a.jpg", "data/img0.jpg", "data/img1.jpg")]
    _put(tree + "data/img2.jpg", b"new")
    assert [k for k, _ in ds][-1] == "data/img2.jpg"  # listed again
    items = list(S3IterableDataset.from_prefix(tree + "data/img"))
    assert all(isinstance(i, S3Item) for i in items) and items[0].read() == b"data/img/a.jpg"
    assert items[0]._source._data is None  # the prefetched bytes were handed to the reader
    ranged = S3IterableDataset.from_prefix(
        tree + "data/img", reader_constructor=S3ReaderConstructor.range_based()
    )
    assert {type(r) for r in ranged} == {RangedS3Reader}
    objs = S3IterableDataset.from_objects(tree + "dataimg", transform=lambda r: r.read())
    assert list(objs) == [b"dataimg"]
    assert list(S3IterableDataset.from_prefix(tree + "zzz")) == []


@pytest.mark.torch
def test_dataset_constructor_forms(tree: str) -> None:
    """s3torchconnector's `(region, get_dataset_objects)` and the original s3dlio's `(uri, region=...)`."""
    from functools import partial

    from s3dlio.compat.s3torchconnector import S3IterableDataset, S3MapDataset
    from s3dlio.compat.s3torchconnector._s3dataset_common import get_objects_from_prefix

    source = partial(get_objects_from_prefix, tree + "data/img")
    assert len(S3MapDataset("us-east-1", source)) == 3
    assert len(S3MapDataset(region="us-east-1", get_dataset_objects=source)) == 3
    m = S3MapDataset(tree + "data/img", region="eu-west-1", prefetch=4)
    assert (len(m), m.region, m.loader_kwargs) == (3, "eu-west-1", {"prefetch": 4})
    with pytest.raises(IndexError, match="Index 3 out of range for dataset of size 3"):
        m[3]
    with pytest.raises(IndexError, match="Index -4 out of range"):
        m.__getitems__([0, -4])
    it = S3IterableDataset(
        tree + "data/img", num_workers=2, prefetch=1, shuffle=False, transform=_key_and_bytes
    )
    assert [k for k, _ in it] == ["data/img/a.jpg", "data/img0.jpg", "data/img1.jpg"]
    with pytest.raises(TypeError, match="from_prefix"):
        S3IterableDataset("us-east-1")
    with pytest.raises(TypeError, match="bogus"):
        S3MapDataset(tree, bogus=1)
    with pytest.raises(TypeError, match="region twice"):
        S3MapDataset("us-east-1", source, region="us-west-2")


@pytest.mark.torch
def test_iterable_sharding_by_rank_and_worker(mem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from s3dlio.compat.s3torchconnector import S3IterableDataset
    from torch.utils.data import DataLoader

    n = 11
    for i in range(n):
        _put(mem + f"s/{i:02d}", bytes([i]))
    keys = [f"s/{i:02d}" for i in range(n)]

    def collect(ds, workers):  # type: ignore[no-untyped-def]
        dl = DataLoader(ds, num_workers=workers, collate_fn=lambda b: [x.key for x in b])
        return sorted(k for batch in dl for k in batch)

    plain = S3IterableDataset.from_prefix(mem + "s/")
    assert collect(plain, 2) == sorted(keys * 2)  # upstream: every worker yields everything
    sharded = S3IterableDataset.from_prefix(mem + "s/", enable_sharding=True)
    assert collect(sharded, 2) == keys
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    rank1 = S3IterableDataset.from_prefix(mem + "s/", enable_sharding=True)
    assert collect(rank1, 0) == keys[1::2]
    assert collect(rank1, 2) == keys[1::2]


# ---------------------------------------------------------------- dcp
def _model():  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


@pytest.mark.torch
@pytest.mark.parametrize("ctor", ["default", "sequential", "dcp_optimized"])
def test_dcp_round_trip_with_prefix_strategy(mem: str, ctor: str) -> None:
    import torch
    import torch.distributed.checkpoint as dcp
    from s3dlio.compat.s3torchconnector.dcp import RoundRobinPrefixStrategy, S3StorageReader, S3StorageWriter
    from s3dlio.torch.dcp import StorageReader, StorageWriter

    m = _model()
    w = S3StorageWriter(
        "us-east-1",
        mem + "ck",
        thread_count=2,
        prefix_strategy=RoundRobinPrefixStrategy(["p0", "p1"], epoch_num=3),
        sync_files=False,
        overwrite=True,
    )
    assert isinstance(w, StorageWriter) and w.path == mem + "ck/" and w.region == "us-east-1"
    dcp.save(m.state_dict(), storage_writer=w)
    listed = s3dlio.list(mem + "ck/", recursive=True)
    assert mem + "ck/.metadata" in listed
    assert all(u.startswith(mem + "ck/p0/epoch_3/__0_") for u in listed if u.endswith(".distcp"))
    constructor = None if ctor == "default" else getattr(S3ReaderConstructor, ctor)()
    r = S3StorageReader("us-east-1", mem + "ck", reader_constructor=constructor)
    assert isinstance(r, StorageReader)
    fresh = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    sd = fresh.state_dict()
    dcp.load(sd, storage_reader=r)
    for k, v in m.state_dict().items():
        assert torch.equal(sd[k], v)
    if ctor != "sequential":
        ranges = r._reader_constructor._item_ranges_by_file
        assert ranges and all(u.startswith(mem + "ck/p0/epoch_3/") for u in ranges)


@pytest.mark.torch
def test_dcp_writer_arguments() -> None:
    from s3dlio.compat.s3torchconnector.dcp import S3StorageWriter

    with pytest.raises(TypeError, match="bogus"):
        S3StorageWriter("us-east-1", "memory://b/ck/", bogus=1)
    w = S3StorageWriter(
        "us-east-1", "memory://b/ck/", per_thread_copy_ahead=1 << 20, cache_staged_state_dict=False
    )
    assert w.thread_count == 4  # s3dlio's default
    s3w = S3StorageWriter("eu-west-1", "s3://b/ck/", endpoint="http://127.0.0.1:1")
    assert (s3w.config.region, s3w.config.endpoint_url) == ("eu-west-1", "http://127.0.0.1:1")


@pytest.mark.torch
def test_prefix_strategies() -> None:
    from s3dlio.compat.s3torchconnector.dcp import (
        BinaryPrefixStrategy,
        DefaultPrefixStrategy,
        HexPrefixStrategy,
        RoundRobinPrefixStrategy,
        S3PrefixStrategyBase,
    )

    assert DefaultPrefixStrategy()(3) == "__3_"
    b = BinaryPrefixStrategy(epoch_num=1, min_prefix_length=4, prefix_count=4)
    assert [b(r) for r in range(5)] == [
        "0000/epoch_1/__0_",
        "1000/epoch_1/__1_",
        "0100/epoch_1/__2_",
        "1100/epoch_1/__3_",
        "0000/epoch_1/__4_",
    ]
    assert BinaryPrefixStrategy(min_prefix_len=3, prefix_count=2)(1) == "100/__1_"  # the README's keyword
    h = HexPrefixStrategy(min_prefix_length=4, prefix_count=17)
    assert h(15) == "f000/__15_" and h(16) == "0100/__16_"
    rr = RoundRobinPrefixStrategy(["a", "b"])
    assert [rr(i) for i in range(3)] == ["a/__0_", "b/__1_", "a/__2_"]
    with pytest.raises(ValueError):
        RoundRobinPrefixStrategy([])
    with pytest.raises(ValueError):
        BinaryPrefixStrategy(min_prefix_length=0)
    with pytest.raises(ValueError):
        HexPrefixStrategy(prefix_count=0)

    class Custom(S3PrefixStrategyBase):
        def generate_prefix(self, rank: int) -> str:
            return f"c/{rank}/"

    assert Custom()(2) == "c/2/"
