"""s3torchconnector's `dcp` on s3dlio: S3StorageWriter and S3StorageReader (thin subclasses of
`s3dlio.torch.dcp`'s StorageWriter and StorageReader) and the prefix strategies. Imports torch.

Differences from s3torchconnector: `thread_count` defaults to s3dlio's 4 (upstream: 1); the writer's
`sync_files`, `per_thread_copy_ahead` and `cache_staged_state_dict` are accepted and ignored (each file is
committed atomically, tensors are streamed without staging copies); the reader ignores which reader
constructor it is given for the transfers (s3dlio plans and coalesces the ranges itself); there is no
S3FileSystem (the classes work on the store protocol, not on a FileSystemBase); `endpoint=` is an extra
keyword; any s3dlio scheme works as the path. The strategies are importable from `dcp` itself (as
upstream's README writes them; upstream 1.5.0 exports them only from `dcp.s3_prefix_strategy`), and
BinaryPrefixStrategy / HexPrefixStrategy also take the README's `min_prefix_len=` keyword.
"""

from __future__ import annotations

from .s3_file_system import S3StorageReader, S3StorageWriter
from .s3_prefix_strategy import (
    BinaryPrefixStrategy,
    DefaultPrefixStrategy,
    HexPrefixStrategy,
    NumericPrefixStrategy,
    RoundRobinPrefixStrategy,
    S3PrefixStrategyBase,
)

__all__ = [
    "S3StorageReader",
    "S3StorageWriter",
    "S3PrefixStrategyBase",
    "DefaultPrefixStrategy",
    "NumericPrefixStrategy",
    "BinaryPrefixStrategy",
    "HexPrefixStrategy",
    "RoundRobinPrefixStrategy",
]
