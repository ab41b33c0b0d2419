"""s3dlio for PyTorch (imports torch): datasets over every URI scheme.

`ObjectStoreIterableDataset` and `ObjectStoreMapDataset` (with `from_prefix`), and the deprecated names
`S3IterableDataset` and `S3MapDataset`. `BytesReader` is what `return_type="reader"` yields. The DCP
storage writer and reader live in `s3dlio.torch.dcp` (imported on its own).
"""

from __future__ import annotations

from .datasets import (
    ObjectStoreIterableDataset,
    ObjectStoreMapDataset,
    S3IterableDataset,
    S3MapDataset,
)
from .items import BytesReader

_BytesReader = BytesReader  # the original's name

__all__ = ["ObjectStoreIterableDataset", "ObjectStoreMapDataset", "S3IterableDataset", "S3MapDataset",
           "BytesReader"]
