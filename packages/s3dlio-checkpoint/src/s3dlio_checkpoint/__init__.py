"""s3dlio-checkpoint: checkpoints on any s3dlio store, in the original's byte-compatible layout
(latest.json, manifests, flat / round_robin / binary shards, zstd, CRC-32C), with the original's and the
spec's flat functions, tensors streamed through torch.save and loaded weights_only. See the README."""

from __future__ import annotations

from .errors import (
    CheckpointError,
    CheckpointIncompleteError,
    CheckpointIntegrityError,
    CheckpointKeysError,
    NotAShardUriError,
)
from .flat import (
    finalize_distributed_checkpoint,
    load_checkpoint,
    load_checkpoint_with_validation,
    load_checkpoint_with_validation_view,
    save_checkpoint,
    save_distributed_shard,
)
from .manifest import PyCheckpointInfo
from .reader import PyCheckpointReader
from .store import PyCheckpointStore
from .writer import PyCheckpointStream, PyCheckpointWriter

__all__ = [
    "PyCheckpointStore",
    "PyCheckpointWriter",
    "PyCheckpointReader",
    "PyCheckpointStream",
    "PyCheckpointInfo",
    "save_checkpoint",
    "load_checkpoint",
    "save_distributed_shard",
    "finalize_distributed_checkpoint",
    "load_checkpoint_with_validation",
    "load_checkpoint_with_validation_view",
    "CheckpointError",
    "CheckpointIntegrityError",
    "CheckpointIncompleteError",
    "CheckpointKeysError",
    "NotAShardUriError",
]
