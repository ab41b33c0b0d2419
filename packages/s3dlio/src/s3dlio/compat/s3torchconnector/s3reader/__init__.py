"""s3torchconnector's readers on s3dlio stores: S3Reader (the abstract file object), SequentialS3Reader,
RangedS3Reader, S3Item (the default item) and S3ReaderConstructor."""

from __future__ import annotations

from .constructor import DCPOptimizedConstructor, ItemRange, S3ReaderConstructor
from .item import S3Item
from .ranged import RangedS3Reader
from .s3reader import S3Reader
from .sequential import SequentialS3Reader
from .source import ObjectSource

__all__ = [
    "S3Reader",
    "S3ReaderConstructor",
    "SequentialS3Reader",
    "RangedS3Reader",
    "DCPOptimizedConstructor",
    "ItemRange",
    "S3Item",
    "ObjectSource",
]
