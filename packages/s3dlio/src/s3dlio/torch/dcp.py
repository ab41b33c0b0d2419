"""PyTorch Distributed Checkpoint storage on every s3dlio scheme (imports torch).

`StorageWriter(uri)` / `StorageReader(uri)` for `torch.distributed.checkpoint.save` / `load`::

    import torch.distributed.checkpoint as dcp
    from s3dlio.torch.dcp import StorageReader, StorageWriter

    dcp.save(state_dict, storage_writer=StorageWriter("s3://bucket/ckpt/step-100/"))
    dcp.load(state_dict, storage_reader=StorageReader("s3://bucket/ckpt/step-100/"))

The implementation, layout and guarantees are described in `s3dlio_checkpoint.dcp`.
"""

from __future__ import annotations

from s3dlio_checkpoint.dcp import CheckpointExistsError, StorageReader, StorageWriter

__all__ = ["StorageWriter", "StorageReader", "CheckpointExistsError"]
