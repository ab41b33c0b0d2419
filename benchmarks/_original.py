"""Run code against the original s3dlio (PyPI `s3dlio==0.10.0`) in a venv of its own.

Kept for the benchmarks that import it (datagen.py, file_read.py, oplog_overhead.py): the venv and the
uv that makes it now come from `_peers.py` (peer "original", under .bench/original), so no `uv` on PATH
is needed. New benchmarks use `_peers.python_for("original")` or `_harness.py` directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from _peers import python_for, run_in

ORIGINAL = "s3dlio==0.10.0"


def original_python() -> str:
    """Path of the python that has the original s3dlio installed (created on first use)."""
    return python_for("original")


def run_original(code: str, env: Mapping[str, str] | None = None, timeout: float = 900) -> Any:
    """Run `code` with the original s3dlio importable; return the JSON its last output line holds."""
    return run_in("original", code, env, timeout)


if __name__ == "__main__":
    print(original_python())
    print(run_original("import s3dlio, json; print(json.dumps(s3dlio.__version__))"))
