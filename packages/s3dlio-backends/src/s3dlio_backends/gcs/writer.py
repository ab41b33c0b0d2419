"""Streaming writer for GCS: a resumable upload, chunk by chunk, visible only when finalised.

Chunks (multiples of 256 KiB) go out in order, one in flight on the shared "parts" pool while the caller
fills the next. A writer that never fills one chunk sends a single media upload instead. `abort()` cancels
the session; nothing was ever visible under the object's name.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING

from s3dlio_core.concurrency import shared_executor
from s3dlio_core.settings import settings
from s3dlio_core.store import ObjectWriter
from s3dlio_core.uri import ObjectUri

from .._put_verify import verify_size
from .store import chunk_size

if TYPE_CHECKING:
    from .store import GcsStore

__all__ = ["GcsResumableWriter"]


class GcsResumableWriter(ObjectWriter):
    """Writes one object through a resumable upload session (see the module docstring)."""

    def __init__(self, store: GcsStore, u: ObjectUri) -> None:
        super().__init__(u.uri)
        self._store = store
        self._u = u
        self._chunk = chunk_size()
        self._buf = bytearray()
        self._session: str | None = None
        self._sent = 0  # bytes handed to chunk uploads
        self._pending: Future[None] | None = None

    def _write(self, mv: memoryview) -> None:
        pos = 0
        n = mv.nbytes
        while pos < n:
            take = min(self._chunk - len(self._buf), n - pos)
            self._buf += mv[pos: pos + take]
            pos += take
            if len(self._buf) >= self._chunk:
                self._send(self._buf, None)
                self._buf = bytearray()

    def _send(self, chunk: bytearray, total: int | None) -> None:
        """Upload `chunk` after the previous one finished (chunks must arrive in order)."""
        self._wait()
        if self._session is None:
            self._session = self._store._start_resumable(self._u)
        offset = self._sent
        self._sent += len(chunk)
        session = self._session
        self._pending = shared_executor("parts").submit(
            self._store._put_chunk, self._u, session, offset, memoryview(chunk), total)

    def _wait(self) -> None:
        if self._pending is not None:
            f, self._pending = self._pending, None
            f.result()

    def _commit(self) -> None:
        if self._session is None:
            self._store._put_single(self._u, memoryview(self._buf))
            return
        total = self._sent + len(self._buf)
        self._send(self._buf, total)
        self._buf = bytearray()
        self._wait()
        if settings().mpu_put_verify:
            verify_size(self._u, total, lambda: self._store._stat(self._u))

    def _abort(self) -> None:
        try:
            self._wait()
        except Exception:
            pass
        if self._session is not None:
            self._store._cancel_resumable(self._u, self._session)
            self._session = None
        self._buf = bytearray()
