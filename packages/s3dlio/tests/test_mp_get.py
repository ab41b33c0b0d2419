"""mp_get on file://: several worker processes GET a numbered set of objects; the stats dict adds up."""

from __future__ import annotations

import pathlib

import pytest
import s3dlio
from s3dlio._mp_get import mp_get_uris

KEYS = {"attempted", "succeeded", "failed", "total_bytes", "bytes_source", "duration_seconds",
        "throughput_mb_s", "ops_per_sec", "total_objects", "workers"}
WORKER_KEYS = {"worker_id", "attempted", "succeeded", "failed", "bytes", "objects", "throughput_mb_s"}


@pytest.fixture
def dataset(tmp_path: pathlib.Path) -> str:
    prefix = f"file://{tmp_path}/mp/"
    s3dlio.put(prefix, 12, template="obj_{}.dat", size=5000)
    return prefix


def test_mp_get_reads_everything_from_several_processes(dataset: str) -> None:
    r = s3dlio.mp_get(uri=dataset, procs=3, jobs=4, num=12, template="obj_{}.dat")
    assert set(r) >= KEYS
    assert (r["attempted"], r["succeeded"], r["failed"], r["total_objects"]) == (12, 12, 0, 12)
    assert r["total_bytes"] == 12 * 5000
    assert r["duration_seconds"] > 0 and r["throughput_mb_s"] > 0 and r["ops_per_sec"] > 0
    assert len(r["workers"]) == 3
    assert sorted(w["worker_id"] for w in r["workers"]) == [0, 1, 2]
    for w in r["workers"]:
        assert set(w) >= WORKER_KEYS
        assert w["attempted"] == w["succeeded"] == w["objects"] == 4
        assert w["bytes"] == 4 * 5000


def test_missing_objects_are_counted_not_raised(dataset: str) -> None:
    r = s3dlio.mp_get(dataset, procs=2, jobs=8, num=15, template="obj_{}.dat")
    assert (r["attempted"], r["succeeded"], r["failed"]) == (15, 12, 3)
    assert sum(w["failed"] for w in r["workers"]) == 3


def test_one_process_runs_in_line(dataset: str) -> None:
    r = s3dlio.mp_get(dataset, procs=1, jobs=2, num=12, template="obj_{}.dat")
    assert r["succeeded"] == 12 and len(r["workers"]) == 1


def test_uri_rules() -> None:
    assert mp_get_uris("s3://b/p/", 2, "o_{}.dat") == ["s3://b/p/o_0.dat", "s3://b/p/o_1.dat"]
    assert mp_get_uris("s3://b", 1, "o_{}") == ["s3://b/o_0"]
    assert mp_get_uris("file:///d/", 2, "x") == ["file:///d/x0", "file:///d/x1"]
    with pytest.raises(ValueError):
        s3dlio.mp_get("file:///d/", procs=0)
    assert s3dlio.mp_get("file:///nonexistent-dir/", num=0)["attempted"] == 0


def test_workers_write_their_own_op_logs(dataset: str, tmp_path: pathlib.Path) -> None:
    log = tmp_path / "mp.tsv.zst"
    r = s3dlio.mp_get(dataset, procs=2, jobs=4, num=12, template="obj_{}.dat", op_log=str(log))
    assert r["succeeded"] == 12
    logs = sorted(tmp_path.glob("mp.tsv.zst.*"))
    assert len(logs) == 2 and all(p.stat().st_size > 0 for p in logs)
    from s3dlio_oplog.reader import read_op_log

    rows = [row for p in logs for row in read_op_log(str(p), ops=["GET"])]
    assert len(rows) == 12 and sum(row.bytes for row in rows) == 12 * 5000
