"""RangeReader: a seekable, read-only raw file over range reads of one object.

`ObjectStore.open_reader` wraps it in `io.BufferedReader`, which gives libraries that want a file object
(zipfile, h5py, pyarrow, torch.load) read-ahead for small reads while large reads go straight into the
caller's buffer (`readinto` -> `store.get_range_into`). Each read is one ranged request through the store's
instrumented public method, so the op-log sees GET_RANGE rows. The size is learned once (a stat, unless the
caller passed it) and reads past the end return nothing.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import ObjectStore

__all__ = ["RangeReader"]


class RangeReader(io.RawIOBase):
    """Read-only, seekable raw stream over `store`'s object `uri`."""

    def __init__(self, store: ObjectStore, uri: str, size: int | None = None) -> None:
        super().__init__()
        self._store = store
        self._uri = uri
        self._size = int(size) if size is not None else int(store.stat(uri)["size"])
        self._pos = 0

    @property
    def name(self) -> str:
        return self._uri

    @property
    def size(self) -> int:
        """The object's size in bytes."""
        return self._size

    def __repr__(self) -> str:
        return f"RangeReader({self._uri!r}, size={self._size}, pos={self._pos})"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._checkClosed()
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._checkClosed()
        if whence == os.SEEK_SET:
            pos = offset
        elif whence == os.SEEK_CUR:
            pos = self._pos + offset
        elif whence == os.SEEK_END:
            pos = self._size + offset
        else:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if pos < 0:
            raise OSError(22, f"negative seek position {pos} in {self._uri}")
        self._pos = pos
        return pos

    def readinto(self, b: Any) -> int:
        self._checkClosed()
        mv = memoryview(b).cast("B")
        want = min(mv.nbytes, self._size - self._pos)
        if want <= 0:
            return 0
        n = self._store.get_range_into(self._uri, self._pos, mv[:want])
        self._pos += n
        return n

    def readall(self) -> bytes:
        """The rest of the object in one request."""
        self._checkClosed()
        if self._pos >= self._size:
            return b""
        data = self._store.get_range(self._uri, self._pos, self._size - self._pos)
        self._pos += len(data)
        return bytes(data)

    def size_hint(self) -> int:
        return self._size
