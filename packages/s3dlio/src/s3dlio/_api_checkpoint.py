"""Checkpoints: re-exported from s3dlio-checkpoint (the logic lives there; see its README).

Both forms of each flat function work: the original's (`save_checkpoint(uri, step, epoch, framework,
data)`, bytes in and out) and the spec's (`save_checkpoint(uri=..., data={...}, compress=True)`, objects
in and out, loaded weights_only). Importing this imports neither torch nor numpy.
"""

from __future__ import annotations

from s3dlio_checkpoint import (
    CheckpointError,
    CheckpointIncompleteError,
    CheckpointIntegrityError,
    CheckpointKeysError,
    PyCheckpointInfo,
    PyCheckpointReader,
    PyCheckpointStore,
    PyCheckpointStream,
    PyCheckpointWriter,
    finalize_distributed_checkpoint,
    load_checkpoint,
    load_checkpoint_with_validation,
    load_checkpoint_with_validation_view,
    save_checkpoint,
    save_distributed_shard,
)

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "save_distributed_shard",
    "finalize_distributed_checkpoint",
    "load_checkpoint_with_validation",
    "load_checkpoint_with_validation_view",
    "PyCheckpointStore",
    "PyCheckpointWriter",
    "PyCheckpointReader",
    "PyCheckpointStream",
    "PyCheckpointInfo",
    "CheckpointError",
    "CheckpointIntegrityError",
    "CheckpointIncompleteError",
    "CheckpointKeysError",
]
