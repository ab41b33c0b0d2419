"""Streaming writer for Azure block blobs: blocks staged in the background, committed on close.

Full blocks are staged on the shared "parts" pool (a bounded number in flight) while the caller keeps
writing. `close()` waits for every block and commits the block list; until then nothing is visible (an
existing blob keeps its old content). `abort()` just stops: uncommitted blocks are discarded by the service.
A writer that never fills one block sends a single Put Blob instead.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

from s3dlio_core.concurrency import shared_executor
from s3dlio_core.settings import settings
from s3dlio_core.store import ObjectWriter

from .._put_verify import verify_size

if TYPE_CHECKING:
    from .store import AzureStore, _Loc

__all__ = ["AzureBlockWriter"]


class AzureBlockWriter(ObjectWriter):
    """Writes one blob as staged blocks (see the module docstring)."""

    def __init__(self, store: AzureStore, loc: _Loc) -> None:
        super().__init__(loc.u.uri)
        from .store import _block_id, _block_prefix, _parts_in_flight

        self._store = store
        self._loc = loc
        self._block_size = settings().multipart_part_size
        self._buf = bytearray()
        self._prefix = _block_prefix()
        self._make_id = _block_id
        self._ids: list[str] = []
        self._futures: list[Future[None]] = []
        self._slots = threading.BoundedSemaphore(_parts_in_flight())

    def _write(self, mv: memoryview) -> None:
        self._raise_failed()
        pos = 0
        n = mv.nbytes
        while pos < n:
            take = min(self._block_size - len(self._buf), n - pos)
            self._buf += mv[pos: pos + take]
            pos += take
            if len(self._buf) >= self._block_size:
                self._stage(self._buf)
                self._buf = bytearray()

    def _stage(self, block: bytearray) -> None:
        block_id = self._make_id(self._prefix, len(self._ids))
        self._ids.append(block_id)
        self._slots.acquire()
        try:
            self._raise_failed()
        except BaseException:
            self._slots.release()
            raise

        def run() -> None:
            try:
                self._store._stage_block(self._loc, block_id, memoryview(block))
            finally:
                self._slots.release()

        self._futures.append(shared_executor("parts").submit(run))

    def _raise_failed(self) -> None:
        for f in self._futures:
            if f.done() and f.exception() is not None:
                raise f.exception()  # type: ignore[misc]

    def _commit(self) -> None:
        if not self._ids:  # small object: one request
            self._store._put_single(self._loc, memoryview(self._buf))
            return
        if self._buf:
            self._stage(self._buf)
            self._buf = bytearray()
        for f in self._futures:
            f.result()
        self._store._commit_blocks(self._loc, self._ids)
        if settings().mpu_put_verify:
            verify_size(self._loc.u, self.bytes_written, lambda: self._store._stat_loc(self._loc))

    def _abort(self) -> None:
        for f in self._futures:
            f.cancel()
        self._buf = bytearray()
