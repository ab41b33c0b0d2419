"""Run code against the original s3dlio (PyPI `s3dlio==0.10.0`) in a venv of its own.

The original imports under the same name as ours, so it can never share our environment. The venv is
made once under .bench/ (ignored by git) with uv, and code runs there in a subprocess that prints one JSON
line as its last line of output.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = ROOT / ".bench" / "s3dlio-original"
ORIGINAL = "s3dlio==0.10.0"


def original_python() -> str:
    """Path of the python that has the original s3dlio installed (created on first use)."""
    py = VENV / "bin" / "python"
    if not py.exists() or subprocess.run([str(py), "-c", "import s3dlio"], capture_output=True).returncode:
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["uv", "venv", "--quiet", "--python", sys.executable, str(VENV)], check=True)
        subprocess.run(["uv", "pip", "install", "--quiet", "--python", str(py), ORIGINAL, "numpy", "boto3",
                        "zstandard"], check=True)
    return str(py)


def run_original(code: str, env: dict[str, str] | None = None, timeout: float = 900) -> Any:
    """Run `code` with the original s3dlio importable; return the JSON its last output line holds."""
    full_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("VIRTUAL_ENV")}
    full_env.update(env or {})
    proc = subprocess.run([original_python(), "-c", textwrap.dedent(code)], env=full_env, text=True,
                          capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"original s3dlio run failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(original_python())
    print(run_original("import s3dlio, json; print(json.dumps(s3dlio.__version__))"))
