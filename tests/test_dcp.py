"""PyTorch Distributed Checkpoint through s3dlio's StorageWriter / StorageReader, on S3 (SeaweedFS) and
file://, called as torch's documentation writes them (`dcp.save(state_dict, storage_writer=...)`,
`dcp.load(state_dict, storage_reader=...)`, `get_state_dict` / `set_state_dict` for model and optimizer).

Two ranks (gloo, torch.multiprocessing.spawn) save a model, its Adam state, a tensor sharded across the
ranks (DTensor, Shard(0) on a CPU mesh), a tensor only each rank has, and a plain value. The checkpoint is
loaded back by two ranks with a different sharding (Shard(1): resharding), and by one process with no
process group (full tensors). A save that fails on one rank leaves no `.metadata`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from s3dlio_testsupport.procs import free_port

pytestmark = pytest.mark.torch

COMMON = '''
import sys
import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
import torch.multiprocessing as mp
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
from s3dlio.torch.dcp import StorageReader, StorageWriter


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(32, 64)
        self.fc2 = torch.nn.Linear(64, 8)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def trained():
    """The model and optimizer after one step, the same in every process."""
    torch.manual_seed(0)
    model = Net()
    optim = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.ones(4, 32)).sum().backward()
    optim.step()
    return model, optim


def fresh():
    torch.manual_seed(123)
    model = Net()
    return model, torch.optim.Adam(model.parameters(), lr=0.1)


FULL = torch.arange(64 * 16, dtype=torch.float32).reshape(64, 16)


def check_model(model, optim):
    want_model, want_optim = trained()
    for (k, v), (k2, v2) in zip(model.state_dict().items(), want_model.state_dict().items()):
        assert k == k2 and torch.equal(v, v2), k
    got, want = optim.state_dict(), want_optim.state_dict()
    for pid, st in want["state"].items():
        for name, t in st.items():
            assert torch.equal(torch.as_tensor(got["state"][pid][name]), torch.as_tensor(t)), (pid, name)
'''

SAVE = (
    COMMON
    + '''
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import Shard, distribute_tensor


def run(rank, uri, port, fail):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    mesh = init_device_mesh("cpu", (2,))
    model, optim = trained()
    model_sd, optim_sd = get_state_dict(model, optim)
    state_dict = {
        "model": model_sd,
        "optim": optim_sd,
        "sharded": distribute_tensor(FULL, mesh, [Shard(0)]),
        f"rank{rank}": torch.full((1000,), float(rank + 1)),
        "step": 7,
    }
    if fail and rank == 1:
        state_dict["rank1"] = FailingTensor()  # resolve_data on rank 1 raises in write_data
    dcp.save(state_dict, storage_writer=StorageWriter(uri))
    dist.barrier()  # no rank tears gloo down while the other still talks to it (an abort seen once)
    dist.destroy_process_group()


class FailingTensor:
    """Not a tensor: DCP saves it as a byte item, and pickling it fails while rank 1 writes."""

    def __reduce__(self):
        raise RuntimeError("injected failure while saving on rank 1")


if __name__ == "__main__":
    mp.spawn(run, args=(sys.argv[1], int(sys.argv[2]), sys.argv[3] == "fail"), nprocs=2, join=True)
'''
)

LOAD2 = (
    COMMON
    + """
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import Shard, distribute_tensor


def run(rank, uri, port):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    mesh = init_device_mesh("cpu", (2,))
    model, optim = fresh()
    model_sd, optim_sd = get_state_dict(model, optim)
    state_dict = {
        "model": model_sd,
        "optim": optim_sd,
        "sharded": distribute_tensor(torch.zeros(64, 16), mesh, [Shard(1)]),  # resharded: columns
        "rank0": torch.zeros(1000),
        "rank1": torch.zeros(1000),
        "step": 0,
    }
    dcp.load(state_dict, storage_reader=StorageReader(uri))
    set_state_dict(model, optim, model_state_dict=state_dict["model"], optim_state_dict=state_dict["optim"])
    check_model(model, optim)
    assert torch.equal(state_dict["sharded"].full_tensor(), FULL)
    assert state_dict["sharded"].to_local().shape == (64, 8)
    assert torch.equal(state_dict["rank0"], torch.full((1000,), 1.0))
    assert torch.equal(state_dict["rank1"], torch.full((1000,), 2.0))
    assert state_dict["step"] == 7
    dist.barrier()  # no rank tears gloo down while the other still talks to it (an abort seen once)
    dist.destroy_process_group()


if __name__ == "__main__":
    mp.spawn(run, args=(sys.argv[1], int(sys.argv[2])), nprocs=2, join=True)
"""
)

LOAD1 = (
    COMMON
    + """
if __name__ == "__main__":
    # one process, no process group: dcp.load runs without collectives and reads every shard
    model, optim = fresh()
    model_sd, optim_sd = get_state_dict(model, optim)
    state_dict = {"model": model_sd, "optim": optim_sd, "sharded": torch.zeros(64, 16),
                  "rank1": torch.zeros(1000), "step": 0}
    dcp.load(state_dict, storage_reader=StorageReader(sys.argv[1]))
    set_state_dict(model, optim, model_state_dict=state_dict["model"], optim_state_dict=state_dict["optim"])
    check_model(model, optim)
    assert torch.equal(state_dict["sharded"], FULL)
    assert torch.equal(state_dict["rank1"], torch.full((1000,), 2.0))
    assert state_dict["step"] == 7
    print("loaded")
"""
)


def _run(tmp_path: Path, name: str, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / f"{name}.py"
    script.write_text(textwrap.dedent(source))
    env = dict(os.environ)  # carries AWS_ENDPOINT_URL and the test credentials to the ranks
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    return subprocess.run(
        [sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=900
    )


def _save_and_load(uri: str, tmp_path: Path) -> None:
    import s3dlio

    p = _run(tmp_path, "save", SAVE, uri, str(free_port()), "ok")
    assert p.returncode == 0, p.stderr[-4000:]
    names = sorted(u.rsplit("/", 1)[1] for u in s3dlio.list(uri, recursive=True))
    assert ".metadata" in names and {"__0_0.distcp", "__1_0.distcp"} <= set(names), names
    p = _run(tmp_path, "load2", LOAD2, uri, str(free_port()))
    assert p.returncode == 0, p.stderr[-4000:]
    p = _run(tmp_path, "load1", LOAD1, uri)
    assert p.returncode == 0 and "loaded" in p.stdout, p.stderr[-4000:]


@pytest.mark.timeout(1200)
def test_dcp_two_ranks_on_s3_load_with_two_and_one(s3_prefix: str, tmp_path: Path) -> None:
    _save_and_load(s3_prefix + "ckpt/", tmp_path)


@pytest.mark.timeout(1200)
def test_dcp_two_ranks_on_file_load_with_two_and_one(tmp_path: Path) -> None:
    _save_and_load(f"file://{tmp_path}/ckpt/", tmp_path)


@pytest.mark.timeout(1200)
def test_dcp_failed_save_leaves_no_metadata(s3_prefix: str, tmp_path: Path) -> None:
    import s3dlio

    uri = s3_prefix + "ckpt/"
    p = _run(tmp_path, "save", SAVE, uri, str(free_port()), "ok")
    assert p.returncode == 0, p.stderr[-4000:]
    assert s3dlio.exists(uri + ".metadata")
    # an overwrite that fails on rank 1: the old .metadata is gone before any rank writes, no new one
    p = _run(tmp_path, "save", SAVE, uri, str(free_port()), "fail")
    assert p.returncode != 0 and "injected failure" in p.stderr, p.stderr[-4000:]
    from s3dlio_core.registry import clear_store_cache

    clear_store_cache()
    assert not s3dlio.exists(uri + ".metadata")
    assert not [u for u in s3dlio.list(uri, recursive=True) if ".metadata" in u]


def test_dcp_uri_is_validated() -> None:
    from s3dlio.torch.dcp import StorageReader, StorageWriter
    from s3dlio_core.errors import InvalidUriError

    for bad in ("", "/no/scheme/ckpt", "nope://x/y", "s3://"):
        with pytest.raises(InvalidUriError) as e:
            StorageWriter(bad)
        assert repr(bad) in str(e.value)
        with pytest.raises(InvalidUriError):
            StorageReader(bad)
    with pytest.raises(ValueError, match="thread_count"):
        StorageWriter("memory://b/ck/", thread_count=0)


def test_dcp_overwrite_false_raises_naming_the_checkpoint() -> None:
    import torch
    import torch.distributed.checkpoint as dcp
    from s3dlio.torch.dcp import CheckpointExistsError, StorageReader, StorageWriter

    uri = "memory://dcp-tests/overwrite/"
    state = {"w": torch.arange(10.0)}
    dcp.save(state, storage_writer=StorageWriter(uri))
    from torch.distributed.checkpoint.api import CheckpointException

    with pytest.raises(CheckpointException) as e:  # torch wraps each rank's error
        dcp.save(state, storage_writer=StorageWriter(uri, overwrite=False))
    assert CheckpointExistsError.__name__ in str(e.value) and uri in str(e.value)
    out = {"w": torch.zeros(10)}
    dcp.load(out, storage_reader=StorageReader(uri))
    assert torch.equal(out["w"], state["w"])


def test_dcp_layout_is_torchs_both_ways(tmp_path: Path) -> None:
    """A checkpoint our writer makes loads with torch's FileSystemReader, and torch's FileSystemWriter's
    loads with our reader (single process; small and large tensors, a non-tensor value)."""
    import torch
    import torch.distributed.checkpoint as dcp
    from s3dlio.torch.dcp import StorageReader, StorageWriter
    from torch.distributed.checkpoint import FileSystemReader, FileSystemWriter

    state = {
        "big": torch.randn(3 << 20),
        "small": torch.arange(7),
        "view": torch.arange(100.0)[10:20],
        "meta": {"epoch": 3},
    }

    def empty() -> dict:
        return {
            "big": torch.zeros(3 << 20),
            "small": torch.zeros(7, dtype=torch.long),
            "view": torch.zeros(10),
            "meta": {"epoch": 0},
        }

    def same(out: dict) -> None:
        for k in ("big", "small", "view"):
            assert torch.equal(out[k], state[k]), k
        assert out["meta"] == {"epoch": 3}

    dcp.save(state, storage_writer=StorageWriter(f"file://{tmp_path}/ours/", thread_count=3))
    out = empty()
    dcp.load(out, storage_reader=FileSystemReader(str(tmp_path / "ours")))
    same(out)
    dcp.save(state, storage_writer=FileSystemWriter(str(tmp_path / "torch"), thread_count=2))
    out = empty()
    dcp.load(out, storage_reader=StorageReader(tmp_path / "torch"))  # a path object: a local directory
    same(out)


@pytest.mark.torch
def test_dcp_metadata_that_names_other_globals_is_refused(tmp_path: Path) -> None:
    """A crafted `.metadata` (a pickle calling os.system) is refused with a typed error naming the file and
    the global; nothing runs."""
    import pickle

    import torch
    import torch.distributed.checkpoint as dcp
    from s3dlio.torch.dcp import StorageReader, StorageWriter, UnsafeCheckpointError

    dcp.save({"w": torch.ones(4)}, storage_writer=StorageWriter(f"file://{tmp_path}/ok/"))
    out = {"w": torch.zeros(4)}
    dcp.load(out, storage_reader=StorageReader(f"file://{tmp_path}/ok/"))  # DCP's own metadata is admitted
    assert torch.equal(out["w"], torch.ones(4))

    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, (f"touch {marker}",))

    (tmp_path / "ok" / ".metadata").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(UnsafeCheckpointError, match=r"\.metadata.*(posix|os)\.system"):
        StorageReader(f"file://{tmp_path}/ok/").read_metadata()
    assert not marker.exists()
