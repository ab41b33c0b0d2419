"""MultipartUploadWriter: the original's explicit S3 multipart writer (write / reserve+commit / flush /
close -> dict / abort, context manager), on the shared multipart coordinator.

`write(data)` borrows whole parts straight from the caller's buffer (keep it unchanged until close or
abort, or pass copy=True); smaller writes are copied into the part buffer. Any failure, an exception in
a `with` block, or (with abort_on_drop, the default) dropping an unfinished writer aborts the upload.
"""

from __future__ import annotations

from typing import Any

from s3dlio_core.bytes_view import as_buffer
from s3dlio_core.errors import S3dlioError
from s3dlio_core.registry import store_for_uri

from .._put_verify import verify_size
from ..multipart import MIN_PART_SIZE, MultipartCoordinator, default_max_in_flight

__all__ = ["MultipartUploadWriter", "ReservedBuffer"]


class ReservedBuffer(bytearray):
    """The zero-filled buffer behind a `reserve()`d memoryview (`mv.obj`)."""

    __slots__ = ()


class MultipartUploadWriter:
    """Upload one S3 object in parts, several in flight, while the caller keeps writing."""

    def __init__(self, bucket: str, key: str, part_size: int | None = None, max_in_flight: int | None = None,
                 content_type: str | None = None, abort_on_drop: bool | None = None) -> None:
        self._coord: MultipartCoordinator | None = None
        if bucket.startswith("s3://"):
            bucket = bucket[5:]
        uri = f"s3://{bucket.strip('/')}/{key.lstrip('/')}"
        self._init(uri, part_size, max_in_flight, content_type, abort_on_drop)

    @classmethod
    def from_uri(cls, uri: str, part_size: int | None = None, max_in_flight: int | None = None,
                 content_type: str | None = None, abort_on_drop: bool | None = None) -> MultipartUploadWriter:
        """A writer for `s3://bucket/key` (also `s3://host:port/bucket/key`)."""
        self = cls.__new__(cls)
        self._coord = None
        self._init(uri, part_size, max_in_flight, content_type, abort_on_drop)
        return self

    def _init(self, uri: str, part_size: int | None, max_in_flight: int | None, content_type: str | None,
              abort_on_drop: bool | None) -> None:
        if part_size is None:
            part_size = store_for_uri(uri)[0].settings.multipart_part_size
        if isinstance(part_size, bool) or not isinstance(part_size, int):
            raise TypeError(f"part_size must be an int, got {type(part_size).__name__}")
        if part_size < MIN_PART_SIZE:
            raise S3dlioError("Multipart init failed: part_size must be at least 5 MiB for S3 Multipart "
                              f"Upload (got {part_size} for {uri})", uri)
        if max_in_flight is not None and (isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int)
                                          or max_in_flight < 1):
            raise ValueError(f"max_in_flight must be an integer >= 1, got {max_in_flight!r}")
        from .store import S3Store

        store, u = store_for_uri(uri)
        if u.scheme != "s3" or not u.key or not isinstance(store, S3Store):
            raise S3dlioError(f"MultipartUploadWriter needs an s3://bucket/key URI, got {uri!r}", uri)
        self.uri = uri
        self.part_size = part_size
        self.max_in_flight = max_in_flight or default_max_in_flight(part_size)
        self.abort_on_drop = True if abort_on_drop is None else bool(abort_on_drop)
        self._reserved: ReservedBuffer | None = None
        self._store = store
        self._u = u
        self._result: dict[str, Any] | None = None
        from .sink import S3PartSink

        try:
            self._coord = MultipartCoordinator(S3PartSink(store.client, u, content_type), part_size,
                                               self.max_in_flight)
        except S3dlioError as e:
            raise S3dlioError(f"Multipart init failed: {e}", uri) from e

    def __repr__(self) -> str:
        return f"MultipartUploadWriter(uri={self.uri!r}, part_size={self.part_size})"

    @property
    def _live(self) -> MultipartCoordinator:
        c = self._coord
        if c is None or c.done:
            raise S3dlioError(f"MultipartUploadWriter for {self.uri} is already closed or aborted", self.uri)
        return c

    # ---- writing ----
    def write(self, data: Any, /, *, copy: bool = False) -> int:
        """Append bytes-like `data`; returns the number of bytes accepted."""
        mv = as_buffer(data)
        self._live.write(mv, borrow=not copy)
        return mv.nbytes

    def reserve(self, size: int, /) -> memoryview:
        """A writable zero-filled buffer of `size` bytes to fill in place; `commit(n)` sends its first n."""
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        _ = self._live  # raises once closed
        self._reserved = ReservedBuffer(size)
        return memoryview(self._reserved)

    def commit(self, nbytes: int, /) -> None:
        """Append the first `nbytes` of the reserved buffer (no copy for whole parts)."""
        buf = self._reserved
        if buf is None:
            raise S3dlioError(f"commit() without a reserve() on {self.uri}", self.uri)
        if nbytes < 0 or nbytes > len(buf):
            raise ValueError(f"commit({nbytes}) exceeds the {len(buf)} bytes reserved")
        self._reserved = None
        self._live.write(memoryview(buf)[:nbytes], borrow=True)

    def flush(self) -> None:
        """Send buffered bytes as a part now (only the last part may be under 5 MiB)."""
        self._live.flush()

    @property
    def bytes_written(self) -> int:
        return self._coord.total_bytes if self._coord is not None else 0

    # ---- ending ----
    def close(self) -> dict[str, Any]:
        """Finish the upload; returns {'etag', 'total_bytes', 'parts', 'started_at', 'completed_at'}."""
        if self._result is not None:
            return self._result
        result = self._live.finish()
        if self._store.settings.mpu_put_verify:
            verify_size(self._u, result["total_bytes"], lambda: self._store._stat(self._u))
        self._result = {k: result[k] for k in ("etag", "total_bytes", "parts", "started_at", "completed_at")}
        return self._result

    def abort(self) -> None:
        """Abort the upload: no object appears, no parts remain. Never raises."""
        if self._coord is not None:
            self._coord.abort()

    def __enter__(self) -> MultipartUploadWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        c = getattr(self, "_coord", None)
        if c is not None and not c.done and getattr(self, "abort_on_drop", True):
            try:
                c.abort()
            except Exception:
                pass
