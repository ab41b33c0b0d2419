"""ObjectSource: what a reader reads from, the s3dlio store and URI of one object (optionally a byte
range of it, and the bytes already fetched by a dataset's bulk prefetch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from s3dlio_core import BytesView, ObjectStore

__all__ = ["ObjectSource"]


class ObjectSource:
    """One object (or the inclusive byte range `start..end` of it) on `store`.

    Readers call `whole()` (every byte, one GET or range GET, or the prefetched bytes without a request),
    `open_reader(buffer_size)` (the store's seekable range reader), and `size()` (from the object info,
    else one HEAD). It is what s3torchconnector's reader constructors receive as `get_stream`.
    """

    __slots__ = ("_data", "_info", "end", "start", "store", "uri")

    def __init__(
        self,
        store: ObjectStore,
        uri: str,
        *,
        data: BytesView | None = None,
        start: int | None = None,
        end: int | None = None,
        get_object_info: Callable[[], Any] | None = None,
    ) -> None:
        self.store = store
        self.uri = uri
        self.start = start
        self.end = end
        self._data = data
        self._info = get_object_info

    def whole(self) -> BytesView:
        """The object's bytes (or the range's); the prefetched ones are handed over once, no copy."""
        data, self._data = self._data, None
        if data is not None:
            return data
        if self.start is None and self.end is None:
            return self.store.get(self.uri)
        start = self.start or 0
        length = None if self.end is None else max(0, self.end - start + 1)
        return self.store.get_range(self.uri, start, length)

    def size(self) -> int:
        """The object's size (the range's length for a ranged source)."""
        if self.start is not None or self.end is not None:
            total = self._object_size()
            start = self.start or 0
            end = total - 1 if self.end is None else min(self.end, total - 1)
            return max(0, end - start + 1)
        if self._data is not None:
            return len(self._data)
        return self._object_size()

    def size_info(self) -> Any:
        """An object info (`.size`) for reader constructors: from the listing, else one HEAD."""
        from types import SimpleNamespace

        return SimpleNamespace(size=self.size())

    def _object_size(self) -> int:
        if self._info is not None:
            return int(self._info().size)
        return int(self.store.stat(self.uri)["size"])

    def open_reader(self, buffer_size: int) -> Any:
        """The store's seekable reader over range reads (a ranged source: not supported)."""
        if self.start is not None or self.end is not None:
            raise ValueError(f"a range-based reader reads the whole object, not a byte range ({self.uri})")
        size = int(self._info().size) if self._info is not None else None
        return self.store.open_reader(self.uri, size=size, buffer_size=buffer_size)
