"""Op-log sessions end to end. One session per process, so every scenario runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
import zstandard
from s3dlio_oplog.format import COLUMNS, HEADER
from s3dlio_oplog.reader import iter_lines, read_op_log


def run_py(code: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    """Run `code` in a fresh interpreter; return its stdout (fail the test on a non-zero exit)."""
    full = {**os.environ, **(env or {})}
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                       env=full, timeout=timeout)
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p.stdout


def decompress(path: Path) -> str:
    with open(path, "rb") as fh:
        return zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True).read().decode()


def test_every_operation_is_one_row_in_the_originals_format(tmp_path: Path) -> None:
    log = tmp_path / "ops.tsv.zst"
    data = tmp_path / "data"
    out = run_py(f"""
        import json, s3dlio
        d = {data.as_uri() + '/'!r}
        assert not s3dlio.is_op_log_active() and s3dlio.op_log_stats() is None
        s3dlio.init_op_log({str(log)!r})
        assert s3dlio.is_op_log_active()
        s3dlio.init_op_log({str(tmp_path / 'other.tsv.zst')!r})  # second init: silent no-op
        s3dlio.put(d + "a.bin", b"x" * 100)
        s3dlio.put(d + "b.bin", b"y" * 10)
        s3dlio.get(d + "a.bin")
        s3dlio.get_range(d + "a.bin", 10, 20)
        s3dlio.stat(d + "a.bin")
        s3dlio.exists(d + "b.bin")
        s3dlio.list(d, recursive=True)
        try:
            s3dlio.get(d + "missing.bin")
        except FileNotFoundError:
            pass
        s3dlio.delete(d + "b.bin")
        s3dlio.finalize_op_log()
        s3dlio.finalize_op_log()  # idempotent
        assert not s3dlio.is_op_log_active()
        try:
            s3dlio.init_op_log({str(tmp_path / 'again.tsv.zst')!r})
        except RuntimeError as e:
            print("restart:", e)
        print(json.dumps(s3dlio.op_log_stats()))
    """)
    assert "already finalized and cannot be restarted" in out
    assert not (tmp_path / "other.tsv.zst").exists() and not (tmp_path / "again.tsv.zst").exists()
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["accepted"] == stats["written"] == 9
    assert stats["dropped_full"] == stats["rejected_closed"] == 0 and stats["writer_error"] is None
    text = decompress(log)
    assert text.startswith(HEADER)
    rows = [dict(zip(COLUMNS, ln.split("\t"), strict=True)) for ln in text.splitlines()[1:]]
    assert [r["op"] for r in rows] == ["PUT", "PUT", "GET", "GET_RANGE", "HEAD", "HEAD", "LIST", "GET",
                                       "DELETE"]
    assert [r["idx"] for r in rows] == [str(i) for i in range(9)]
    assert [r["bytes"] for r in rows] == ["100", "10", "100", "20", "100", "10", "0", "0", "0"]
    assert rows[6]["n_objects"] == "2"  # LIST: entries returned
    assert all(r["endpoint"] == "file://" for r in rows)
    assert rows[0]["file"] == f"{data}/a.bin"
    assert rows[7]["error"].startswith("ObjectNotFoundError") and all(not r["error"] for r in rows[:7])
    for r in rows:
        assert r["start"].endswith("Z") and len(r["start"]) == 30  # 2026-11-21T09:24:05.462007356Z
        assert int(r["duration_ns"]) >= 0
    assert rows[0]["first_byte"] == rows[0]["start"] and rows[2]["first_byte"] == rows[2]["end"]
    assert rows[4]["first_byte"] == "" and rows[6]["first_byte"] == ""


def test_bad_paths_are_rejected_and_a_failed_init_can_be_retried(tmp_path: Path) -> None:
    out = run_py(f"""
        import s3dlio
        for bad in ("s3://bucket/log.tsv.zst", "direct:///tmp/x.zst", "FILE:///tmp/x.zst",
                    {str(tmp_path / 'no' / 'such' / 'dir.zst')!r}):
            try:
                s3dlio.init_op_log(bad)
                print("accepted", bad)
            except RuntimeError as e:
                print("rejected", type(e).__name__)
        assert not s3dlio.is_op_log_active()
        s3dlio.init_op_log({(tmp_path / 'ok.tsv.zst').as_uri()!r})
        assert s3dlio.is_op_log_active()
        s3dlio.finalize_op_log()
    """)
    assert out.count("rejected") == 4 and "accepted" not in out
    assert decompress(tmp_path / "ok.tsv.zst") == HEADER  # header even with no ops


def test_no_thread_at_import_and_finalized_at_exit(tmp_path: Path) -> None:
    log = tmp_path / "exit.tsv.zst"
    out = run_py(f"""
        import threading, s3dlio
        print("threads at import", threading.active_count())
        s3dlio.init_op_log({str(log)!r})
        for i in range(50):
            s3dlio.put({(tmp_path / 'd').as_uri()!r} + f"/o{{i}}", b"z")
        # no finalize: atexit must end the stream
    """)
    assert "threads at import 1" in out
    rows = list(read_op_log(str(log)))
    assert len(rows) == 50 and {r.op for r in rows} == {"PUT"}


def test_many_threads_lossless_every_row_written(tmp_path: Path) -> None:
    log = tmp_path / "mt.tsv.zst"
    out = run_py(f"""
        import json, threading, s3dlio
        s3dlio.init_op_log({str(log)!r})
        d = {(tmp_path / 'mt').as_uri()!r}
        s3dlio.put(d + "/x", b"1234")
        alive = threading.Barrier(8)  # all eight alive at once: thread ids are never reused
        def work(t):
            alive.wait()
            for i in range(300):
                s3dlio.get(d + "/x")
            alive.wait()
        ts = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        [t.start() for t in ts]; [t.join() for t in ts]
        s3dlio.finalize_op_log()
        print(json.dumps(s3dlio.op_log_stats()))
    """, env={"S3DLIO_OPLOG_LOSSLESS": "1", "S3DLIO_OPLOG_BUF": "16"})
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["lossless"] is True
    assert stats["accepted"] == stats["written"] == 2401 and stats["dropped_full"] == 0
    rows = list(read_op_log(str(log)))
    assert len(rows) == 2401 and [r.idx for r in rows] == list(range(2401))
    assert len({r.thread for r in rows}) == 9


def test_lossy_queue_counts_what_it_drops(tmp_path: Path) -> None:
    log = tmp_path / "lossy.tsv.zst"
    out = run_py(f"""
        import json, s3dlio
        s3dlio.init_op_log({str(log)!r})
        d = {(tmp_path / 'l').as_uri()!r}
        s3dlio.put(d + "/x", b"1")
        for i in range(5000):
            s3dlio.exists(d + "/x")
        s3dlio.finalize_op_log()
        print(json.dumps(s3dlio.op_log_stats()))
    """, env={"S3DLIO_OPLOG_BUF": "2"})
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["accepted"] + stats["dropped_full"] == 5001
    assert stats["accepted"] == stats["written"] == len(list(read_op_log(str(log))))


def test_forked_child_logs_to_its_own_file_never_the_parents(tmp_path: Path) -> None:
    log = tmp_path / "fork.tsv.zst"
    out = run_py(f"""
        import os, s3dlio
        d = {(tmp_path / 'f').as_uri()!r}
        s3dlio.init_op_log({str(log)!r})
        s3dlio.put(d + "/parent-before", b"p")
        pid = os.fork()
        if pid == 0:
            ok = not s3dlio.is_op_log_active()  # nothing open until the child's first operation
            for i in range(200):
                s3dlio.put(d + f"/child{{i}}", b"c")
            ok = ok and s3dlio.is_op_log_active()
            s3dlio.finalize_op_log()
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        print("child", pid, status)
        s3dlio.put(d + "/parent-after", b"p")
        s3dlio.finalize_op_log()
    """)
    _, pid, status = out.split()[:3]
    assert status == "0"
    rows = list(read_op_log(str(log)))
    assert [r.file.rsplit("/", 1)[1] for r in rows] == ["parent-before", "parent-after"]
    child = list(read_op_log(str(log) + f".{pid}"))
    assert [r.file.rsplit("/", 1)[1] for r in child] == [f"child{i}" for i in range(200)]
    assert [r.idx for r in child] == list(range(200))


def test_multiprocessing_fork_worker_log_is_finalized_at_worker_exit(tmp_path: Path) -> None:
    log = tmp_path / "mp.tsv.zst"
    out = run_py(f"""
        import multiprocessing as mp, s3dlio
        d = {(tmp_path / 'm').as_uri()!r}

        def work():
            for i in range(50):
                s3dlio.put(d + f"/w{{i}}", b"w")  # no finalize: the worker exits through os._exit

        if __name__ == "__main__":
            s3dlio.init_op_log({str(log)!r})
            p = mp.get_context("fork").Process(target=work)
            p.start(); p.join()
            print("worker", p.pid, p.exitcode)
            s3dlio.finalize_op_log()
    """)
    _, pid, code = out.split()[:3]
    assert code == "0"
    assert list(read_op_log(str(log))) == []
    child = list(read_op_log(str(log) + f".{pid}"))
    assert len(child) == 50 and {r.op for r in child} == {"PUT"}


def _start_logging_child(tmp_path: Path, log: Path) -> subprocess.Popen[str]:
    code = f"""
        import sys, time, s3dlio
        s3dlio.init_op_log({str(log)!r})
        d = {(tmp_path / 'k').as_uri()!r}
        for i in range(100):
            s3dlio.put(d + f"/o{{i}}", b"k")
        time.sleep(2.5)  # > the writer's 1 s frame flush
        print("ready", flush=True)
        while True:
            s3dlio.exists(d + "/o0")
            time.sleep(0.001)
    """
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True)


def _wait_ready(p: subprocess.Popen[str]) -> None:
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "ready"


@pytest.mark.timeout(60)
def test_sigkill_of_the_program_leaves_a_readable_log(tmp_path: Path) -> None:
    log = tmp_path / "killed.tsv.zst"
    p = _start_logging_child(tmp_path, log)
    _wait_ready(p)
    writer = psutil.Process(p.pid).children()
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    for w in writer:  # the writer sees end of input, writes what it has and ends the stream
        w.wait(timeout=30)
    rows = list(read_op_log(str(log)))
    assert [r.op for r in rows[:100]] == ["PUT"] * 100
    assert all(r.op == "HEAD" for r in rows[100:])


@pytest.mark.timeout(60)
def test_sigkill_of_program_and_writer_is_readable_to_the_last_frame(tmp_path: Path) -> None:
    log = tmp_path / "both.tsv.zst"
    p = _start_logging_child(tmp_path, log)
    _wait_ready(p)
    writers = psutil.Process(p.pid).children()
    assert writers, "the op-log writer process is missing"
    for w in writers:
        w.kill()
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    lines = list(iter_lines(str(log)))
    assert lines[0] + "\n" == HEADER
    rows = list(read_op_log(str(log)))
    assert len(rows) >= 100 and [r.op for r in rows[:100]] == ["PUT"] * 100


def test_writer_lives_in_its_own_process_and_exits_after_finalize(tmp_path: Path) -> None:
    out = run_py(f"""
        import psutil, s3dlio
        s3dlio.init_op_log({str(tmp_path / 'w.tsv.zst')!r})
        kids = psutil.Process().children()
        print("writers", len(kids))
        s3dlio.finalize_op_log()
        print("left", len([k for k in kids if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]))
    """)
    assert "writers 1" in out and "left 0" in out


def test_rows_are_dropped_and_counted_while_the_writer_is_behind() -> None:
    """A writer that stops reading: the pipe fills, later rounds are dropped and counted, memory stays put."""
    from s3dlio_oplog.logger import _Session

    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        s = _Session("/dev/null", cap=8, lossless=False)
        s.pipe_fd = w
        rec = ("GET", "file:///x", 1, 1, 0, 2, None, 1, 1)
        rounds = 0
        while not s.pending:  # fill the pipe until a batch no longer fits
            for _ in range(500):
                s.observer(rec)
            s._drain_once()
            rounds += 1
            assert rounds < 10_000
        for _ in range(300):
            s.observer(rec)
        s._drain_once()  # the writer is still behind: this round is dropped
        assert s.dropped_full == 300 and not s.buf
        assert s.accepted_count() + s.dropped_full == rounds * 500 + 300
        while os.read(r, 1 << 16):  # the writer catches up
            if s._push(False):
                break
        assert not s.pending and s.sent == rounds * 500
    finally:
        os.close(r)
        os.close(w)


def test_records_of_any_shape_reach_the_log(tmp_path: Path) -> None:
    """A store may hand `record()` an OpRecord (a tuple subclass) or odd values: rows are still written."""
    log = tmp_path / "shapes.tsv.zst"
    out = run_py(f"""
        import json, time, s3dlio
        from s3dlio_core import instrument
        from s3dlio_core.instrument import OpRecord
        s3dlio.init_op_log({str(log)!r})
        t = time.time_ns()
        instrument.record(OpRecord("PUT", "s3://b/k1", 5, t, 0, t + 10, None, 1, 7))
        instrument.record(("GET", "s3://b/k2", 6, t, 0, t + 20, ValueError("odd"), 1, 7))
        s3dlio.finalize_op_log()
        print(json.dumps(s3dlio.op_log_stats()))
    """)
    assert json.loads(out.strip().splitlines()[-1])["written"] == 2
    rows = list(read_op_log(str(log)))
    assert [(r.op, r.file, r.bytes, r.error) for r in rows] == [("PUT", "b/k1", 5, ""), ("GET", "b/k2", 6, "odd")]


def test_pause_and_resume_leave_a_gap_in_the_same_file(tmp_path: Path) -> None:
    log = tmp_path / "pause.tsv.zst"
    run_py(f"""
        import s3dlio
        from s3dlio_oplog import pause_op_log, resume_op_log
        from s3dlio_core import instrument
        d = {(tmp_path / 'p').as_uri()!r}
        s3dlio.init_op_log({str(log)!r})
        s3dlio.put(d + "/a", b"1")
        pause_op_log()
        assert not instrument.is_active() and s3dlio.is_op_log_active()
        s3dlio.put(d + "/b", b"2")
        resume_op_log(); resume_op_log()
        s3dlio.put(d + "/c", b"3")
        s3dlio.finalize_op_log()
    """)
    assert [r.file.rsplit("/", 1)[1] for r in read_op_log(str(log))] == ["a", "c"]


def test_a_dead_writer_never_breaks_or_blocks_the_program(tmp_path: Path) -> None:
    log = tmp_path / "dead.tsv.zst"
    for lossless in ("0", "1"):
        out = run_py(f"""
            import json, os, signal, time, psutil, s3dlio
            d = {(tmp_path / 'dead').as_uri()!r}
            s3dlio.init_op_log({str(log)!r})
            for w in psutil.Process().children():
                w.kill()
                w.wait()
            for i in range(1000):  # more than the buffer holds: must neither block nor raise
                s3dlio.put(d + f"/o{{i % 10}}", b"x")
            time.sleep(0.2)
            s3dlio.finalize_op_log()
            st = s3dlio.op_log_stats()
            print(json.dumps(st))
        """, env={"S3DLIO_OPLOG_LOSSLESS": lossless, "S3DLIO_OPLOG_BUF": "64"})
        st = json.loads(out.strip().splitlines()[-1])
        assert st["writer_failed"] is True and st["writer_error"], st
        assert st["written"] < 1000 and st["accepted"] + st["rejected_closed"] + st["dropped_full"] == 1000
