"""Ranged reads into one buffer: streamed HTTP bodies read in place, and concurrent ranges.

The SDKs used by the Azure and GCS stores hand back `requests.Response` objects opened with `stream=True`.
Reading them with `.content` or `.read()` joins bytes objects; here the body goes from the socket into the
destination memoryview with `readinto` (http.client's, zero-copy for length-delimited bodies), and the
connection goes back to the pool only when the body was read to the end. Large objects are split into
ranges (the original's S3DLIO_RANGE_* rules) fetched concurrently into slices of the same buffer.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from s3dlio_core.concurrency import shared_executor
from s3dlio_core.settings import settings

__all__ = ["readinto_body", "discard_body", "range_plan", "fetch_ranges"]
MiB = 1 << 20


def readinto_body(response: Any, dst: memoryview) -> int:
    """Fill `dst` from the body of the streamed `requests.Response`; returns the bytes read.

    Stops early only at the end of the body. The connection is reused when the body was consumed in
    full and closed otherwise (never left half-read in the pool).
    """
    raw = response.raw
    fp = getattr(raw, "_fp", None)
    encoding = (raw.headers.get("content-encoding") or "identity").lower()
    plain = fp is not None and hasattr(fp, "readinto") and encoding == "identity"
    readinto = fp.readinto if plain else raw.readinto
    total = dst.nbytes
    got = 0
    try:
        while got < total:
            n = readinto(dst[got:])
            if not n:
                break
            got += n
    except BaseException:
        response.close()
        raise
    if plain and not fp.isclosed() and got == total:
        fp.readinto(bytearray(1))  # lets http.client notice the end of the body (e.g. an empty one)
    done = plain and fp.isclosed()
    release = getattr(raw, "release_conn", None)
    if done and release is not None:  # the whole body was read: hand the connection back
        release()
    else:
        response.close()
    return got


def discard_body(response: Any) -> None:
    """Finish with a response whose body is not needed (small error bodies are drained for reuse)."""
    try:
        response.content  # noqa: B018 - reads (and caches) the small body so the connection is reusable
    except Exception:
        pass
    response.close()


def _chunk_size(total: int) -> int:
    s = settings().range_chunk_size
    if s:
        return s
    return 1 * MiB if total < 16 * MiB else 4 * MiB if total < 256 * MiB else 8 * MiB


def _concurrency(total: int) -> int:
    c = settings().range_concurrency
    if c:
        return c
    cores = os.cpu_count() or 1
    if total < 32 * MiB:
        return max(2, cores // 2)
    if total < 512 * MiB:
        return max(4, cores)
    return max(8, 2 * cores)


def range_plan(start: int, end: int, total: int) -> list[tuple[int, int]]:
    """(offset, length) pieces covering [start, end), sized by the object's total size."""
    step = _chunk_size(total)
    return [(o, min(step, end - o)) for o in range(start, end, step)]


def fetch_ranges(read_into: Callable[[int, memoryview], None], ranges: list[tuple[int, int]],
                 mv: memoryview, base: int, first: Callable[[], None] | None = None) -> None:
    """Fill `mv` (object bytes from offset `base`): `read_into(offset, slice)` for every range, with a
    bounded number running on the shared "parts" pool while `first()` (if any) runs in this thread.
    The first failure stops the remaining ranges and is raised after the running ones finish."""
    if not ranges:
        if first is not None:
            first()
        return
    todo = iter(ranges)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        while not errors:
            with lock:
                r = next(todo, None)
            if r is None:
                return
            off, n = r
            try:
                read_into(off, mv[off - base: off - base + n])
            except BaseException as e:
                errors.append(e)
                return

    k = min(len(ranges), _concurrency(base + mv.nbytes))
    pool = shared_executor("parts")
    futures = [pool.submit(worker) for _ in range(k)]
    try:
        if first is not None:
            first()
    except BaseException as e:
        errors.append(e)
    for f in futures:
        f.result()
    if errors:
        raise errors[0]
