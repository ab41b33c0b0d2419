"""A process killed (SIGKILL) in the middle of writing a shard leaves the previous checkpoint loadable as
the latest and no partial shard under a final name."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import s3dlio_checkpoint as ck
from s3dlio_core import store_for_uri

_CHILD = r"""
import sys, time, s3dlio_checkpoint as ck
uri, flag = sys.argv[1], sys.argv[2]
stream = ck.PyCheckpointStore(uri).writer(1, 0).get_distributed_shard_stream(2, 2, "raw")
chunk = b"z" * (1 << 20)
for i in range(1000):
    stream.write_chunk(chunk)
    if i == 24:  # more than one 16 MiB part has gone up on an object store
        open(flag, "w").close()  # the parent kills us now, mid-shard
    time.sleep(0.01)
meta = stream.finalize()
ck.PyCheckpointStore(uri).writer(1, 0).finalize_distributed_checkpoint(2, 2, "raw", [meta])
"""


@pytest.mark.parametrize("scheme", ["file", "s3"])
def test_sigkill_mid_shard_leaves_the_previous_checkpoint(
    tmp_path: pathlib.Path, scheme: str, request: pytest.FixtureRequest
) -> None:
    uri = f"file://{tmp_path}/ckpt" if scheme == "file" else request.getfixturevalue("s3_prefix") + "ckpt"
    ck.save_checkpoint(uri, 1, 1, "raw", b"first checkpoint")
    flag = tmp_path / "mid-shard"
    p = subprocess.Popen([sys.executable, "-c", _CHILD, uri, str(flag)])
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert p.poll() is None and time.monotonic() < deadline, "the saving process ended early"
            time.sleep(0.01)
        os.kill(p.pid, signal.SIGKILL)
    finally:
        p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL
    assert ck.load_checkpoint(uri) == b"first checkpoint"
    assert [i.step for i in ck.PyCheckpointStore(uri).list_checkpoints()] == [1]
    listed = store_for_uri(uri + "/latest.json")[0].list(uri + "/", recursive=True)
    assert not [u for u in listed if "ckpt-2-" in u]  # no shard of step 2 under its final name
    if scheme == "file":
        partial = [f for f in (tmp_path / "ckpt").rglob("*") if f.is_file() and "ckpt-2-" in str(f)]
        assert all(f.name.startswith(".s3dlio-tmp-") for f in partial)  # only the unlisted temporary file
    ck.save_checkpoint(uri, 3, 3, "raw", b"after the crash")  # the store keeps working
    assert ck.load_checkpoint(uri) == b"after the crash"
