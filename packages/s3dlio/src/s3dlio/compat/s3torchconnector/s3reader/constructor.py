"""S3ReaderConstructor: which reader a dataset, checkpoint or client hands out (sequential, range-based
or DCP-optimized), as in s3torchconnector."""

from __future__ import annotations

import os
from collections import defaultdict
from functools import partial
from typing import Any, NamedTuple

from .ranged import RangedS3Reader
from .s3reader import S3Reader
from .sequential import SequentialS3Reader

__all__ = [
    "S3ReaderConstructor",
    "DCPOptimizedConstructor",
    "ItemRange",
    "DEFAULT_MAX_GAP_SIZE",
    "is_sequential",
]

DEFAULT_MAX_GAP_SIZE = 32 * 1024 * 1024


class ItemRange(NamedTuple):
    start: int
    end: int


class DCPOptimizedConstructor:
    """s3torchconnector's DCP-optimized constructor. s3dlio's DCP reader fetches the byte ranges of a
    load plan itself (coalesced, concurrently, into the tensors' buffers), so this constructor only keeps
    the ranges it is given and, used anywhere else, reads like the sequential reader."""

    def __init__(self, max_gap_size: int | float = DEFAULT_MAX_GAP_SIZE) -> None:
        if max_gap_size < 0:
            raise ValueError("max_gap_size must be non-negative")
        self._max_gap_size = max_gap_size
        self._item_ranges_by_file: dict[str, list[ItemRange]] = defaultdict(list)

    def set_item_ranges_by_file(
        self, plan_items: Any, storage_data: Any, base_path: str | os.PathLike[str]
    ) -> None:
        """Keep the byte ranges of a DCP load plan (by object URI), as upstream."""
        self._item_ranges_by_file = defaultdict(list)
        for item in plan_items or ():
            md = storage_data[item.storage_index]
            uri = os.path.join(str(base_path), md.relative_path)
            self._item_ranges_by_file[uri].append(ItemRange(md.offset, md.offset + md.length))

    def __call__(self, bucket: str, key: str, get_object_info: Any, get_stream: Any) -> S3Reader:
        return SequentialS3Reader(bucket, key, get_object_info, get_stream)


class S3ReaderConstructor:
    """Factories of reader constructors: `sequential()` (the default: the whole object in one request on
    first read), `range_based(buffer_size=None)` (range requests as read; 8 MiB read-ahead, 0 for none),
    `dcp_optimized(max_gap_size)` (for S3StorageReader)."""

    @staticmethod
    def sequential() -> Any:
        return partial(SequentialS3Reader)

    @staticmethod
    def range_based(buffer_size: int | None = None) -> Any:
        if buffer_size is not None and buffer_size < 0:
            raise ValueError(f"buffer_size must be >= 0 or None, got {buffer_size}")
        return partial(RangedS3Reader, buffer_size=buffer_size)

    @staticmethod
    def dcp_optimized(max_gap_size: int | float = DEFAULT_MAX_GAP_SIZE) -> DCPOptimizedConstructor:
        return DCPOptimizedConstructor(max_gap_size=max_gap_size)

    @staticmethod
    def default() -> Any:
        return S3ReaderConstructor.sequential()

    @staticmethod
    def get_reader_type_string(constructor: Any) -> str:
        if constructor is None:
            return "sequential"
        if isinstance(constructor, DCPOptimizedConstructor):
            return "dcp_optimized"
        if not isinstance(constructor, partial):
            return "unknown"
        if constructor.func is RangedS3Reader:
            return "range_based"
        if constructor.func is SequentialS3Reader:
            return "sequential"
        return "unknown"


def is_sequential(constructor: Any) -> bool:
    """True for the default reader (whole objects): datasets may then fetch objects ahead in bulk."""
    return constructor is None or (
        isinstance(constructor, partial)
        and constructor.func is SequentialS3Reader
        and not constructor.args
        and not constructor.keywords
    )
