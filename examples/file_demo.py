"""The main job end to end on file://, with s3-cli and the Python API:

1. s3-cli generates a dataset with set dedup/compress ratios and verifies the ratios it measures,
2. s3-cli lists it and reads it back (GET throughput),
3. s3-cli bench prints a PUT/GET throughput table,
4. the Python API writes, lists, reads back (verified) and deletes a dataset.

Usage: python examples/file_demo.py [DIR]   (default: a fresh temporary directory, removed at the end)
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import s3dlio

# the installed console script (next to this interpreter), else the same CLI as a module
_EXE = shutil.which("s3-cli", path=os.path.dirname(sys.executable))
_CLI = [_EXE] if _EXE else [sys.executable, "-m", "s3dlio.cli"]


def step(title: str, *argv: str) -> None:
    """Print the command line, run the s3-cli console script, stop the demo if it fails."""
    print(f"\n== {title}\n$ s3-cli {shlex.join(argv)}", flush=True)
    rc = subprocess.run([*_CLI, *argv]).returncode
    if rc != 0:
        raise SystemExit(f"demo step failed (exit {rc}): s3-cli {shlex.join(argv)}")


def python_api(root: str) -> bool:
    prefix = f"file://{root}/api/"
    n, size = 32, 1 << 20
    payloads = [s3dlio.generate_data(size) for _ in range(n)]
    t0 = time.perf_counter()
    s3dlio.put_many([(f"{prefix}obj_{i:04d}.bin", payloads[i]) for i in range(n)], max_in_flight=16)
    t1 = time.perf_counter()
    uris = sorted(s3dlio.list(prefix, recursive=True))
    results = s3dlio.get_many(uris, max_in_flight=16)
    t2 = time.perf_counter()
    ok = len(results) == n and all(bytes(v) == bytes(payloads[i]) for i, (_, v) in enumerate(results))
    total = n * size
    print(f"\n== Python API: {n} objects x {size >> 20} MiB under {prefix}")
    print(f"put_many  {total / (t1 - t0) / 1e6:8.0f} MB/s")
    print(f"get_many  {total / (t2 - t1) / 1e6:8.0f} MB/s   verified: {ok}")
    s3dlio.delete(prefix, recursive=True)
    print(f"cleaned   {len(s3dlio.list(prefix, recursive=True))} objects left")
    return ok


def main() -> int:
    given = len(sys.argv) > 1
    root = os.path.abspath(sys.argv[1]) if given else tempfile.mkdtemp(prefix="s3dlio-demo-")
    data = f"file://{root}/dataset/"
    t0 = time.perf_counter()
    try:
        step("generate 48 objects x 4 MiB, dedup 2, compress 3 (and measure the ratios)",
             "generate", data, "-n", "48", "-s", "4MiB", "-d", "2", "-x", "3", "--verify")
        step("count them", "ls", "-rc", data)
        step("read them all back (data discarded, rate printed)", "get", "-r", data, "-j", "16")
        step("PUT/GET throughput table", "bench", f"file://{root}/bench/", "-n", "100", "-s", "1MiB", "-j", "16")
        step("delete the dataset", "delete", "-r", data)
        ok = python_api(root)
    finally:
        if not given:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\ndemo finished in {time.perf_counter() - t0:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
