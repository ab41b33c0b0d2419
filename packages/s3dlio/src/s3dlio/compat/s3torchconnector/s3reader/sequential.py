"""SequentialS3Reader: fetches the whole object on first read and serves every read, seek and
readinto from that buffer (s3torchconnector's default reader)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from .s3reader import S3Reader
from .source import ObjectSource

__all__ = ["SequentialS3Reader"]


class SequentialS3Reader(S3Reader):
    """Reads `bucket/key` through `get_stream` (an ObjectSource) in one request, on the first read.

    `seek` never fetches (SEEK_END learns the size from the listing or one HEAD); positions past the end
    read as empty. `readinto` copies from the fetched buffer straight into the caller's.
    """

    _closed_message = "I/O operation on closed file"

    def __init__(
        self, bucket: str, key: str, get_object_info: Callable[[], Any] | None, get_stream: ObjectSource
    ) -> None:
        super().__init__()
        self._bucket = bucket
        self._key = key
        self._get_object_info = get_object_info
        self._source = get_stream
        self._view: Any = None  # the fetched BytesView
        self._mv: memoryview | None = None
        self._pos = 0

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def key(self) -> str:
        return self._key

    @property
    def uri(self) -> str:
        """The object's full URI."""
        return self._source.uri

    def _check(self) -> None:
        if self.closed:
            raise ValueError(self._closed_message)

    def _buffer(self) -> memoryview:
        self._check()
        if self._mv is None:
            self._view = self._source.whole()
            self._mv = memoryview(self._view).cast("B")
        return self._mv

    def _size(self) -> int:
        return len(self._mv) if self._mv is not None else self._source.size()

    def read(self, size: int | None = None) -> bytes:
        """Up to `size` bytes from the position (all the rest for None or a negative size)."""
        mv = self._buffer()
        pos = self._pos
        end = len(mv) if size is None or size < 0 else min(len(mv), pos + size)
        if end <= pos:
            return b""
        self._pos = end
        return mv[pos:end].tobytes()

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buf: Any) -> int:
        """Copy the next bytes into `buf` (any writable buffer); returns how many (0 at the end)."""
        mv = self._buffer()
        dst = memoryview(buf).cast("B")
        n = max(0, min(dst.nbytes, len(mv) - self._pos))
        if n:
            dst[:n] = mv[self._pos : self._pos + n]
            self._pos += n
        return n

    def readinto1(self, buf: Any) -> int:
        return self.readinto(buf)

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        """Move to `offset` from the start, the position or the end; raises ValueError for a negative
        result or a bad `whence`."""
        self._check()
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._size() + offset
        else:
            raise ValueError(f"invalid whence ({whence!r}, should be 0, 1 or 2)")
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def tell(self) -> int:
        self._check()
        return self._pos

    def getbuffer(self) -> memoryview:
        """The object's bytes as a read-only memoryview (fetched if need be; no copy)."""
        return self._buffer().toreadonly()

    def close(self) -> None:
        """Drop the buffer; later reads raise ValueError."""
        if not self.closed:
            self._mv = None
            self._view = None
        super().close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bucket={self._bucket!r}, key={self._key!r})"
