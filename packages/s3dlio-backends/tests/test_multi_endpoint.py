"""MultiEndpointStore (an ObjectStore) over several file:// and memory:// endpoints: factories, validation,
routing, stats, failover, listing with metadata, keys that must not escape an endpoint root."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from s3dlio_backends.multi_endpoint import (
    MultiEndpointStore,
    create_multi_endpoint_store,
    create_multi_endpoint_store_from_env,
    create_multi_endpoint_store_from_file,
    create_multi_endpoint_store_from_template,
    expand_template,
)
from s3dlio_core import BytesView, ObjectNotFoundError

STAT_KEYS = {"uri", "total_requests", "bytes_read", "bytes_written", "error_count", "active_requests"}


def endpoints(tmp_path: Path, n: int) -> list[str]:
    out = []
    for i in range(n):
        d = tmp_path / f"ep{i + 1}"
        d.mkdir()
        out.append(d.as_uri())
    return out


# ------------------------------------------------------------------ factories and validation
def test_template_ranges_padding_and_cartesian_product() -> None:
    assert expand_template("s3://b-{1...3}") == ["s3://b-1", "s3://b-2", "s3://b-3"]
    assert len(expand_template("s3://my-bucket-{1...10}")) == 10
    assert expand_template("s3://s-{01...03}") == ["s3://s-01", "s3://s-02", "s3://s-03"]
    assert expand_template("s3://s-{08...10}")[:3] == ["s3://s-08", "s3://s-09", "s3://s-10"]
    assert expand_template("s3://e{1...2}/x{8...9}") == ["s3://e1/x8", "s3://e1/x9", "s3://e2/x8", "s3://e2/x9"]
    many = expand_template("s3://region-{1...3}/shard-{01...99}")
    assert len(many) == 297 and many[0] == "s3://region-1/shard-01" and many[-1] == "s3://region-3/shard-99"
    assert expand_template("s3://b-{1..3}") == ["s3://b-{1..3}"]  # two dots: literal
    with pytest.raises(RuntimeError, match=r"Template expansion failed: Invalid range: start \(3\) > end \(1\)"):
        expand_template("s3://b-{3...1}")


def test_validation_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="requires at least one endpoint"):
        create_multi_endpoint_store([])
    with pytest.raises(RuntimeError, match=r"Too many endpoints: 33 exceeds maximum of 32 \(MAX_ENDPOINTS\)"):
        create_multi_endpoint_store([f"file:///tmp/e{i}" for i in range(33)])
    with pytest.raises(RuntimeError, match=r"All endpoints must use the same URI scheme\. Found file and s3"):
        create_multi_endpoint_store(["file:///tmp/a", "s3://b"])
    with pytest.raises(RuntimeError, match=r"Invalid strategy 'random'\. Use 'round_robin' or 'least_connections'"):
        create_multi_endpoint_store(["file:///tmp/a"], strategy="random")
    with pytest.raises(RuntimeError, match="Invalid strategy"):
        create_multi_endpoint_store_from_template("file:///tmp/a{1...2}", strategy="fastest")
    with pytest.raises(RuntimeError, match="Unable to infer backend"):
        create_multi_endpoint_store(["ftp://x/y"])
    with pytest.raises(RuntimeError, match="Too many endpoints: 40"):
        create_multi_endpoint_store_from_template("file:///tmp/too-many-{1...40}")
    assert create_multi_endpoint_store(["file:///tmp/a"], strategy=None).strategy() == "round_robin"
    with pytest.raises(TypeError):
        create_multi_endpoint_store("file:///tmp/a")  # type: ignore[arg-type]


def test_from_file_and_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "endpoints.txt"
    f.write_text("# replicas\n  file:///tmp/r1  \n\nfile:///tmp/r2\n# file:///tmp/r3\n")
    s = create_multi_endpoint_store_from_file(str(f), strategy="least_connections")
    assert s.endpoint_count() == 2 and s.strategy() == "least_connections"
    assert [e["uri"] for e in s.get_endpoint_stats()] == ["file:///tmp/r1", "file:///tmp/r2"]
    with pytest.raises(RuntimeError, match=r"absent\.txt"):
        create_multi_endpoint_store_from_file(str(tmp_path / "absent.txt"))
    monkeypatch.setenv("S3_ENDPOINT_URIS", " file:///tmp/a , ,file:///tmp/b,")
    assert create_multi_endpoint_store_from_env().endpoint_count() == 2
    monkeypatch.delenv("S3_ENDPOINT_URIS")
    with pytest.raises(RuntimeError, match="S3_ENDPOINT_URIS"):
        create_multi_endpoint_store_from_env()


# ------------------------------------------------------------------ operations and routing
def test_round_robin_rewrites_onto_each_endpoint_in_turn(tmp_path: Path) -> None:
    e1, e2, e3 = endpoints(tmp_path, 3)
    s = create_multi_endpoint_store([e1, e2, e3])
    for i in range(6):
        s.put(f"{e1}/k{i}.bin", b"v" * 10)
    assert sorted(os.listdir(tmp_path / "ep1")) == ["k0.bin", "k3.bin"]
    assert sorted(os.listdir(tmp_path / "ep2")) == ["k1.bin", "k4.bin"]
    assert sorted(os.listdir(tmp_path / "ep3")) == ["k2.bin", "k5.bin"]
    s.put(s.resolve("rel/x.bin"), b"r")  # a relative key lands under the chosen endpoint
    assert (tmp_path / "ep1" / "rel" / "x.bin").exists()
    stats = s.get_endpoint_stats()
    assert [x["total_requests"] for x in stats] == [3, 2, 2] and set(stats[0]) == STAT_KEYS
    assert [x["bytes_written"] for x in stats] == [21, 20, 20]


def test_reads_find_objects_on_any_endpoint_and_return_bytesview(tmp_path: Path) -> None:
    e1, e2 = endpoints(tmp_path, 2)
    s = create_multi_endpoint_store([e1, e2])
    s.put(f"{e1}/a.bin", bytes(range(256)) * 4)  # lands on ep1
    for _ in range(4):  # every read works, whichever endpoint the rotation picks first
        v = s.get(f"{e2}/a.bin")
        assert isinstance(v, BytesView) and bytes(v) == bytes(range(256)) * 4
    r = s.get_range(f"{e1}/a.bin", offset=1000, length=24)
    assert bytes(r) == (bytes(range(256)) * 4)[1000:1024]
    tail = s.get_range(f"{e1}/a.bin", 1020)
    assert len(tail) == 4
    assert (s.stat(f"{e1}/a.bin"))["size"] == 1024
    with pytest.raises(ObjectNotFoundError):
        s.get(f"{e1}/nope.bin")
    tot = s.get_total_stats()
    assert set(tot) == STAT_KEYS - {"uri"} and tot["active_requests"] == 0
    assert tot["bytes_read"] == 4 * 1024 + 24 + 4 and tot["error_count"] == 1


def test_list_merges_endpoints_with_sizes_and_delete_removes_everywhere(tmp_path: Path) -> None:
    e1, e2 = endpoints(tmp_path, 2)
    s = create_multi_endpoint_store([e1, e2])
    s.put_all_endpoints(f"{e1}/p/shared.bin", b"s" * 5)
    s.put_to_endpoint(0, f"{e1}/p/only1.bin", b"1")
    s.put_to_endpoint(1, f"{e1}/p/only2.bin", b"22")
    s.put_to_endpoint(1, f"{e1}/p/deep/x.bin", b"333")
    flat = s.list_info(f"{e1}/p/")
    assert [(i.uri, i.size, i.is_dir) for i in flat] == [
        (f"{e1}/p/deep/", None, True), (f"{e1}/p/only1.bin", 1, False), (f"{e1}/p/only2.bin", 2, False),
        (f"{e1}/p/shared.bin", 5, False)]
    assert all(i.last_modified and i.etag for i in flat if not i.is_dir)
    assert s.list(f"{e1}/p/") == [i.uri for i in flat]
    deep = s.list(f"{e2}/p/", recursive=True)
    assert deep == [f"{e2}/p/deep/x.bin", f"{e2}/p/only1.bin", f"{e2}/p/only2.bin", f"{e2}/p/shared.bin"]
    assert s.list_all_endpoints(f"{e1}/p/", recursive=True) == [d.replace(e2, e1) for d in deep]
    assert s.list(f"{e1}/p/", recursive=True, pattern=r"only\d") == [f"{e1}/p/only1.bin", f"{e1}/p/only2.bin"]
    s.delete(f"{e1}/p/shared.bin")
    assert not (tmp_path / "ep1" / "p" / "shared.bin").exists()
    assert not (tmp_path / "ep2" / "p" / "shared.bin").exists()
    assert bytes(s.get_from_endpoint(1, f"{e1}/p/only2.bin")) == b"22"
    s.delete_from_endpoint(1, f"{e1}/p/only2.bin")
    assert not (tmp_path / "ep2" / "p" / "only2.bin").exists()
    with pytest.raises(RuntimeError, match=r"endpoint index 5 out of range: 2 endpoint\(s\) configured"):
        s.get_from_endpoint(5, f"{e1}/p/only1.bin")


def test_least_connections_prefers_the_idle_endpoint(tmp_path: Path) -> None:
    e1, e2 = endpoints(tmp_path, 2)
    s = MultiEndpointStore([e1, e2], "least_connections")
    for i in range(3):  # one at a time: always the first (ties go to the first)
        s.put(f"{e1}/s{i}", b"x")
    assert [x["total_requests"] for x in s.get_endpoint_stats()] == [3, 0]
    big = b"y" * (4 << 20)
    s.put_many([(f"{e1}/c{i}", big) for i in range(16)], max_in_flight=16)
    counts = [x["total_requests"] for x in s.get_endpoint_stats()]
    assert sum(counts) == 19 and counts[1] > 0  # concurrent load spreads to the idle endpoint
    assert s.get_total_stats()["active_requests"] == 0


# ------------------------------------------------------------------ failure handling
def _break(path: Path) -> None:
    """Make an endpoint unusable: its directory becomes a regular file (I/O fails with ENOTDIR)."""
    shutil.rmtree(path)
    path.write_bytes(b"not a directory")


def _repair(path: Path) -> None:
    path.unlink()
    path.mkdir()


def test_failed_endpoint_leaves_rotation_and_no_request_is_lost(tmp_path: Path) -> None:
    eps = endpoints(tmp_path, 3)
    s = MultiEndpointStore(eps, "round_robin", backoff_s=60.0)
    payload = {f"obj{i}.bin": os.urandom(100 + i) for i in range(30)}
    for k, v in payload.items():
        s.put_all_endpoints(f"{eps[0]}/{k}", v)
    _break(tmp_path / "ep2")
    got = [v for _, v in s.get_many([f"{eps[0]}/{k}" for k in payload for _ in range(3)], max_in_flight=16)]
    assert [bytes(g) for g in got] == [v for v in payload.values() for _ in range(3)]
    for i in range(20):  # writes fail over too
        s.put(f"{eps[1]}/new{i}.bin", b"n")
    st = s.get_endpoint_stats()
    assert st[1]["error_count"] >= 1 and st[0]["error_count"] == st[2]["error_count"] == 0
    health = s.endpoint_health()
    assert [h["healthy"] for h in health] == [True, False, True] and health[1]["backoff_remaining_s"] > 0
    before = st[1]["total_requests"]
    for k in list(payload)[:10]:  # while backing off, the failed endpoint gets no traffic
        s.get(f"{eps[0]}/{k}")
    assert s.get_endpoint_stats()[1]["total_requests"] == before
    assert s.get_total_stats()["active_requests"] == 0


def test_recovered_endpoint_is_probed_back_into_rotation(tmp_path: Path) -> None:
    eps = endpoints(tmp_path, 2)
    s = MultiEndpointStore(eps, "round_robin", backoff_s=0.05, max_backoff_s=0.05)
    s.put_all_endpoints(f"{eps[0]}/a", b"A")
    _break(tmp_path / "ep2")
    for _ in range(4):
        assert bytes(s.get(f"{eps[0]}/a")) == b"A"
    assert s.endpoint_health()[1]["healthy"] is False
    _repair(tmp_path / "ep2")
    (tmp_path / "ep2" / "a").write_bytes(b"A")
    time.sleep(0.1)
    for _ in range(4):
        assert bytes(s.get(f"{eps[0]}/a")) == b"A"
    assert s.endpoint_health()[1]["healthy"] is True
    assert s.get_endpoint_stats()[1]["bytes_read"] >= 1


def test_every_endpoint_down_raises_the_failure(tmp_path: Path) -> None:
    eps = endpoints(tmp_path, 2)
    s = MultiEndpointStore(eps, backoff_s=60.0)
    _break(tmp_path / "ep1")
    _break(tmp_path / "ep2")
    with pytest.raises(RuntimeError, match="ep"):
        s.get(f"{eps[0]}/a")
    with pytest.raises(RuntimeError):
        s.put(f"{eps[0]}/a", b"x")
    assert s.get_total_stats()["error_count"] >= 4


def test_bad_arguments_do_not_take_endpoints_out_of_rotation(tmp_path: Path) -> None:
    eps = endpoints(tmp_path, 2)
    s = MultiEndpointStore(eps, backoff_s=60.0)
    s.put(f"{eps[0]}/a", b"abc")
    with pytest.raises(OverflowError):
        s.get_range(f"{eps[0]}/a", -1, 2)
    with pytest.raises(TypeError):
        s.get_range(f"{eps[0]}/a", "0", 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.put(f"{eps[0]}/b", 12345)
    assert all(h["healthy"] for h in s.endpoint_health())
    assert bytes(s.get_range(f"{eps[1]}/a", 1)) == b"bc"


# ------------------------------------------------------------------ an ObjectStore like any other
def test_it_is_an_object_store_with_the_whole_protocol(tmp_path: Path) -> None:
    import asyncio
    import io

    from s3dlio_core import ObjectStore

    e1, e2 = endpoints(tmp_path, 2)
    s = create_multi_endpoint_store([e1, e2])
    assert isinstance(s, ObjectStore)
    data = bytes(range(256)) * 40
    s.put_all_endpoints(f"{e1}/obj.bin", data)
    assert bytes(asyncio.run(s.get_async(f"{e1}/obj.bin"))) == data  # the base class's async twins
    assert bytes(s.get_suffix(f"{e1}/obj.bin", 10)) == data[-10:]
    views = s.get_ranges(f"{e2}/obj.bin", [(0, 4), (5000, 6), (9000, 1000)])
    assert [bytes(v) for v in views] == [data[:4], data[5000:5006], data[9000:10000]]
    buf = bytearray(100)
    assert s.get_range_into(f"{e1}/obj.bin", 10, buf) == 100 and buf == data[10:110]
    with s.open_reader(f"{e1}/obj.bin") as r:  # what zipfile / h5py / torch.load use
        r.seek(-3, io.SEEK_END)
        assert r.read() == data[-3:]
    with s.open_writer(f"{e1}/streamed.bin") as w:
        w.write(b"abc")
        w.write(b"def")
        assert w.tell() == 6 and not s.exists(f"{e1}/streamed.bin")
    assert bytes(s.get(f"{e2}/streamed.bin")) == b"abcdef"  # found on whichever endpoint took it
    s.put(f"{e1}/from-stream.bin", io.BytesIO(b"a stream"))
    assert bytes(s.get(f"{e1}/from-stream.bin")) == b"a stream"
    target = tmp_path / "out" / "dl.bin"
    assert s.download_to(f"{e2}/obj.bin", str(target)) == len(data) and target.read_bytes() == data
    assert s.get_total_stats()["bytes_written"] == 2 * len(data) + 6 + 8
    assert s.delete(f"{e1}/obj.bin") is None and not s.exists(f"{e2}/obj.bin")


def test_listing_takes_sizes_from_the_endpoints_listings_not_one_head_per_object() -> None:
    from s3dlio_core import instrument

    eps = [f"memory://me-{os.getpid()}-{os.urandom(3).hex()}/root{i}" for i in range(3)]
    s = create_multi_endpoint_store(eps)
    for i in range(30):
        s.put_to_endpoint(i % 3, f"{eps[0]}/d/k{i:02d}", b"x" * i)
    records: list = []
    instrument.add_observer(records.append)
    try:
        infos = s.list_info(f"{eps[1]}/d/", recursive=True)
        sized = s.list(f"{eps[1]}/d/")
    finally:
        instrument.remove_observer(records.append)
    assert [(i.uri, i.size) for i in infos] == [(f"{eps[1]}/d/k{i:02d}", i) for i in range(30)]
    assert sized == [i.uri for i in infos]
    assert not [r for r in records if r.op == "HEAD"]


def test_keys_never_escape_an_endpoint_root(tmp_path: Path) -> None:
    from s3dlio_core import InvalidUriError

    (root := tmp_path / "R").mkdir()
    r = root.as_uri()
    s = create_multi_endpoint_store([r])
    for bad in ("../x", "a/../../x", "sub/..", "nul\x00byte"):
        with pytest.raises(InvalidUriError) as ei:
            s.put(s.resolve(bad), b"no")
        assert bad in str(ei.value)
    for bad_uri in (f"{r}/../x", f"{r}/a/../../x"):
        with pytest.raises(InvalidUriError) as ei:
            s.put(bad_uri, b"no")
        assert bad_uri in str(ei.value)
    bucket = f"memory://esc-{os.urandom(3).hex()}"
    m = create_multi_endpoint_store([f"{bucket}/root-a", f"{bucket}/root-b"])
    with pytest.raises(InvalidUriError) as ei:  # object stores allow '..' in keys, endpoint roots do not
        m.put(f"{bucket}/root-a/../root-c/x", b"no")
    assert f"{bucket}/root-a/../root-c/x" in str(ei.value)
    with pytest.raises(InvalidUriError):
        m.get_from_endpoint(1, f"{bucket}/root-a/../x")
    assert not os.listdir(tmp_path / "R") and m.list(f"{bucket}/root-a/", recursive=True) == []
    assert s.resolve("/rooted/x") == f"{r}/rooted/x" and s.resolve("s3://other/x") == "s3://other/x"


def test_recursive_delete_and_mkdir_reach_every_endpoint(tmp_path: Path) -> None:
    e1, e2 = endpoints(tmp_path, 2)
    s = create_multi_endpoint_store([e1, e2])
    for i in range(4):
        s.put_all_endpoints(f"{e1}/tree/k{i}", b"v")
    s.put_to_endpoint(1, f"{e1}/tree/deep/only2", b"v")
    s.mkdir(f"{e1}/made/here")
    assert (tmp_path / "ep1" / "made" / "here").is_dir() and (tmp_path / "ep2" / "made" / "here").is_dir()
    s.delete(f"{e1}/tree/", recursive=True)
    assert s.list(f"{e1}/tree/", recursive=True) == []
    assert not list((tmp_path / "ep2" / "tree").rglob("*.*")) and not (tmp_path / "ep2" / "tree" / "k0").exists()
