"""Multipart upload coordination shared by the backends: cut a stream into parts, upload several in
parallel (bounded), complete in order, and abort on any failure so no parts and no partial object remain.

A backend supplies a `PartSink` (create / upload_part / complete / abort) and says what its service
allows: the smallest part (`min_part_size`: S3's 5 MiB, GCS's 256 KiB), the multiple every part but the
last must be (`part_quantum`) and whether parts must go up one at a time, in order (`sequential`: a GCS
resumable session). Part size: 16 MiB by default, never below the sink's minimum, and it grows so that an
object stays under 10,000 parts (known size: chosen up front; streaming: doubled after every 1,000 parts).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any, Protocol

from s3dlio_core.bytes_view import BytesView
from s3dlio_core.concurrency import shared_executor

__all__ = ["PartSink", "MultipartCoordinator", "part_size_for", "default_max_in_flight", "MIN_PART_SIZE",
           "MAX_PARTS", "DEFAULT_PART_SIZE"]

MiB = 1 << 20
MIN_PART_SIZE = 5 * MiB
DEFAULT_PART_SIZE = 16 * MiB
MAX_PARTS = 10_000
GROW_EVERY = 1_000  # streaming: double the part size after this many parts
OWNED_IN_FLIGHT = 2  # copied part buffers in flight once the stream lends large buffers (write_borrowed)


class PartSink(Protocol):
    """The service calls behind one multipart upload (see the module docstring)."""

    min_part_size: int
    part_quantum: int
    sequential: bool

    def create(self) -> str: ...

    def upload_part(self, upload_id: str, number: int, data: memoryview) -> str: ...

    def complete(self, upload_id: str, parts: list[tuple[int, str]]) -> str | None: ...

    def abort(self, upload_id: str) -> None: ...


def part_size_for(total: int | None, requested: int | None = None, minimum: int = MIN_PART_SIZE,
                  quantum: int = 1) -> int:
    """The part size to use: `requested` (default 16 MiB), at least `minimum`, a multiple of `quantum`
    (rounded down), large enough for `total` to fit in 10,000 parts (then rounded up to a whole MiB)."""
    size = max(minimum, requested or DEFAULT_PART_SIZE)
    if quantum > 1:
        size = max(quantum, size // quantum * quantum)
    if total is not None and total > size * MAX_PARTS:
        need = -(-total // MAX_PARTS)
        size = -(-need // MiB) * MiB
    return size


def default_max_in_flight(part_size: int) -> int:
    """max(32, ceil(512 MiB / part_size)), the original's default."""
    return max(32, -(-(512 * MiB) // part_size))


class MultipartCoordinator:
    """Streams bytes into parts on the shared "parts" pool with at most `max_in_flight` in flight.

    `lazy=True` creates the upload only when the first full part is ready, so `finish()` on a small
    stream returns the buffered bytes for a single PUT instead (`finish()` result has 'single').
    """

    def __init__(self, sink: PartSink, part_size: int | None = None, max_in_flight: int | None = None,
                 lazy: bool = False, total: int | None = None) -> None:
        self.sink = sink
        self.part_size = part_size_for(total, part_size, sink.min_part_size, sink.part_quantum)
        self._grow = total is None
        self.max_in_flight = 1 if sink.sequential else (max_in_flight or default_max_in_flight(self.part_size))
        self._slots = threading.BoundedSemaphore(self.max_in_flight)
        # once large borrowed buffers arrive (a checkpoint save), at most OWNED_IN_FLIGHT copied part buffers
        # are in flight, so the copies a save holds stay a couple of (small) parts whatever the tensor count
        self._lending = False
        self._owned = threading.BoundedSemaphore(OWNED_IN_FLIGHT)
        self._lock = threading.Lock()
        self.upload_id: str | None = None
        self._parts: dict[int, str] = {}
        self._futures: list[Future[None]] = []
        self._error: BaseException | None = None
        self._number = 0
        self._buf: BytesView | None = None
        self._fill = 0
        self.total_bytes = 0
        self.started_at = time.time()
        self.done = False
        if not lazy:
            self.upload_id = sink.create()

    # ---- feeding ----
    def write(self, mv: memoryview, borrow: bool = False) -> None:
        """Append `mv`. With `borrow`, whole parts are uploaded straight from it (the caller keeps it
        unchanged until finish/abort); otherwise bytes are copied into the part buffer."""
        self._check()
        n = mv.nbytes
        self.total_bytes += n
        # a large borrowed buffer on a stream (a tensor's storage after torch.save's record header): end the
        # buffered part early, topped up only to the smallest part the service takes, and send the buffer's
        # remainder, tail included when the service takes it as a part, straight from the caller's memory,
        # so the copies in flight stay a few MiB however large the tensors (parts vary in size; the streaming
        # part-size growth keeps even this under 10,000 parts for a 1 TB stream)
        big = borrow and self._grow and n >= 2 * self.part_size
        if big:
            self._lending = True
        q = self.sink.part_quantum
        while mv.nbytes:
            ps = self.part_size
            if big and self._fill:
                want = max(self.sink.min_part_size, self._fill)
                if q > 1:
                    want = -(-want // q) * q
                k = min(max(0, min(want, ps) - self._fill), mv.nbytes)
                assert self._buf is not None
                self._buf[self._fill:self._fill + k] = mv[:k]
                self._fill += k
                mv = mv[k:]
                self._submit_buffer()
                continue
            if self._fill == 0 and borrow and mv.nbytes >= ps:
                self._submit(mv[:ps])
                mv = mv[ps:]
                continue
            if big and self._fill == 0 and mv.nbytes >= max(self.sink.min_part_size, q):
                k = mv.nbytes if q == 1 else mv.nbytes // q * q
                self._submit(mv[:k])
                mv = mv[k:]
                continue
            if self._buf is None:
                self._buf = BytesView.allocate(ps)
            k = min(ps - self._fill, mv.nbytes)
            self._buf[self._fill:self._fill + k] = mv[:k]
            self._fill += k
            mv = mv[k:]
            if self._fill == ps:
                self._submit_buffer()

    def flush(self) -> None:
        """Send what is buffered as a (short) part now. S3 rejects a non-last part under 5 MiB at
        completion, so flushing less than that is only safe right before finishing."""
        self._check()
        if self._fill:
            self._submit_buffer()

    def _submit_buffer(self) -> None:
        buf, fill = self._buf, self._fill
        self._buf, self._fill = None, 0
        assert buf is not None
        owned = self._lending
        if owned:
            self._owned.acquire()
        try:
            self._submit(memoryview(buf)[:fill], owned)
        except BaseException:
            if owned:
                self._owned.release()
            raise

    def _submit(self, data: memoryview, owned: bool = False) -> None:
        if self.upload_id is None:
            self.upload_id = self.sink.create()
        self._number += 1
        number = self._number
        if self._grow and number % GROW_EVERY == 0:
            self.part_size *= 2
        self._slots.acquire()
        if self._error is not None:
            self._slots.release()
            self._check()
        try:
            f = shared_executor("parts").submit(self._upload, number, data, owned)
        except BaseException:
            self._slots.release()
            raise
        self._futures.append(f)

    def _upload(self, number: int, data: memoryview, owned: bool = False) -> None:
        try:
            if self._error is None:
                etag = self.sink.upload_part(self.upload_id, number, data)  # type: ignore[arg-type]
                with self._lock:
                    self._parts[number] = etag
        except BaseException as e:
            with self._lock:
                if self._error is None:
                    self._error = e
        finally:
            self._slots.release()
            if owned:
                self._owned.release()

    def _check(self) -> None:
        if self.done:
            raise ValueError("the multipart upload is already finished or aborted")
        if self._error is not None:
            err = self._error
            self.abort()
            raise err

    # ---- ending ----
    def finish(self) -> dict[str, Any]:
        """Upload the last part, wait for all, complete. Any failure aborts the upload and re-raises.

        Returns {'etag', 'parts', 'total_bytes', 'started_at', 'completed_at'}, or, for a lazy
        coordinator that never started an upload, {'single': memoryview of the buffered bytes, ...}.
        """
        self._check()
        if self.upload_id is None:
            self.done = True
            data = memoryview(self._buf)[:self._fill] if self._buf is not None else memoryview(b"")
            return {"single": data, "total_bytes": self.total_bytes, "parts": 0,
                    "started_at": self.started_at, "completed_at": time.time(), "etag": None}
        try:
            if self._fill or self._number == 0:
                if self._buf is None:
                    self._buf = BytesView.allocate(0)
                self._submit_buffer()
            for f in self._futures:
                f.result()
            if self._error is not None:
                raise self._error
            parts = sorted(self._parts.items())
            etag = self.sink.complete(self.upload_id, parts)
        except BaseException:
            self.abort()
            raise
        self.done = True
        return {"etag": etag, "parts": len(parts), "total_bytes": self.total_bytes,
                "started_at": self.started_at, "completed_at": time.time()}

    def abort(self) -> None:
        """Stop, wait for running parts, and abort the upload (best effort; never raises)."""
        if self.done:
            return
        self.done = True
        with self._lock:
            if self._error is None:
                self._error = _Aborted()
        for f in self._futures:
            f.cancel()
        for f in self._futures:
            if not f.cancelled():
                try:
                    f.result()
                except BaseException:
                    pass
        self._buf = None
        if self.upload_id is not None:
            try:
                self.sink.abort(self.upload_id)
            except Exception:
                pass


class _Aborted(Exception):
    pass
