"""S3Writer: the write-only file object s3torchconnector hands out, on s3dlio's streaming writer (parts
upload as they fill; nothing is visible until close)."""

from __future__ import annotations

import io
import threading
from typing import Any

__all__ = ["S3Writer"]


class S3Writer(io.BufferedIOBase):
    """Writes one object through the store's `open_writer`: `write` (any bytes-like, no copy here),
    `tell`, `flush` (no-op), `close` (commits; the object appears). As a context manager it commits on a
    normal exit; after an exception in the block the upload is aborted and no object appears."""

    def __init__(self, writer: Any, uri: str = "") -> None:
        super().__init__()
        self._w = writer
        self.uri = uri
        self._position = 0
        self._done = False
        self._lock = threading.Lock()

    def __enter__(self) -> S3Writer:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, data: Any) -> int:
        """Append `data`; returns its length in bytes. ValueError once closed."""
        if self._done:
            raise ValueError(f"write to closed S3Writer ({self.uri})")
        mv = data if isinstance(data, memoryview) else memoryview(data)
        if mv.format != "B" or mv.ndim != 1:
            mv = mv.cast("B")  # typed arrays (array('f'), numpy) as bytes; no copy
        n = mv.nbytes
        self._w.write(mv)
        self._position += n
        return n

    def close(self) -> None:
        """Commit the object (once; later calls do nothing)."""
        with self._lock:
            if not self._done:
                self._done = True
                self._w.close()
        super().close()

    def abort(self) -> None:
        """Drop the upload: no object appears."""
        with self._lock:
            if not self._done:
                self._done = True
                self._w.abort()
        super().close()

    @property
    def closed(self) -> bool:
        return self._done

    def flush(self) -> None:
        pass

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return not self._done

    def tell(self) -> int:
        return self._position

    def __del__(self) -> None:
        # a writer dropped without close() leaves no object (io.IOBase would close, i.e. commit, it)
        try:
            if not self._done:
                self.abort()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"S3Writer({self.uri!r}, written={self._position})"
