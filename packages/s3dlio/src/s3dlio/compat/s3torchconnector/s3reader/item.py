"""S3Item: the item a dataset yields with the default (sequential) reader, an S3Reader that also has
the original s3dlio's item API (`S3Item(uri, data)`, `read_bytes`, `readall`, `len`, its repr)."""

from __future__ import annotations

from typing import Any

from s3dlio_core import BytesView, ObjectStore, store_for_uri

from .._stores import bucket_and_key, split_uri
from .sequential import SequentialS3Reader
from .source import ObjectSource

__all__ = ["S3Item"]


class S3Item(SequentialS3Reader):
    """One object: `bucket`, `key`, `uri`, and a seekable file object over its bytes.

    `S3Item(uri)` fetches on first read; `S3Item(uri, data)` wraps bytes already read (a BytesView is
    used as is, other bytes-like data is copied once). `len(item)` is the size (0 after close()).
    """

    _closed_message = "I/O operation on closed S3Item"

    def __init__(
        self,
        uri: str,
        data: Any = None,
        *,
        store: ObjectStore | None = None,
        get_object_info: Any = None,
        source: ObjectSource | None = None,
    ) -> None:
        u = split_uri(uri)
        bucket, key = bucket_and_key(u)
        if source is None:
            if data is not None and not isinstance(data, BytesView):
                data = BytesView.wrap(data)
            source = ObjectSource(
                store or store_for_uri(uri)[0], uri, data=data, get_object_info=get_object_info
            )
        super().__init__(bucket, key, get_object_info, source)

    def read_bytes(self) -> bytes:
        """Every byte of the object, whatever the position."""
        return self._buffer().tobytes()

    def readall(self) -> bytes:
        return self.read()

    read_all = readall

    def __len__(self) -> int:
        if self.closed:
            return 0
        return self._size()

    def __repr__(self) -> str:
        size = len(self._mv) if self._mv is not None else "?"
        return f"S3Item(bucket={self._bucket!r}, key={self._key!r}, size={size})"
