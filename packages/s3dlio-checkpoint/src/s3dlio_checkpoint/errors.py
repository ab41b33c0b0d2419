"""Typed checkpoint errors. All are RuntimeErrors (through S3dlioError), as the original's are, and each
names the URI at fault."""

from __future__ import annotations

from collections.abc import Iterable

from s3dlio_core.errors import S3dlioError

__all__ = [
    "CheckpointError",
    "CheckpointIntegrityError",
    "CheckpointIncompleteError",
    "CheckpointKeysError",
    "NotAShardUriError",
]


class CheckpointError(S3dlioError):
    """A checkpoint operation failed (the message names the checkpoint's URI)."""


class CheckpointIntegrityError(CheckpointError):
    """A shard's CRC-32C differs from the manifest's (`shard` is the shard's URI)."""

    def __init__(self, message: str, uri: str | None = None, shard: str | None = None) -> None:
        super().__init__(message, uri)
        self.shard = shard if shard is not None else uri


class NotAShardUriError(CheckpointError, ValueError):
    """load_checkpoint_with_validation was given a URI that names no checkpoint shard."""


class CheckpointIncompleteError(CheckpointError):
    """A distributed checkpoint cannot be finalised because ranks are missing (`missing_ranks`)."""

    def __init__(self, message: str, uri: str | None = None, missing_ranks: Iterable[int] = ()) -> None:
        super().__init__(message, uri)
        self.missing_ranks = sorted(missing_ranks)


class CheckpointKeysError(CheckpointError, KeyError):
    """A loaded checkpoint lacks keys the caller expected (`missing_keys`)."""

    def __init__(self, message: str, uri: str | None = None, missing_keys: Iterable[str] = ()) -> None:
        super().__init__(message, uri)
        self.missing_keys = list(missing_keys)

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""
