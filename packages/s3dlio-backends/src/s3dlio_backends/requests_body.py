"""Streamed `requests` bodies read in place (the Azure and GCS stores' data path).

The SDKs used by the Azure and GCS stores hand back `requests.Response` objects opened with `stream=True`.
Reading them with `.content` or `.read()` joins bytes objects; here the body goes from the socket into the
destination memoryview with `readinto` (http.client's, zero-copy for length-delimited bodies), and the
connection goes back to the pool only when the body was read to the end.
"""

from __future__ import annotations

from typing import Any

__all__ = ["readinto_body", "discard_body", "RequestsBody"]

_DRAIN_LIMIT = 64 * 1024


def readinto_body(response: Any, dst: memoryview) -> int:
    """Fill `dst` from the body of the streamed `requests.Response`; returns the bytes read.

    Stops early only at the end of the body. The connection is reused when the body was consumed in
    full and closed otherwise (never left half-read in the pool).
    """
    raw = response.raw
    fp: Any = getattr(raw, "_fp", None)
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


class RequestsBody:
    """The RangeBody (http_store.py) of one streamed ranged GET answer (Azure, GCS).

    `pin` is the version later ranges are pinned to (the caller reads it from the answer's headers).
    `readinto` fills the whole destination in one pass (the body is read to its end, so the connection
    goes back to the pool); `finish()` closes a response whose body was left unread.
    """

    __slots__ = ("_pin", "encoded", "length", "resp", "total", "uri", "whole")

    def __init__(self, resp: Any, uri: str, pin: str | None, offset: int = 0) -> None:
        from .http_store import content_range_total

        self.resp = resp
        self.uri = uri
        self._pin = pin
        h = resp.headers
        self.encoded = (h.get("Content-Encoding") or "identity").lower() not in ("identity", "")
        status = resp.status_code
        if status == 416:  # the range starts at or past the end (or the object is empty)
            self.total = content_range_total(h.get("Content-Range")) or 0
            discard_body(resp)
            self.resp = None
            self.length, self.whole = 0, False
            return
        cl = h.get("Content-Length")
        self.length = int(cl) if cl is not None else -1
        self.whole = status != 206
        total = content_range_total(h.get("Content-Range")) if status == 206 else None
        self.total = total if total is not None else (max(0, offset) if status == 206 else 0) + max(0, self.length)

    @property
    def pin(self) -> str | None:
        return self._pin

    def readinto(self, mv: memoryview) -> None:
        from .http_errors import short_body

        resp, self.resp = self.resp, None
        if resp is None:
            if mv.nbytes:
                raise short_body(self.uri, 0, mv.nbytes)
            return
        got = readinto_body(resp, mv)
        if got != mv.nbytes:
            raise short_body(self.uri, got, mv.nbytes)

    def read_all(self) -> Any:
        resp, self.resp = self.resp, None
        if resp is None:
            return b""
        try:
            return resp.content
        finally:
            resp.close()

    def finish(self) -> None:
        resp, self.resp = self.resp, None
        if resp is not None:
            if 0 <= self.length <= _DRAIN_LIMIT:
                discard_body(resp)  # a small unread body is read so that the connection can be reused
            else:
                resp.close()
