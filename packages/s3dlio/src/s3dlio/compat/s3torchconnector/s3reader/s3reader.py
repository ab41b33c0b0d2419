"""S3Reader: the read-only, seekable file object s3torchconnector hands out for one object."""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from typing import Any

__all__ = ["S3Reader"]


class S3Reader(ABC, io.BufferedIOBase):
    """Abstract base of the readers (SequentialS3Reader, RangedS3Reader, S3Item): `bucket`, `key`, `read`,
    `readinto`, `seek`, `tell`. Readable and seekable, never writable. Not thread-safe (as upstream)."""

    @property
    @abstractmethod
    def bucket(self) -> str: ...

    @property
    @abstractmethod
    def key(self) -> str: ...

    @abstractmethod
    def read(self, size: int | None = None) -> bytes: ...

    @abstractmethod
    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int: ...

    @abstractmethod
    def tell(self) -> int: ...

    @abstractmethod
    def readinto(self, buf: Any) -> int: ...

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False
