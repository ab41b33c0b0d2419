"""Range-split parallel GET, shared by the HTTP backends: plan chunk ranges for a large object and fetch
them concurrently, each range read straight into its slice of one preallocated buffer, while the first
response's body is read in the calling thread (`read_with_rest`).

Chunk size and concurrency follow the original (S3DLIO_CHUNK_SIZE / S3DLIO_RANGE_CONCURRENCY override):
chunk 1 MiB below 16 MiB, 4 MiB below 256 MiB, else 8 MiB; concurrency max(2, cores/2) below 32 MiB,
max(4, cores) below 512 MiB, else max(8, 2 x cores).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future

from s3dlio_core.concurrency import shared_executor
from s3dlio_core.settings import Settings, settings

__all__ = ["chunk_size_for", "concurrency_for", "plan_chunks", "RangeFetch", "read_with_rest"]

MiB = 1 << 20
FetchInto = Callable[[int, memoryview], None]  # (object offset, destination slice) -> fills the slice


def chunk_size_for(size: int, s: Settings | None = None) -> int:
    """Bytes per range for an object of `size` bytes (`s`: the store's settings, default the process's)."""
    c = (s or settings()).range_chunk_size
    if c:
        return c
    if size < 16 * MiB:
        return MiB
    if size < 256 * MiB:
        return 4 * MiB
    return 8 * MiB


def concurrency_for(size: int, s: Settings | None = None) -> int:
    """Ranges in flight for an object of `size` bytes."""
    c = (s or settings()).range_concurrency
    if c:
        return c
    cores = os.cpu_count() or 1
    if size < 32 * MiB:
        return max(2, cores // 2)
    if size < 512 * MiB:
        return max(4, cores)
    return max(8, 2 * cores)


def plan_chunks(start: int, end: int, chunk: int) -> list[tuple[int, int]]:
    """(offset, length) pieces covering [start, end) in order."""
    if chunk <= 0:
        raise ValueError(f"chunk size must be > 0, got {chunk}")
    return [(o, min(chunk, end - o)) for o in range(start, end, chunk)]


class RangeFetch:
    """Ranges being fetched in the background into `dst` (whose byte 0 is object offset `base`).

    At most `concurrency` ranges run at once on the shared "parts" pool; the first failure stops the rest.
    `wait()` returns when all are done and raises the first failure.
    """

    def __init__(self, fetch_into: FetchInto, dst: memoryview, base: int, chunks: list[tuple[int, int]],
                 concurrency: int) -> None:
        self._fetch = fetch_into
        self._dst = dst
        self._base = base
        self._chunks = chunks
        self._next = 0
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._futures: list[Future[None]] = []
        n = max(1, min(concurrency, len(chunks)))
        if chunks:
            pool = shared_executor("parts")
            self._futures = [pool.submit(self._worker) for _ in range(n)]

    def _take(self) -> tuple[int, int] | None:
        with self._lock:
            if self._error is not None or self._next >= len(self._chunks):
                return None
            c = self._chunks[self._next]
            self._next += 1
            return c

    def _worker(self) -> None:
        while True:
            c = self._take()
            if c is None:
                return
            off, length = c
            start = off - self._base
            try:
                self._fetch(off, self._dst[start:start + length])
            except BaseException as e:
                with self._lock:
                    if self._error is None:
                        self._error = e
                return

    def cancel(self) -> None:
        """Start no more ranges (those running finish)."""
        with self._lock:
            if self._error is None:
                self._error = _Cancelled()

    def wait(self) -> None:
        for f in self._futures:
            f.result()
        err = self._error
        if err is not None and not isinstance(err, _Cancelled):
            raise err


class _Cancelled(Exception):
    pass


def read_with_rest(first: Callable[[], None], fetch_into: FetchInto, dst: memoryview, base: int, start: int,
                   end: int, total: int, s: Settings | None = None) -> None:
    """Fill `dst` (byte 0 = object offset `base`): `first()` reads the first response's body in this
    thread while [start, end) is fetched as concurrent ranges (this module's plan, pool and bounds).
    The first failure stops the remaining ranges and is raised once the running ones finished."""
    chunks = plan_chunks(start, end, chunk_size_for(total, s)) if end > start else []
    fetch = RangeFetch(fetch_into, dst, base, chunks, concurrency_for(total, s)) if chunks else None
    try:
        first()
    except BaseException:
        if fetch is not None:
            fetch.cancel()
            try:
                fetch.wait()
            except BaseException:
                pass
        raise
    if fetch is not None:
        fetch.wait()
