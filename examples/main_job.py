"""s3dlio's main job end to end on file:// (README command 1), in seconds:

1. generate a dataset with set dedup/compress ratios (s3-cli, which measures the ratios it wrote),
2. read one epoch of it through a PyTorch DataLoader (s3dlio.torch.ObjectStoreMapDataset, 2 workers) with a
   progress bar and samples/s (through s3dlio's own loader where torch is not installed),
3. save a checkpoint of a small model and restore it (s3dlio.save_checkpoint / load_checkpoint),
4. show the op-log's summary of everything the run did (s3-cli oplog stats).

Usage: python examples/main_job.py [DIR]   (default: a fresh temporary directory, removed at the end)
The same code runs on s3://, gs://, az:// or direct:// by changing the root URI.
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import s3dlio

# the installed console script (next to this interpreter), else the same CLI as a module
_EXE = shutil.which("s3-cli", path=os.path.dirname(sys.executable))
_CLI = [_EXE] if _EXE else [sys.executable, "-m", "s3dlio.cli"]
SAMPLES, SAMPLE_SIZE, BATCH = 128, 2 << 20, 16  # 2 MiB: dedup works on 1 MiB blocks


def cli(title: str, *argv: str) -> None:
    """Print the command line and run it (s3-cli); stop the demo if it fails."""
    print(f"\n== {title}\n$ s3-cli {shlex.join(argv)}", flush=True)
    rc = subprocess.run([*_CLI, *argv]).returncode
    if rc != 0:
        raise SystemExit(f"demo step failed (exit {rc}): s3-cli {shlex.join(argv)}")


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def read_epoch(data: str) -> int:
    """One epoch through a PyTorch DataLoader (or s3dlio's loader without torch), with a progress bar."""
    from tqdm import tqdm

    seen = 0
    if have_torch():  # imports torch (seconds) before the clock starts
        import torch
        from s3dlio.torch import ObjectStoreMapDataset
        from torch.utils.data import DataLoader

        torch.set_num_threads(1)
    t0 = time.perf_counter()
    with tqdm(total=SAMPLES, unit="sample", desc="epoch 1", file=sys.stdout, mininterval=0.2) as bar:
        if have_torch():
            ds = ObjectStoreMapDataset.from_prefix(data)  # one listing, sizes included; uint8 tensors
            loader = DataLoader(ds, batch_size=BATCH, num_workers=2, shuffle=True)
            for batch in loader:  # a (BATCH, SAMPLE_SIZE) uint8 tensor per step
                seen += batch.shape[0]
                bar.update(batch.shape[0])
        else:
            loader = s3dlio.create_async_loader(data, {"batch_size": BATCH, "shuffle": True, "prefetch": 64})
            for item in loader:  # one BytesView per object (the sync iteration of the original's loader)
                seen += 1
                bar.update(len(item) // SAMPLE_SIZE)
    dt = time.perf_counter() - t0
    how = "a PyTorch DataLoader (2 workers)" if have_torch() else "s3dlio's loader (torch is not installed)"
    print(f"read {seen} samples ({seen * SAMPLE_SIZE / 1e6:.0f} MB) through {how}: "
          f"{seen / dt:,.0f} samples/s, {seen * SAMPLE_SIZE / dt / 1e6:,.0f} MB/s")
    return seen


def checkpoint(root: str) -> bool:
    """Save a checkpoint of a small model (the spec's form) and restore it into a fresh one."""
    uri = f"file://{root}/checkpoints/run-1/"
    state: dict[str, Any]
    if have_torch():
        import torch

        model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        state = {"epoch": 1, "model_state": model.state_dict(), "optimizer_state": opt.state_dict()}
    else:
        import numpy as np

        state = {"epoch": 1, "model_state": {"w": np.random.default_rng(1).standard_normal((256, 512))}}
    t0 = time.perf_counter()
    s3dlio.save_checkpoint(uri=uri, data=state, compress=True)
    t1 = time.perf_counter()
    back = s3dlio.load_checkpoint_with_validation(uri=uri, expected_keys=["epoch", "model_state"])
    t2 = time.perf_counter()
    if have_torch():
        import torch

        fresh = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
        fresh.load_state_dict(back["model_state"])
        ok = all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), fresh.state_dict().values(),
                                                    strict=True))
    else:
        import numpy as np

        ok = bool(np.array_equal(back["model_state"]["w"], state["model_state"]["w"]))
    ok = ok and back["epoch"] == 1
    print(f"\n== checkpoint: saved to {uri} in {t1 - t0:.3f} s, restored and validated in {t2 - t1:.3f} s; "
          f"weights equal: {ok}")
    print("   " + ", ".join(s3dlio.list(uri, recursive=True)[:3]).replace(uri, "") + ", ...")
    return ok


def main() -> int:
    given = len(sys.argv) > 1
    root = os.path.abspath(sys.argv[1]) if given else tempfile.mkdtemp(prefix="s3dlio-demo-")
    data = f"file://{root}/dataset/"
    oplog = os.path.join(root, "run.tsv.zst")
    t0 = time.perf_counter()
    ok = False
    try:
        cli(f"generate {SAMPLES} samples x {SAMPLE_SIZE >> 20} MiB, dedup 2, compress 3 (ratios measured)",
            "generate", data, "-n", str(SAMPLES), "-s", f"{SAMPLE_SIZE >> 20}MiB", "-d", "2", "-x", "3",
            "--verify")
        s3dlio.init_op_log(oplog)  # every operation from here on is traced (the DataLoader's workers too)
        print(f"\n== one epoch over {data}")
        seen = read_epoch(data)
        ok = checkpoint(root) and seen == SAMPLES
        s3dlio.finalize_op_log()
        workers = sorted(glob.glob(oplog + ".*"))  # forked DataLoader workers log to <path>.<pid>
        cli("the op-log's summary of the epoch and the checkpoint (this process and its loader workers)",
            "oplog", "stats", oplog, *workers)
    finally:
        if s3dlio.is_op_log_active():
            s3dlio.finalize_op_log()
        if not given:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\ndemo finished in {time.perf_counter() - t0:.1f} s: {'main job OK' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
