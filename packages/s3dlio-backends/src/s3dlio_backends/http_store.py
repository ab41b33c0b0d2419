"""HttpObjectStore: the templates every HTTP object store (S3, GCS, Azure Blob) shares, written once.

A backend supplies three primitives and this class does the rest:

* `_open_range(u, offset, length, pin, consume, attempt)`: send one ranged GET (to the end when `length`
  is None; `offset < 0` asks for the last `-offset` bytes) and return `consume(body)`, where `body` is a
  `RangeBody` over the response. With `pin` (an ETag or a generation) the range must come from that
  version of the object, else `http_errors.object_changed`. The backend finishes the response after
  `consume` (connection reused when the body was read to its end, closed otherwise).
* `_put_one(u, data)`: one PUT of the whole body.
* `_part_sink(u)`: the multipart primitives (multipart.PartSink) of one object: S3's parts, Azure's
  staged blocks, GCS's resumable chunks.

Templates:

* Reads (`_get`, `_get_range`, `_get_into`, `_get_range_into`, `_get_suffix`): the first request asks for
  up to S3DLIO_RANGE_THRESHOLD_MB bytes; its answer (Content-Range) tells the object's size, its body is
  read in place while the rest arrives as concurrent ranges pinned to the first answer's version, all
  into one buffer (the caller's, or a new BytesView). With S3DLIO_ENABLE_RANGE_OPTIMIZATION=0 it is one
  request. A server that ignores Range, or a body of unknown length, is read whole and sliced.
* Writes (`_put`, `_open_writer`): up to S3DLIO_MULTIPART_THRESHOLD_MB one PUT (verified with
  S3DLIO_PUT_VERIFY); above it a parallel multipart upload straight from the caller's buffer, then the
  S3DLIO_MPU_PUT_VERIFY size check. The streaming writer buffers parts on the same coordinator: a small
  stream becomes one PUT by the same decision, a large one a multipart upload (size-checked the same way).
  Nothing is visible before the upload completes; a failure aborts it.

Tunables come from `self.settings` (the process settings with the store's config laid over them).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from s3dlio_core import instrument as _ins
from s3dlio_core.bucket_store import BucketStore
from s3dlio_core.bytes_view import BytesView
from s3dlio_core.errors import InvalidUriError, StorageIOError
from s3dlio_core.settings import Settings
from s3dlio_core.store import ObjectWriter
from s3dlio_core.uri import ObjectUri

from ._put_verify import put_verified, verify_size
from .http_errors import length_mismatch, object_changed
from .multipart import MultipartCoordinator, PartSink
from .range_get import read_with_rest

__all__ = ["HttpObjectStore", "HttpObjectWriter", "RangeBody", "range_header", "content_range_total",
           "MAX_RANGE_END"]

R = TypeVar("R")
#: a range end beyond this is "to the end of the object" (no object is 2**62 bytes; servers choke on 2**64)
MAX_RANGE_END = 1 << 62


class RangeBody(Protocol):
    """The answer to one ranged GET, as a backend hands it to `consume`."""

    total: int  # the object's full size (from Content-Range; the body length for a whole-object answer)
    length: int  # body bytes that follow (-1: unknown, read to the end with read_all)
    whole: bool  # the server ignored the range: the body is the whole object from byte 0
    encoded: bool  # a content-encoding was applied: `length` does not describe the decoded bytes

    @property
    def pin(self) -> str | None:
        """The version later ranges must come from (ETag, generation)."""

    def readinto(self, mv: memoryview) -> None:
        """Fill `mv` exactly with the next body bytes (http_errors.short_body if the body ends first)."""

    def read_all(self) -> Any:
        """The rest of the body as a bytes-like object."""


def range_header(offset: int, length: int | None) -> str | None:
    """The Range header value for `length` bytes from `offset`; `offset < 0` is a suffix of `-offset` bytes;
    None (no header) for the whole object."""
    if offset < 0:
        return f"bytes={offset}"
    if length is None or offset + length > MAX_RANGE_END:
        return f"bytes={offset}-" if offset else None
    return f"bytes={offset}-{offset + length - 1}"


def content_range_total(value: str | None) -> int | None:
    """The object size a Content-Range states ('bytes 0-99/1234', 'bytes */1234'); None for '/*' or none."""
    if not value:
        return None
    total = value.rpartition("/")[2]
    return int(total) if total.isdigit() else None


class HttpObjectStore(BucketStore):
    """Base of the S3, GCS and Azure stores (see the module docstring)."""

    #: the service answers `Range: bytes=-N` (the last N bytes) in one request
    suffix_ranges = True


    # ---------------------------------------------------------------- primitives of a backend
    @abstractmethod
    def _open_range(self, u: ObjectUri, offset: int, length: int | None, pin: str | None,
                    consume: Callable[[RangeBody], R], attempt: int = 1) -> R:
        """One ranged GET whose answer goes to `consume` (see the module docstring). A range that starts
        at or past the end of the object (HTTP 416) gives a body with `length` 0."""

    @abstractmethod
    def _put_one(self, u: ObjectUri, data: memoryview) -> None:
        """One PUT of `data` as the whole object."""

    @abstractmethod
    def _part_sink(self, u: ObjectUri, total: int | None = None) -> PartSink:
        """The multipart primitives of one object (`total`: its size, when known up front)."""

    def _check_object(self, u: ObjectUri) -> None:
        """Raise InvalidUriError if `u` names no object (a backend with another addressing overrides it)."""
        if not u.key:
            raise InvalidUriError(f"no object name in {u.uri}", u.uri)

    # ---------------------------------------------------------------- reads
    def _get(self, u: ObjectUri) -> BytesView:
        return self._read(u, 0, None, None)  # type: ignore[return-value]

    def _get_range(self, u: ObjectUri, offset: int, length: int | None) -> BytesView:
        return self._read(u, offset, length, None)  # type: ignore[return-value]

    def _get_into(self, u: ObjectUri, dst: memoryview) -> int:
        return self._read(u, 0, None, dst)  # type: ignore[return-value]

    def _get_range_into(self, u: ObjectUri, offset: int, dst: memoryview) -> int:
        return self._read(u, offset, dst.nbytes, dst)  # type: ignore[return-value]

    def _get_suffix(self, u: ObjectUri, length: int) -> BytesView:
        """The last `length` bytes in one request (`bytes=-N`) where the service allows it."""
        self._check_object(u)
        if length <= 0:
            self._stat(u)
            return BytesView()
        if not self.suffix_ranges:
            size = self._stat(u)["size"]
            start = max(0, size - length)
            return self._get_range(u, start, size - start)

        def consume(body: RangeBody) -> BytesView:
            if _ins.ACTIVE:
                _ins.mark_first_byte()
            if body.length < 0 or body.encoded or body.whole:
                data = memoryview(body.read_all())
                return BytesView.wrap(data[max(0, data.nbytes - length):])
            v = BytesView.allocate(body.length)
            mv = memoryview(v)
            try:
                body.readinto(mv)
            finally:
                mv.release()
            return v

        return self._open_range(u, -length, None, None, consume)

    def _read(self, u: ObjectUri, offset: int, length: int | None, dst: memoryview | None,
              attempt: int = 1) -> BytesView | int:
        """`length` bytes from `offset` (to the end when None): a new BytesView, or into `dst` (then the
        count is returned; LengthMismatchError when the bytes do not fit)."""
        self._check_object(u)
        if length is not None and offset + length > MAX_RANGE_END:
            length = None  # "to the end": no object is this large
        if length == 0:
            self._stat(u)  # a zero-length read still needs the object to exist
            return BytesView() if dst is None else 0
        s = self.settings
        first = length
        if s.enable_range_optimization:
            first = s.range_threshold if length is None else min(length, s.range_threshold)
        return self._open_range(u, offset, first, None,
                                lambda body: self._fill(u, body, offset, length, dst, s), attempt)

    def _fill(self, u: ObjectUri, body: RangeBody, offset: int, length: int | None, dst: memoryview | None,
              s: Settings) -> BytesView | int:
        """Read the first answer's body in place and fetch the rest of [offset, offset+length) as pinned
        concurrent ranges into the same buffer."""
        if _ins.ACTIVE:  # response headers are in: the op-log's first byte
            _ins.mark_first_byte()
        blen = body.length
        total = body.total
        end = total if length is None else min(total, offset + length)
        n = max(0, end - offset)
        if blen < 0 or body.encoded or (body.whole and (offset or blen > n)):
            data = memoryview(body.read_all())  # a body we cannot place: read it whole, then slice
            if body.whole:
                data = data[offset:]
            return self._deliver(u, data if length is None else data[:length], dst)
        if blen > n:
            raise StorageIOError(f"GET failed for {u.uri}: the response has {blen} bytes for a range of {n}",
                                 u.uri)
        if dst is not None and n > dst.nbytes:
            raise length_mismatch(u.uri, dst.nbytes, n)
        v = BytesView.allocate(n) if dst is None else None
        mv = memoryview(v) if v is not None else dst[:n]  # type: ignore[index]
        try:
            if blen == n:  # all of it in the first answer (every small object)
                if n:
                    body.readinto(mv)
            else:
                read_with_rest(lambda: body.readinto(mv[:blen]),
                               lambda o, m: self._fetch_range_into(u, o, m, body.pin),
                               mv, offset, offset + blen, end, total, s)
        finally:
            if v is not None:
                mv.release()  # a buffer with live exports cannot be resized by its owner later
        return v if v is not None else n

    def _fetch_range_into(self, u: ObjectUri, offset: int, dst: memoryview, pin: str | None) -> None:
        """Fill `dst` with the object's bytes from `offset`, from the version `pin` names (one request)."""
        want = dst.nbytes

        def consume(body: RangeBody) -> None:
            if body.whole or body.length != want:
                raise object_changed(u.uri, f"asked for {want} bytes at {offset}, the answer has {body.length}")
            body.readinto(dst)

        self._open_range(u, offset, want, pin, consume)

    @staticmethod
    def _deliver(u: ObjectUri, data: memoryview, dst: memoryview | None) -> BytesView | int:
        if dst is None:
            return BytesView.wrap(data)
        if data.nbytes > dst.nbytes:
            raise length_mismatch(u.uri, dst.nbytes, data.nbytes)
        dst[:data.nbytes] = data
        return data.nbytes

    # ---------------------------------------------------------------- writes
    def _put(self, u: ObjectUri, data: memoryview) -> None:
        self._check_object(u)
        self._put_buffer(u, data, self.settings)

    def _put_buffer(self, u: ObjectUri, data: memoryview, s: Settings) -> None:
        """The "put one object" decision (see the module docstring)."""
        if data.nbytes > s.multipart_threshold:
            coord = self._coordinator(u, s, total=data.nbytes)
            try:
                coord.write(data, borrow=True)  # parts go up straight from slices of `data`
                coord.finish()
            except BaseException:
                coord.abort()
                raise
            if s.mpu_put_verify:
                verify_size(u, data.nbytes, lambda: self._stat(u))
        elif s.put_verify:
            put_verified(u, data, lambda: self._put_one(u, data), lambda: self._stat(u),
                         lambda: self._delete(u), s)
        else:
            self._put_one(u, data)

    def _coordinator(self, u: ObjectUri, s: Settings, *, lazy: bool = False, total: int | None = None
                     ) -> MultipartCoordinator:
        return MultipartCoordinator(self._part_sink(u, total), s.multipart_part_size,
                                    s.multipart_max_in_flight or None, lazy=lazy, total=total)

    def _open_writer(self, u: ObjectUri) -> ObjectWriter:
        self._check_object(u)
        return HttpObjectWriter(self, u)


class HttpObjectWriter(ObjectWriter):
    """A streaming writer: parts go up in parallel while writing continues; a stream smaller than one part
    becomes one PUT at close, by the store's "put one object" decision. Nothing is visible until `close()`;
    with S3DLIO_MPU_PUT_VERIFY a multipart result is size-checked."""

    def __init__(self, store: HttpObjectStore, u: ObjectUri) -> None:
        super().__init__(u.uri)
        self._store = store
        self._u = u
        self._settings = store.settings
        self._coord = store._coordinator(u, self._settings, lazy=True)

    def _write(self, mv: memoryview) -> None:
        self._coord.write(mv)

    def _write_borrowed(self, mv: memoryview) -> None:
        self._coord.write(mv, borrow=True)  # whole parts go up straight from the caller's buffer

    def _commit(self) -> None:
        result = self._coord.finish()
        if "single" in result:
            self._store._put_buffer(self._u, result["single"], self._settings)
        elif self._settings.mpu_put_verify:
            verify_size(self._u, result["total_bytes"], lambda: self._store._stat(self._u))

    def _abort(self) -> None:
        self._coord.abort()
