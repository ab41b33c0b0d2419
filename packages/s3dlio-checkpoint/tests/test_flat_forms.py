"""The flat functions in both forms (the original's and the spec's), told apart by their arguments, on
file://, memory:// and S3; safe loading (weights_only) and checkpoints without torch."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest
import s3dlio_checkpoint as ck
from s3dlio_core import BytesView, store_for_uri


def test_original_forms(base: str) -> None:
    key = ck.save_checkpoint(base, 100, 1, "torch", b"payload")
    assert key.startswith("manifests/ckpt-100-") and key.endswith(".json")
    got = ck.load_checkpoint(base)
    assert isinstance(got, BytesView) and got == b"payload"
    metas = [ck.save_distributed_shard(base, 200, 2, "torch", b"rank%d" % r, 2, r) for r in range(2)]
    assert [m["rank"] for m in metas] == [0, 1]
    mkey = ck.finalize_distributed_checkpoint(base, 200, 2, "torch", metas, 2, 0)
    assert mkey.startswith("manifests/ckpt-200-")
    with pytest.raises(RuntimeError, match="Cannot load multi-rank checkpoint"):
        ck.load_checkpoint(base)
    shard_uri = f"{base}/{metas[1]['key']}"
    assert ck.load_checkpoint_with_validation(shard_uri) == b"rank1"
    assert isinstance(ck.load_checkpoint_with_validation(shard_uri), bytes)
    assert ck.load_checkpoint_with_validation_view(shard_uri, validate_integrity=False) == b"rank1"
    with pytest.raises(TypeError, match="missing required arguments: framework, data"):
        ck.save_checkpoint(base, 1, 2)


def test_spec_forms(base: str) -> None:
    state = {"epoch": 10, "model_state": {"w": [1.0, 2.0]}, "optimizer_state": {"lr": 0.1}}
    uri = base + "/checkpoints/ckpt_epoch_10.bin"
    ck.save_checkpoint(uri=uri, data=state, compress=True)
    assert ck.load_checkpoint(uri) == state
    back = ck.load_checkpoint_with_validation(
        uri=uri, expected_keys=["epoch", "model_state", "optimizer_state"]
    )
    assert back == state
    with pytest.raises(ck.CheckpointKeysError, match=r"missing expected keys \['scheduler', 'loss'\]") as ei:
        ck.load_checkpoint_with_validation(uri, ["epoch", "scheduler", "loss"])  # positional keys
    assert ei.value.missing_keys == ["scheduler", "loss"] and isinstance(ei.value, KeyError)
    ck.save_checkpoint(base + "/pos", {"epoch": 2}, user_meta={"run": "a"})  # save_checkpoint(uri, data)
    pos = ck.PyCheckpointStore(base + "/pos").latest_manifest()
    assert pos.user_meta["user"] == {"run": "a"} and pos.framework == "python"
    assert ck.load_checkpoint(base + "/pos") == {"epoch": 2}
    m = ck.PyCheckpointStore(uri).reader().load_latest_manifest()
    assert m["global_step"] == 10 and m["epoch"] == 10 and m["shards"][0]["key"].endswith(".zst")


def test_spec_distributed_needs_every_rank(base: str) -> None:
    root = base + "/checkpoints/"
    for rank in (0, 2):
        ck.save_distributed_shard(
            uri=f"{root}shard_{rank}.bin", shard_data={"rank": rank, "w": [rank] * 3}, rank=rank, world_size=4
        )
    with pytest.raises(
        ck.CheckpointIncompleteError, match=r"missing shards for ranks \[1, 3\] of world_size 4"
    ) as ei:
        ck.finalize_distributed_checkpoint(base_uri=root, world_size=4)
    assert ei.value.missing_ranks == [1, 3]
    assert ck.PyCheckpointStore(root).reader().load_latest_manifest() is None  # nothing is marked complete
    for rank in (1, 3):
        ck.save_distributed_shard(
            uri=f"{root}shard_{rank}.bin", shard_data={"rank": rank, "w": [rank] * 3}, rank=rank, world_size=4
        )
    key = ck.finalize_distributed_checkpoint(base_uri=root, world_size=4)
    m = ck.PyCheckpointStore(root).reader().load_latest_manifest()
    assert m["world_size"] == 4 and [s["key"] for s in m["shards"]] == [f"shard_{r}.bin" for r in range(4)]
    assert key.startswith("manifests/")
    assert ck.load_checkpoint(f"{root}shard_3.bin") == {"rank": 3, "w": [3, 3, 3]}
    assert ck.load_checkpoint_with_validation(f"{root}shard_1.bin", expected_keys=["rank"])["rank"] == 1
    store = store_for_uri(root + "latest.json")[0]
    assert not store.list(root + "pending/", recursive=True)  # the records are gone after finalize


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_loads_are_weights_only_unless_trusted(base: str) -> None:
    ck.save_checkpoint(uri=base, data={"epoch": 1, "x": _Evil()})
    with pytest.raises(ck.CheckpointError, match=r"weights_only load refused the global (posix|os)\.system"):
        ck.load_checkpoint(base)
    with pytest.raises(ck.CheckpointError, match="refused"):
        ck.load_checkpoint_with_validation(base, expected_keys=["epoch"])
    assert ck.load_checkpoint(base, weights_only=False)["x"] == 0  # explicit opt-in: the pickle runs


def test_an_exception_during_save_leaves_the_previous_checkpoint_latest(base: str) -> None:
    ck.save_checkpoint(uri=base, data={"epoch": 1, "blob": b"x" * 100_000})

    class Boom:
        def __reduce__(self):
            raise RuntimeError("boom while serialising")

    with pytest.raises(RuntimeError, match="boom while serialising"):
        ck.save_checkpoint(uri=base, data={"epoch": 2, "blob": b"y" * (9 << 20), "bad": Boom()})
    assert ck.load_checkpoint(base)["epoch"] == 1
    store = store_for_uri(base + "/latest.json")[0]
    names = store.list(base + "/", recursive=True)
    assert not [n for n in names if "ckpt-2-" in n]  # no partial shard under a final name, no manifest


def test_numpy_and_plain_dicts_checkpoint_without_torch(tmp_path) -> None:
    code = f"""
import sys
sys.modules['torch'] = None  # torch cannot be imported in this process
import numpy as np, s3dlio_checkpoint as ck
uri = 'file://{tmp_path}/np'
state = {{'epoch': 3, 'w': np.arange(12, dtype=np.float32).reshape(3, 4), 'names': ['a', 'b'], 'raw': b'xy'}}
ck.save_checkpoint(uri=uri, data=state, compress=True)
back = ck.load_checkpoint_with_validation(uri=uri, expected_keys=['epoch', 'w'])
assert np.array_equal(back['w'], state['w']) and back['names'] == ['a', 'b'] and back['raw'] == b'xy'
ck.save_checkpoint(uri + '-bytes', data=b'just bytes')
assert ck.load_checkpoint(uri + '-bytes') == b'just bytes'
print('ok')
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_importing_the_package_imports_no_framework() -> None:
    code = (
        "import sys, s3dlio_checkpoint\n"
        "print([m for m in ('torch', 'numpy', 'zstandard') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_pickle_protocol_5_stream_round_trips_numpy(base: str) -> None:
    np = pytest.importorskip("numpy")
    a = np.random.default_rng(0).standard_normal((256, 1024))
    ck.save_checkpoint(uri=base, data={"a": a})
    assert np.array_equal(ck.load_checkpoint(base)["a"], a)
    assert pickle.HIGHEST_PROTOCOL >= 5
