"""S3StorageWriter and S3StorageReader: s3torchconnector's DCP classes as thin subclasses of s3dlio's
DCP StorageWriter / StorageReader (`s3dlio.torch.dcp`), which do the transfers on the store protocol."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from s3dlio.torch.dcp import StorageReader, StorageWriter

from .._s3client import S3ClientConfig
from .._stores import _s3_config, split_uri
from ..s3reader.constructor import DCPOptimizedConstructor, S3ReaderConstructor
from .s3_prefix_strategy import DefaultPrefixStrategy, S3PrefixStrategyBase

__all__ = ["S3StorageWriter", "S3StorageReader"]

# FileSystemWriter keywords s3torchconnector passes on that have no meaning here (s3dlio's writer
# commits each file atomically and streams tensors without staging copies)
_IGNORED_WRITER_KWARGS = frozenset({"sync_files", "per_thread_copy_ahead", "cache_staged_state_dict"})


@dataclasses.dataclass
class _RankPrefix:
    """A rank's file-name prefix in SavePlan.storage_data (what s3dlio's writer reads: `.prefix`)."""

    prefix: str


def _path(path: str | os.PathLike[str]) -> str:
    return path if isinstance(path, str) else os.fspath(path)


def _config(
    path: str, region: str | None, endpoint: str | None, s3client_config: S3ClientConfig | None
) -> Any:
    """The S3 store config of (region, endpoint, client config) for an s3:// path; None otherwise."""
    if split_uri(path).scheme != "s3" or (region is None and endpoint is None and s3client_config is None):
        return None
    return _s3_config((region, endpoint, s3client_config))


class S3StorageWriter(StorageWriter):
    """`S3StorageWriter(region, path, s3client_config=None, prefix_strategy=None, thread_count=None)` for
    `torch.distributed.checkpoint.save`. `prefix_strategy` places each rank's files under its prefix;
    `thread_count` files are written in parallel per rank (default: s3dlio's, 4). `overwrite` and
    `single_file_per_rank` are passed on; `sync_files`, `per_thread_copy_ahead` and
    `cache_staged_state_dict` are accepted and ignored. `endpoint=` (s3dlio only) sets the S3 endpoint."""

    def __init__(
        self,
        region: str | None,
        path: str | os.PathLike[str],
        s3client_config: S3ClientConfig | None = None,
        prefix_strategy: S3PrefixStrategyBase | None = None,
        thread_count: int | None = None,
        *,
        endpoint: str | None = None,
        **kwargs: Any,
    ) -> None:
        unknown = set(kwargs) - _IGNORED_WRITER_KWARGS - {"overwrite", "single_file_per_rank"}
        if unknown:
            raise TypeError(
                f"S3StorageWriter() got unexpected keyword argument(s) {', '.join(sorted(unknown))}"
            )
        passed = {k: v for k, v in kwargs.items() if k in ("overwrite", "single_file_per_rank")}
        p = _path(path)
        super().__init__(
            p, thread_count=thread_count, config=_config(p, region, endpoint, s3client_config), **passed
        )
        self.region = region
        self.path = self.uri
        self.prefix_strategy = prefix_strategy or DefaultPrefixStrategy()

    def prepare_local_plan(self, plan: Any) -> Any:
        plan = super().prepare_local_plan(plan)
        if not self.use_collectives and self.rank is not None:
            plan = dataclasses.replace(plan, storage_data=_RankPrefix(self.prefix_strategy(self.rank)))
        return plan

    def prepare_global_plan(self, plans: list[Any]) -> list[Any]:
        return [
            dataclasses.replace(p, storage_data=_RankPrefix(self.prefix_strategy(i)))
            for i, p in enumerate(plans)
        ]


class S3StorageReader(StorageReader):
    """`S3StorageReader(region, path, s3client_config=None, reader_constructor=None)` for
    `torch.distributed.checkpoint.load`. Reads are s3dlio's (per file, coalesced ranges, large tensors
    straight into their storage) whatever the reader constructor; a DCP-optimized constructor is still
    given the plan's ranges, as upstream. `thread_count=` and `endpoint=` (s3dlio only) are passed on."""

    def __init__(
        self,
        region: str | None,
        path: str | os.PathLike[str],
        s3client_config: S3ClientConfig | None = None,
        reader_constructor: Any = None,
        *,
        endpoint: str | None = None,
        thread_count: int | None = None,
    ) -> None:
        p = _path(path)
        super().__init__(p, thread_count=thread_count, config=_config(p, region, endpoint, s3client_config))
        self.region = region
        self.path = self.uri
        self._reader_constructor = reader_constructor or S3ReaderConstructor.dcp_optimized()

    def prepare_local_plan(self, plan: Any) -> Any:
        plan.items.sort(key=lambda item: self.storage_data[item.storage_index].offset)
        if isinstance(self._reader_constructor, DCPOptimizedConstructor):
            self._reader_constructor.set_item_ranges_by_file(plan.items, self.storage_data, self.path)
        return super().prepare_local_plan(plan)
