"""File objects the filesystem hands out beyond the store's own reader and writer.

* `TextWriter`: text mode over a streaming writer. An exception inside its `with` block aborts the object
  (nothing appears), as the binary writer does; a plain TextIOWrapper would commit the partial text.
* `DeferredWriter`: a writer opened inside `fs.transaction` (or with autocommit=False): `close()` only ends
  the writing; the object appears at `commit()` (the transaction's end) or never (`discard()`).
"""

from __future__ import annotations

import io
from typing import Any

from s3dlio_core.store import ObjectWriter

__all__ = ["TextWriter", "DeferredWriter"]


class TextWriter(io.TextIOWrapper):
    """A TextIOWrapper over an ObjectWriter (or DeferredWriter) that aborts on an exception."""

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
            return
        raw = self.detach()  # the buffered text goes to the writer first; the wrapper no longer owns it
        raw.abort()


class DeferredWriter:
    """Wraps an ObjectWriter whose commit waits for the transaction (fsspec's autocommit=False)."""

    def __init__(self, writer: ObjectWriter) -> None:
        self._writer = writer
        self.closed = False

    # ---- the writer's file-object surface ----
    @property
    def name(self) -> str:
        return self._writer.name

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError(f"write to a closed file: {self._writer.uri}")
        return self._writer.write(data)

    def tell(self) -> int:
        return self._writer.tell()

    def flush(self) -> None:
        if self.closed:
            raise ValueError(f"flush of a closed file: {self._writer.uri}")

    def writable(self) -> bool:
        return not self.closed

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """End writing; the object appears only when the transaction commits."""
        self.closed = True

    def abort(self) -> None:
        self.closed = True
        self._writer.abort()

    def __enter__(self) -> DeferredWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # ---- what fsspec's Transaction calls ----
    def commit(self) -> None:
        """Publish the object (the transaction ended without an exception)."""
        self.closed = True
        self._writer.close()

    def discard(self) -> None:
        """Drop everything written (the transaction failed)."""
        self.abort()
