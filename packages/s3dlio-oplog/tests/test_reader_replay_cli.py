"""Reading, summarising and replaying op-logs, and the `s3-cli oplog` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import zstandard
from s3dlio_core import store_for_uri
from s3dlio_oplog.cli import main as cli_main
from s3dlio_oplog.format import HEADER, RowFormatter, format_ts
from s3dlio_oplog.reader import read_op_log, summarize
from s3dlio_oplog.replay import common_prefix, replay, translate_uri

T0 = 1_795_253_045_000_000_000
MS = 1_000_000


def write_log(path: Path, recs: list[tuple], frames: int = 1) -> None:
    """An op-log from raw records, in `frames` zstd frames (as the writer flushes them)."""
    f = RowFormatter()
    lines = [HEADER] + [f.row(r) for r in recs]
    cctx = zstandard.ZstdCompressor()
    step = max(1, len(lines) // frames)
    with open(path, "wb") as fh:
        for i in range(0, len(lines), step):
            fh.write(cctx.compress("".join(lines[i:i + step]).encode()))


def sample() -> list[tuple]:
    recs = []
    for i in range(10):
        recs.append(("GET", f"s3://bkt/d/o{i}", 4096, T0 + i * MS, 0, T0 + i * MS + (i + 1) * 100_000, None, 1, 1))
    recs.append(("PUT", "s3://bkt/d/new", 100, T0 + 20 * MS, 0, T0 + 21 * MS, None, 1, 2))
    recs.append(("GET", "s3://bkt/d/missing", 0, T0 + 30 * MS, 0, T0 + 31 * MS, "NotFound: no", 1, 2))
    recs.append(("LIST", "s3://bkt/d/", 0, T0 + 40 * MS, 0, T0 + 41 * MS, None, 11, 2))
    return recs


def test_rows_are_typed_and_filterable(tmp_path: Path) -> None:
    log = tmp_path / "s.tsv.zst"
    write_log(log, sample(), frames=3)
    rows = list(read_op_log(str(log)))
    assert len(rows) == 13
    r = rows[0]
    assert (r.idx, r.op, r.bytes, r.endpoint, r.file, r.uri) == (0, "GET", 4096, "s3://bkt", "bkt/d/o0",
                                                                 "s3://bkt/d/o0")
    assert r.start_ns == T0 and r.duration_ns == 100_000 and r.first_byte_ns == r.end_ns
    assert [x.op for x in read_op_log(str(log), ops=["put", "list"])] == ["PUT", "LIST"]
    assert [x.file for x in read_op_log(str(log), errors=True)] == ["bkt/d/missing"]
    assert len(list(read_op_log(str(log), errors=False))) == 12
    win = list(read_op_log(str(log), start_ns=T0 + 5 * MS, end_ns=T0 + 30 * MS))
    assert [x.idx for x in win] == [5, 6, 7, 8, 9, 10]


def test_summary_counts_bytes_and_latency_percentiles(tmp_path: Path) -> None:
    log = tmp_path / "s.tsv.zst"
    write_log(log, sample())
    s = summarize(read_op_log(str(log)))
    g = s["GET"]
    assert g["count"] == 11 and g["errors"] == 1 and g["bytes"] == 40960
    assert g["p50_ns"] == 600_000 and g["max_ns"] == 1_000_000 and g["min_ns"] == 100_000
    assert s["LIST"]["n_objects"] == 11 and s["PUT"]["bytes"] == 100
    assert "ttfb_p50_ns" not in g  # no first byte reported: the reads' first_byte is their end
    assert s["TOTAL"]["count"] == 13 and s["TOTAL"]["wall_ns"] == 41 * MS


def test_summary_has_ttfb_where_first_bytes_were_reported(tmp_path: Path) -> None:
    log = tmp_path / "fb.tsv.zst"
    write_log(log, [("GET", f"s3://b/k{i}", 1, T0, T0 + (i + 1) * MS, T0 + 20 * MS, None, 1, 1) for i in range(10)])
    g = summarize(read_op_log(str(log)))["GET"]
    assert g["ttfb_p50_ns"] == 5 * MS and g["ttfb_p99_ns"] == 10 * MS


def test_truncated_log_reads_up_to_the_last_complete_frame(tmp_path: Path) -> None:
    log = tmp_path / "t.tsv.zst"
    write_log(log, sample(), frames=2)
    data = log.read_bytes()
    log.write_bytes(data[:-7])  # the last frame cut short
    rows = list(read_op_log(str(log)))
    assert 0 < len(rows) < 13 and [r.idx for r in rows] == list(range(len(rows)))


def test_reads_plain_tsv_csv_and_warp_style_headers(tmp_path: Path) -> None:
    tsv = tmp_path / "w.tsv"
    tsv.write_text("operation\tfile\tendpoint\tt_start_ns\tsize\n"
                   f"GET\tbkt/a\ts3://bkt\t{T0}\t5\nSTAT\tbkt/b\ts3://bkt\t{T0 + 1}\t0\n")
    rows = list(read_op_log(str(tsv)))
    assert [(r.op, r.uri, r.start_ns, r.bytes) for r in rows] == [("GET", "s3://bkt/a", T0, 5),
                                                                  ("STAT", "s3://bkt/b", T0 + 1, 0)]
    assert [r.op for r in read_op_log(str(tsv), ops=["HEAD"])] == ["STAT"]
    csvf = tmp_path / "w.csv"
    csvf.write_text(f"idx,op,file,endpoint,start,bytes\n0,PUT,bkt/x,s3://bkt,{format_ts(T0)},9\n")
    assert [(r.op, r.bytes, r.start_ns) for r in read_op_log(str(csvf))] == [("PUT", 9, T0)]
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match="not an op-log"):
        list(read_op_log(str(bad)))


def test_translate_uri_and_common_prefix() -> None:
    assert translate_uri("s3://old/data.bin", "s3://old", "az://new/cont") == "az://new/cont/data.bin"
    assert translate_uri("s3://old/data.bin", "s3://old/", "file:///tmp/x/") == "file:///tmp/x/data.bin"
    assert translate_uri("gs://other/k", "s3://old/", "file:///x/") == "gs://other/k"
    assert common_prefix(["s3://b/run/a/1", "s3://b/run/b/2"]) == "s3://b/run/"


def _record_workload(tmp_path: Path, src: Path, log: Path) -> None:
    code = f"""
        import s3dlio
        d = {src.as_uri()!r}
        for i in range(5):
            s3dlio.put(d + f"/o{{i}}.bin", b"a" * (100 + i))
        s3dlio.init_op_log({str(log)!r})
        for i in range(5):
            s3dlio.get(d + f"/o{{i}}.bin")
        s3dlio.put(d + "/sub/new.bin", b"n" * 777)
        s3dlio.stat(d + "/o0.bin")
        s3dlio.delete(d + "/o4.bin")
        s3dlio.finalize_op_log()
    """
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_replay_against_another_prefix_as_fast_as_possible(tmp_path: Path) -> None:
    src, dst, log = tmp_path / "src", tmp_path / "dst", tmp_path / "rec.tsv.zst"
    _record_workload(tmp_path, src, log)
    store, _ = store_for_uri(dst.as_uri() + "/")
    for i in range(5):  # the target holds the same objects as the source did
        store.put(f"{dst.as_uri()}/o{i}.bin", b"b" * (100 + i))
    res = replay(str(log), dst.as_uri() + "/", speed=None, max_in_flight=1)
    assert res.issued == {"GET": 5, "PUT": 1, "HEAD": 1, "DELETE": 1} and res.total_failed == 0
    assert res.bytes == sum(100 + i for i in range(5)) + 777
    assert (dst / "sub" / "new.bin").stat().st_size == 777
    assert not (dst / "o4.bin").exists() and (src / "o0.bin").exists()


def test_replay_with_recorded_timing_and_errors_counted(tmp_path: Path) -> None:
    log = tmp_path / "t.tsv.zst"
    d = (tmp_path / "t").as_uri()
    write_log(log, [("PUT", f"{d}/a", 3, T0, 0, T0 + MS, None, 1, 1),
                    ("GET", f"{d}/a", 3, T0 + 50 * MS, 0, T0 + 51 * MS, None, 1, 1),
                    ("GET", f"{d}/nope", 0, T0 + 60 * MS, 0, T0 + 61 * MS, "x", 1, 1),
                    ("DELETE_BATCH", f"{d}/", 0, T0 + 70 * MS, 0, T0 + 71 * MS, None, 3, 1)])
    res = replay(str(log), speed=10.0, max_in_flight=1)
    assert res.issued == {"PUT": 1, "GET": 2} and res.failed == {"GET": 1} and res.skipped == 1
    assert "nope" in res.errors[0]
    with pytest.raises(FileNotFoundError):
        replay(str(log), speed=None, continue_on_error=False, max_in_flight=1)


def test_cli_show_stats_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "c.tsv.zst"
    write_log(log, sample())
    assert cli_main(["show", str(log), "--op", "PUT"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "\tPUT\t100\t" in out[0] and "s3://bkt/d/new" in out[0]
    assert cli_main(["show", str(log), "--json", "-n", "2"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["idx"] for r in rows] == [0, 1] and rows[0]["bytes"] == 4096
    assert cli_main(["show", str(log), "--errors"]) == 0
    assert "missing" in capsys.readouterr().out
    assert cli_main(["stats", str(log)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split()[:3] == ["op", "count", "errors"] and "TOTAL" in text
    assert cli_main(["stats", str(log), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["GET"]["count"] == 11
    assert cli_main(["stats", str(log), str(log), "--json", "--op", "GET"]) == 0  # several logs, e.g. workers'
    assert json.loads(capsys.readouterr().out)["GET"]["count"] == 22
    assert cli_main(["show", str(tmp_path / "absent.zst")]) == 1
    assert "absent" in capsys.readouterr().err
    src, dst, rec = tmp_path / "src", tmp_path / "dst", tmp_path / "rec.tsv.zst"
    _record_workload(tmp_path, src, rec)
    os.makedirs(dst)
    for i in range(5):
        (dst / f"o{i}.bin").write_bytes(b"q" * (100 + i))
    assert cli_main(["replay", str(rec), "--target", dst.as_uri() + "/", "--fast"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["issued"]["GET"] == 5 and res["failed"] == {}
    assert cli_main(["nonsense"]) == 2
