"""README command 1 (`bash scripts/demo` runs examples/main_job.py): it generates a dataset with the ratios
it asked for, reads one epoch through a PyTorch DataLoader, saves and restores a checkpoint, and prints the
op-log's summary of the run."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.torch
def test_main_job_runs_end_to_end(tmp_path: pathlib.Path) -> None:
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "main_job.py"), str(tmp_path / "demo")],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert "dedup ratio 2.00 (asked 2)" in out
    assert "read 128 samples (268 MB) through a PyTorch DataLoader (2 workers)" in out
    assert "samples/s" in out and "weights equal: True" in out
    assert any(line.startswith("GET ") for line in out.splitlines())  # the op-log summary's rows
    assert any(line.startswith("PUT ") for line in out.splitlines())
    assert "main job OK" in out
