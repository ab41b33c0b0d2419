"""RangedS3Reader: byte-range requests per read, through the store's seekable range reader (a
read-ahead buffer of `buffer_size` for small reads; large reads land straight in the caller's buffer)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from .s3reader import S3Reader
from .source import ObjectSource

__all__ = ["RangedS3Reader", "DEFAULT_BUFFER_SIZE"]

DEFAULT_BUFFER_SIZE = 8 * 1024 * 1024


class RangedS3Reader(S3Reader):
    """Reads `bucket/key` with range GETs as it is read; `buffer_size` None = 8 MiB, 0 = no read-ahead."""

    def __init__(
        self,
        bucket: str,
        key: str,
        get_object_info: Callable[[], Any] | None,
        get_stream: ObjectSource,
        buffer_size: int | None = None,
    ) -> None:
        super().__init__()
        if buffer_size is not None and buffer_size < 0:
            raise ValueError(f"buffer_size must be >= 0 or None, got {buffer_size}")
        self._bucket = bucket
        self._key = key
        self._source = get_stream
        self._buffer_size = DEFAULT_BUFFER_SIZE if buffer_size is None else int(buffer_size)
        self._f: Any = None
        self._pos = 0  # kept while no reader is open (seek/tell make no request)

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def key(self) -> str:
        return self._key

    @property
    def uri(self) -> str:
        return self._source.uri

    def _reader(self) -> Any:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if self._f is None:
            self._f = self._source.open_reader(max(1, self._buffer_size))
            if self._pos:
                self._f.seek(self._pos)
        return self._f

    def read(self, size: int | None = None) -> bytes:
        return self._reader().read(-1 if size is None else size)

    def readinto(self, buf: Any) -> int:
        return self._reader().readinto(buf)

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        if self._f is None and whence == io.SEEK_SET:
            if self.closed:
                raise ValueError("I/O operation on closed file")
            if offset < 0:
                raise ValueError(f"negative seek position {offset}")
            self._pos = offset
            return offset
        return self._reader().seek(offset, whence)

    def tell(self) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return self._pos if self._f is None else self._f.tell()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
        super().close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bucket={self._bucket!r}, key={self._key!r})"
