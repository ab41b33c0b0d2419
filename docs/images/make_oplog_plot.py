"""Re-make docs/images/oplog-plot.png, the README's picture of `s3-cli oplog plot`, from a real run.

The run: a local SeaweedFS on loopback (started and stopped by the test support code), 256 synthetic
1 MiB objects written with bulk `put`, two `get_many` epochs, 200 ranged reads (`get_ranges`, as a
Parquet or NPZ reader makes them), a listing and a recursive delete, all recorded by the op-log; then
`s3-cli oplog plot` draws it. Run from the repository root:

    uv run python docs/images/make_oplog_plot.py [OUTPUT.png]
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from s3dlio_testsupport import s3_procs  # noqa: E402


def workload(log: str, endpoint: str) -> None:
    """The recorded run, in a child process (a process has one op-log session)."""
    code = f"""
import s3dlio
from s3dlio_core import store_for_uri
s3dlio.create_bucket("s3://readme-demo")
s3dlio.init_op_log({log!r})
prefix = "s3://readme-demo/train/"
s3dlio.put(prefix, num=256, template="sample_{{}}_of_{{}}.bin", size=1 << 20, max_in_flight=16)
uris = s3dlio.list(prefix)
for _ in range(2):
    s3dlio.get_many(uris, max_in_flight=32)
store, _ = store_for_uri(prefix)
for u in uris[:100]:
    store.get_ranges(u, [(0, 4096), (600_000, 65_536)], coalesce_gap=0, size=1 << 20)
s3dlio.list(prefix, recursive=True)
s3dlio.delete(prefix, recursive=True)
s3dlio.finalize_op_log()
"""
    env = {**os.environ, **s3_procs.s3_env(endpoint)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "docs" / "images" / "oplog-plot.png")
    server = s3_procs.start_seaweedfs()
    try:
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "run.tsv.zst")
            workload(log, server.endpoint)
            exe = pathlib.Path(sys.executable).with_name("s3-cli")
            subprocess.run([str(exe), "oplog", "plot", log, "-o", out, "--size", "1000x750"], check=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
