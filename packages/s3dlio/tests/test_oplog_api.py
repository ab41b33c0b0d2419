"""The op-log through the flat API: the spec's quick-start and complete examples (file:// paths under
tmp_path). One op-log session per process, so each example runs in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import s3dlio
from s3dlio_oplog.reader import read_op_log, summarize


def run_py(code: str) -> str:
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_flat_api_names() -> None:
    for name in ("init_op_log", "is_op_log_active", "finalize_op_log", "op_log_stats"):
        assert callable(getattr(s3dlio, name)) and name in s3dlio.__all__
    assert s3dlio.is_op_log_active() is False


def test_quick_start_upload_download_are_logged(tmp_path: Path) -> None:
    src = tmp_path / "data"
    src.mkdir()
    for i in range(4):
        (src / f"f{i}.dat").write_bytes(os.urandom(1000 + i))
    log = tmp_path / "my_operations.tsv.zst"
    out = run_py(f"""
        import s3dlio
        s3dlio.init_op_log({str(log)!r})
        if s3dlio.is_op_log_active():
            print("Op-log is recording")
        s3dlio.upload(src_patterns=[{str(src / '*.dat')!r}], dest_prefix={(tmp_path / 'output').as_uri() + '/'!r},
                      max_in_flight=4, create_bucket=False)
        s3dlio.download(src_uri={(tmp_path / 'output').as_uri() + '/'!r}, dest_dir={str(tmp_path / 'downloads') + '/'!r},
                        max_in_flight=4, recursive=True)
        s3dlio.finalize_op_log()
        print(s3dlio.op_log_stats()["written"])
    """)
    assert "Op-log is recording" in out
    s = summarize(read_op_log(str(log)))
    assert s["PUT"]["count"] == 4 and s["PUT"]["bytes"] == sum(1000 + i for i in range(4))
    assert s["GET"]["count"] == 4 and s["GET"]["bytes"] == s["PUT"]["bytes"] and "LIST" in s
    assert s["TOTAL"]["errors"] == 0
    assert sorted(p.name for p in (tmp_path / "downloads").iterdir()) == [f"f{i}.dat" for i in range(4)]


def test_file_uri_log_path(tmp_path: Path) -> None:
    log = tmp_path / "operations.log"
    run_py(f"""
        import s3dlio
        s3dlio.init_op_log({log.as_uri()!r})
        s3dlio.put({(tmp_path / 'x.bin').as_uri()!r}, b"abc")
        assert s3dlio.is_op_log_active()
        s3dlio.finalize_op_log()
    """)
    rows = list(read_op_log(str(log)))
    assert [(r.op, r.bytes) for r in rows] == [("PUT", 3)]
