"""The checkpoint examples of the spec (python-api-guide-v0.9.25.md, "Checkpoint System" and the
"Training Loop with Checkpoints" pattern; python-api-v0.8.12.md has none), run as written on S3
(SeaweedFS): only the bucket name is changed, and the model, optimizer, rank and loop variables the
examples assume are defined first."""

from __future__ import annotations

import os

import pytest
import s3dlio

pytestmark = [pytest.mark.torch,
              pytest.mark.filterwarnings("ignore::s3dlio_core.hygiene.BenchmarkHygieneWarning")]


@pytest.fixture
def bucket(seaweedfs_server) -> str:
    name = f"ckpt-{os.urandom(4).hex()}"
    s3dlio.create_bucket(name)
    return name


def _model_and_optimizer():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(8, 32)).sum().backward()
    optimizer.step()
    return model, optimizer


def test_guide_save_and_load_checkpoints(bucket: str) -> None:
    import torch

    model, optimizer = _model_and_optimizer()
    saved = {k: v.clone() for k, v in model.state_dict().items()}

    # Save checkpoint to any backend
    checkpoint_data = {
        "epoch": 10,
        "model_state": model.state_dict(),
        "optimizer_state": optimizer.state_dict()
    }

    s3dlio.save_checkpoint(
        uri=f"s3://{bucket}/checkpoints/ckpt_epoch_10.bin",
        data=checkpoint_data,
        compress=True
    )

    model, optimizer = _model_and_optimizer()  # a fresh process would start from new objects
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()

    # Load checkpoint
    checkpoint = s3dlio.load_checkpoint(f"s3://{bucket}/checkpoints/ckpt_epoch_10.bin")
    assert checkpoint["epoch"] == 10

    # Load with validation
    checkpoint = s3dlio.load_checkpoint_with_validation(
        uri=f"s3://{bucket}/checkpoints/ckpt_epoch_10.bin",
        expected_keys=["epoch", "model_state", "optimizer_state"]
    )

    model.load_state_dict(checkpoint["model_state"])
    optimizer.load_state_dict(checkpoint["optimizer_state"])

    assert all(torch.equal(model.state_dict()[k], v) for k, v in saved.items())
    with pytest.raises(s3dlio.CheckpointKeysError, match=r"missing expected keys \['scheduler_state'\]"):
        s3dlio.load_checkpoint_with_validation(uri=f"s3://{bucket}/checkpoints/ckpt_epoch_10.bin",
                                               expected_keys=["epoch", "scheduler_state"])


def test_guide_distributed_checkpointing(bucket: str) -> None:
    import torch

    world_size = 3

    def run_rank(rank: int) -> None:
        local_state = {"rank": rank, "weights": torch.full((16,), float(rank))}

        # Save distributed shards (multi-rank)
        s3dlio.save_distributed_shard(
            uri=f"s3://{bucket}/checkpoints/shard_{rank}.bin",
            shard_data=local_state,
            rank=rank,
            world_size=world_size
        )

        # Finalize checkpoint (rank 0 only)
        if rank == 0:
            s3dlio.finalize_distributed_checkpoint(
                base_uri=f"s3://{bucket}/checkpoints/",
                world_size=world_size
            )

    run_rank(2)
    with pytest.raises(s3dlio.CheckpointIncompleteError, match=r"missing shards for ranks \[1\]"):
        run_rank(0)  # rank 0 arrived before rank 1: nothing is marked complete
    assert s3dlio.PyCheckpointStore(f"s3://{bucket}/checkpoints/").reader().load_latest_manifest() is None
    run_rank(1)
    run_rank(0)
    m = s3dlio.PyCheckpointStore(f"s3://{bucket}/checkpoints/").reader().load_latest_manifest()
    assert m["world_size"] == 3 and [s["rank"] for s in m["shards"]] == [0, 1, 2]
    back = s3dlio.load_checkpoint(f"s3://{bucket}/checkpoints/shard_1.bin")
    assert back["rank"] == 1 and torch.equal(back["weights"], torch.full((16,), 1.0))


def test_guide_training_loop_with_checkpoints(bucket: str) -> None:
    import torch

    s3dlio.put_many([(f"s3://{bucket}/training-data/sample_{i:03d}.bin", bytes([i]) * 64) for i in range(4)])
    model, _ = _model_and_optimizer()
    num_epochs = 6

    def train_step(model, batch):
        return 0.25

    # Load dataset
    dataset = s3dlio.create_dataset(f"s3://{bucket}/training-data/")

    # Training loop
    for epoch in range(num_epochs):
        for batch in dataset:
            # Training step
            loss = train_step(model, batch)

        # Save checkpoint every 5 epochs
        if epoch % 5 == 0:
            s3dlio.save_checkpoint(
                f"s3://{bucket}/checkpoints/epoch_{epoch}.bin",
                {
                    "epoch": epoch,
                    "model": model.state_dict(),
                    "loss": loss
                }
            )

    for epoch in (0, 5):
        back = s3dlio.load_checkpoint(f"s3://{bucket}/checkpoints/epoch_{epoch}.bin")
        assert back["epoch"] == epoch and back["loss"] == 0.25
        assert all(torch.equal(back["model"][k], v) for k, v in model.state_dict().items())
