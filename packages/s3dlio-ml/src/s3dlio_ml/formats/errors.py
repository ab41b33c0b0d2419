"""Typed errors of the format readers and writers.

Every error names the object (URI or path) and says what was expected where: a reader never returns
partial data silently. All are `s3dlio_core.errors.S3dlioError` (a RuntimeError) and ValueError.
"""

from __future__ import annotations

from s3dlio_core.errors import S3dlioError

__all__ = ["FormatError", "ChecksumError", "TruncatedError", "MemberNotFoundError"]


class FormatError(S3dlioError, ValueError):
    """The object is not what its format says it must be (bad magic, broken framing, bad header, ...).

    `uri` is the object, `offset` the byte offset the problem was found at (None when not positional).
    """

    def __init__(self, message: str, uri: str | None = None, offset: int | None = None) -> None:
        super().__init__(message, uri)
        self.offset = offset


class TruncatedError(FormatError):
    """The object ends before the bytes its own structure announces."""


class ChecksumError(FormatError):
    """A stored checksum (TFRecord masked CRC-32C, ZIP CRC-32) does not match the bytes."""


class MemberNotFoundError(FormatError, KeyError):
    """An archive has no member (array, dataset) of the requested name."""

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0]) if self.args else ""
