"""The README's main job (`bash scripts/demo` runs examples/file_demo.py): it finishes, verifies its data
and reports the dedup/compress ratios it asked for."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_demo_runs_end_to_end(tmp_path: pathlib.Path) -> None:
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "file_demo.py"), str(tmp_path / "demo")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert "dedup ratio 2.00 (asked 2)" in out
    assert "GET summary: attempted=48, succeeded=48, failed=0" in out
    assert "verified: True" in out and "cleaned   0 objects left" in out
    for op in ("PUT", "GET", "DELETE"):
        assert any(line.startswith(op + " ") for line in out.splitlines())
