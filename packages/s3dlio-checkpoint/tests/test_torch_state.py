"""torch state dicts through the spec's form: torch's own format streamed into the store, loaded
weights_only into tensors that are views of the fetched buffer (no second copy)."""

from __future__ import annotations

import io

import pytest
import s3dlio_checkpoint as ck
from s3dlio_core import store_for_uri

pytestmark = pytest.mark.torch


def _model():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 64)).sum().backward()
    opt.step()
    return model, opt


def test_state_dicts_round_trip_in_torch_format(base: str) -> None:
    import torch

    model, opt = _model()
    state = {"epoch": 10, "model_state": model.state_dict(), "optimizer_state": opt.state_dict()}
    ck.save_checkpoint(uri=base, data=state, compress=True)
    back = ck.load_checkpoint_with_validation(
        uri=base, expected_keys=["epoch", "model_state", "optimizer_state"]
    )
    assert back["epoch"] == 10
    for k, v in model.state_dict().items():
        assert torch.equal(back["model_state"][k], v)
    fresh, fresh_opt = (
        torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)),
        None,
    )
    fresh.load_state_dict(back["model_state"])
    fresh_opt = torch.optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
    fresh_opt.load_state_dict(back["optimizer_state"])
    m = ck.PyCheckpointStore(base).reader().load_latest_manifest()
    assert m["framework"] == "pytorch"
    raw = ck.PyCheckpointStore(base).read_shard(ck.PyCheckpointStore(base).latest_manifest(), 0)
    assert bytes(raw[:4]) == b"PK\x03\x04"  # torch.save's zip archive: torch.load reads it as is
    assert torch.load(io.BytesIO(bytes(raw)), weights_only=True)["epoch"] == 10


def test_loaded_tensors_are_views_of_one_buffer(file_base: str) -> None:
    import torch

    state = {f"t{i}": torch.full((1 << 18,), float(i)) for i in range(8)}  # 8 MiB
    ck.save_checkpoint(uri=file_base, data=state)
    back = ck.load_checkpoint(file_base)
    ptrs = sorted(t.untyped_storage().data_ptr() for t in back.values())
    assert ptrs[-1] - ptrs[0] < 9 << 20  # all inside the one fetched archive buffer
    assert all(torch.equal(back[k], v) for k, v in state.items())
    back["t1"].add_(1)  # writable views, like torch.load(mmap=True) with a private mapping
    assert back["t1"][0] == 2.0


def test_weights_only_refuses_arbitrary_objects_in_torch_format(base: str) -> None:
    import fractions
    import pickle

    import torch

    ck.save_checkpoint(uri=base, data={"w": torch.ones(3), "obj": fractions.Fraction(1, 3)})
    with pytest.raises(pickle.UnpicklingError, match=r"(?i)weights.only"):
        ck.load_checkpoint(base)
    assert ck.load_checkpoint(base, weights_only=False)["obj"] == fractions.Fraction(1, 3)


def test_torch_save_streams_in_parts_on_s3(s3_prefix: str) -> None:
    import torch

    state = {f"t{i}": torch.randn(1 << 20) for i in range(10)}  # 40 MiB: several multipart parts
    uri = s3_prefix + "big"
    ck.save_checkpoint(uri=uri, data=state)
    back = ck.load_checkpoint_with_validation(uri, expected_keys=list(state))
    assert all(torch.equal(back[k], v) for k, v in state.items())
    info = ck.PyCheckpointStore(uri).list_checkpoints()[0]
    assert info.total_size > 40 << 20 and info.framework == "pytorch"
    s = store_for_uri(uri + "/latest.json")[0]
    etag = ck.PyCheckpointStore(uri).reader().load_latest_manifest()["shards"][0]["etag"]
    assert "-" in etag.strip('"')  # a multipart ETag: the shard was streamed, not buffered and PUT
    assert s.exists(uri + "/latest.json")


def test_spec_distributed_tensor_shards(base: str) -> None:
    import torch

    root = base + "/dist/"
    for rank in range(2):
        ck.save_distributed_shard(
            uri=f"{root}shard_{rank}.bin", shard_data={"w": torch.full((4,), rank)}, rank=rank, world_size=2
        )
    ck.finalize_distributed_checkpoint(base_uri=root, world_size=2)
    assert torch.equal(ck.load_checkpoint(f"{root}shard_1.bin")["w"], torch.full((4,), 1))


def test_tensor_storages_are_lent_to_the_writer_not_copied() -> None:
    """torch.save's writes of the saved tensors' storages reach the writer as `write_borrowed` (whole parts
    go up from the tensor's memory); headers, the pickle and small tensors are plain writes; the bytes are
    exactly torch.save's."""
    import io

    import torch
    from s3dlio_checkpoint import serialize

    class Recorder:
        def __init__(self) -> None:
            self.buf = io.BytesIO()
            self.borrowed = 0
            self.copied = 0

        def write(self, data) -> int:  # type: ignore[no-untyped-def]
            self.copied += memoryview(data).nbytes
            return self.buf.write(data)

        def write_borrowed(self, data) -> int:  # type: ignore[no-untyped-def]
            self.borrowed += memoryview(data).nbytes
            return self.buf.write(data)

        def tell(self) -> int:
            return self.buf.tell()

    state = {"w": torch.randn(1 << 20), "b": torch.arange(10), "nested": [torch.ones(2 << 20)],
             "view": torch.randn(4 << 20)[: 1 << 20]}  # a view: its whole storage is saved and lent
    rec = Recorder()
    serialize.dump(state, serialize.TORCH, rec)
    big = sum(t.untyped_storage().nbytes() for t in (state["w"], state["nested"][0], state["view"]))
    assert rec.borrowed == big
    assert rec.copied < 64 << 10
    out = torch.load(io.BytesIO(rec.buf.getvalue()), weights_only=True)
    assert all(torch.equal(out[k], state[k]) for k in ("w", "b", "view"))
    assert torch.equal(out["nested"][0], state["nested"][0])
