"""Ranged reads into one buffer: streamed HTTP bodies read in place, and concurrent ranges.

The SDKs used by the Azure and GCS stores hand back `requests.Response` objects opened with `stream=True`.
Reading them with `.content` or `.read()` joins bytes objects; here the body goes from the socket into the
destination memoryview with `readinto` (http.client's, zero-copy for length-delimited bodies), and the
connection goes back to the pool only when the body was read to the end. The rest of a large object is
fetched as concurrent ranges (range_get.py) into slices of the same buffer meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from s3dlio_core.bytes_view import BytesView
from s3dlio_core.errors import LengthMismatchError

from .range_get import RangeFetch, chunk_size_for, concurrency_for, plan_chunks

__all__ = ["readinto_body", "discard_body", "read_with_rest", "into_result"]


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



def read_with_rest(first: Callable[[], None], fetch_into: Callable[[int, memoryview], None], dst: memoryview,
                   base: int, start: int, end: int, total: int) -> None:
    """Fill `dst` (byte 0 = object offset `base`): `first()` reads the first response's body in this
    thread while [start, end) is fetched as concurrent ranges (range_get's plan, pool and bounds).
    The first failure stops the remaining ranges and is raised once the running ones finished."""
    chunks = plan_chunks(start, end, chunk_size_for(total))
    fetch = RangeFetch(fetch_into, dst, base, chunks, concurrency_for(total)) if chunks else None
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


def into_result(uri: str, n: int, dst: memoryview | None, response: Any,
                fill: Callable[[memoryview], None]) -> Any:
    """Where an `n`-byte read lands: a new BytesView (returned), or the caller's `dst` (the count is
    returned; LengthMismatchError, with `response` closed, when `dst` is too small). `fill(mv)` writes it."""
    if dst is not None and n > dst.nbytes:
        if response is not None:
            response.close()
        raise LengthMismatchError(
            f"length mismatch (expected {dst.nbytes} bytes, got {n}): object {uri} is {n} bytes but "
            f"the destination holds {dst.nbytes}", uri, expected=dst.nbytes, actual=n)
    v = BytesView.allocate(n) if dst is None else None
    mv = memoryview(v) if v is not None else dst[:n]  # type: ignore[index]
    try:
        fill(mv)
    finally:
        if v is not None:
            mv.release()  # a buffer with live exports cannot be resized by its owner later
    return v if v is not None else n
