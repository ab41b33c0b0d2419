"""Many GETs from one thread: `MuxGet` drives up to `max_in_flight` keep-alive sockets with a selector
(epoll), so a batch of small objects costs no thread hand-offs and no GIL contention.

* Each socket carries one request at a time; the response head is parsed from the connection's buffer and
  the body is received straight into the object's BytesView.
* Requests start with a small window that grows with each small object completed (slow start), unless
  the pool's previous batch saw only small bodies (`pool.small_bodies`): then the batch starts at its full
  window. A loader fetching a DataLoader batch of 32 small objects at a time would otherwise spend each
  batch ramping up (measured: 63 batches of 32 x 128 KiB took 0.69-0.73 s and 0.26-0.33 CPU-s slow-started,
  0.56-0.58 s and 0.20-0.23 CPU-s at the full window, the same as one call of 2,000).
* A body of THREADED_BODY bytes or more ends the multiplexing: large bodies are cheaper as one blocking
  MSG_WAITALL read each on a worker thread (measured ~1.5x for 16 MiB objects) than as many readiness
  events here. The batch stops sending, collects the heads already on the way, and then finishes on
  `max_in_flight` workers: first the bodies already started (detached sockets), then the rest of the
  batch as plain GETs.
* Objects larger than the first request's range get their tail from parallel range requests while the
  socket reads the first part.
* Anything out of the ordinary (an error status, a broken or timed-out connection, a URI that cannot be
  sent on this pool) is handed to the threaded path, which owns retries (the attempt already made is
  counted) and typed errors, so behaviour is that of `get` one by one. A keep-alive socket the server had
  closed is replaced and the request resent once, without using an attempt.
* Attached observers (op-log, statistics) get one record per object.
* The endpoint's adaptive in-flight limit (retry.py; the backend's `limit`) governs the window too: a
  request takes a slot before it is sent and gives it back when its answer's head is in, reporting the
  answer (a 503 SlowDown cuts the limit). The loop never waits for a slot: a socket that cannot get one
  rests until one of this batch's answers frees a slot (and if other threads hold them all and nothing
  of this batch is on the wire, the rest of the batch goes to the threaded path, which waits its turn).
* A redirect (S3DLIO_FOLLOW_REDIRECTS on) sends that object and the rest of the batch to the threaded
  path, which follows it (an endpoint that redirects one GET redirects them all), no attempt counted.

`MuxGet` knows no store: `MuxBackend` carries what it needs (the pool, a request builder, a fallback
getter, a range fetcher, the error classifier). `S3MuxBackend` builds one from an S3 client (or, in
`for_store`, from an S3 store's client and methods), and `mux_get_many` is the entry point the S3 store
calls.
"""

from __future__ import annotations

import enum
import selectors
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from s3dlio_core import instrument as _ins
from s3dlio_core.adaptive import AdaptiveLimit
from s3dlio_core.bytes_view import BytesView
from s3dlio_core.concurrency import bounded_map
from s3dlio_core.errors import LengthMismatchError, StorageIOError, length_mismatch
from s3dlio_core.settings import Settings, settings
from s3dlio_core.uri import parse_uri

from ..http_pool import _MAX_HEAD, HEAD_READ, HttpConnection, HttpResponseHead, ProtocolError
from ..range_get import RangeFetch, chunk_size_for, concurrency_for, plan_chunks
from ..retry import Retry, absorbs_throttle, classify, settle, sleep_before_retry
from .client import _EXPIRED
from .redirect import REDIRECT_STATUSES
from .xml_codec import parse_error

__all__ = ["MuxGet", "MuxBackend", "S3MuxBackend", "Verdict", "mux_get_many", "mux_get_many_into", "THREADED_BODY",
           "INITIAL_WINDOW"]

THREADED_BODY = 256 * 1024  # a body this large switches the batch to one thread per request
INITIAL_WINDOW = 4  # requests on the wire at first; each small object that completes opens one more


class Verdict(enum.Enum):
    """What an error answer deserves."""

    FATAL = 0  # the batch fails with this error
    RETRY = 1  # another attempt on the threaded path (this one counted)
    THROTTLED = 2  # likewise, after a longer back-off
    AGAIN = 3  # resend without counting an attempt (e.g. credentials were refreshed)
    ELSEWHERE = 4  # the threaded path takes it and the rest of the batch, no attempt counted (a redirect)


class MuxBackend(Protocol):
    """What MuxGet needs from the store it serves (plus, optionally, `limit`: the endpoint's AdaptiveLimit,
    or None)."""

    pool: Any  # acquire() / fresh() / release(conn): HttpConnections to the one host every request goes to
    timeout: float  # seconds without progress on any socket before the requests in flight time out
    max_attempts: int  # attempts per object, the first one included
    tunables: Settings | None  # the store's settings (range chunking); None: the process settings

    def request(self, uri: str) -> bytes | None:
        """The head of a GET for `uri` to send on `pool`, or None if it cannot go there."""

    def fallback(self, uri: str, first_attempt: int) -> BytesView:
        """The whole object by the threaded path (`first_attempt` > 1: that many - 1 were made here)."""

    def fetch_range(self, uri: str, offset: int, dst: memoryview, etag: str | None) -> None:
        """Fill `dst` with the object's bytes from `offset` (pinned to `etag`)."""

    def judge(self, uri: str, status: int, body: bytes) -> tuple[BaseException, Verdict]:
        """The typed error of an error answer and what to do about it."""


class _Slot:
    """One socket and the request it carries."""

    __slots__ = ("conn", "epoch", "got", "head", "held", "idx", "job", "mv", "need", "registered", "t0", "t1",
                 "view")

    def __init__(self, conn: HttpConnection) -> None:
        self.conn = conn
        self.registered = False
        self.held = False  # a slot of the adaptive limit, from the send until the answer's head
        self.epoch = 0  # the limit's epoch when it was taken
        self.reset()

    def reset(self) -> None:
        self.idx = -1
        self.head: HttpResponseHead | None = None
        self.view: BytesView | None = None
        self.mv: memoryview | None = None
        self.got = 0
        self.need = 0
        self.job: RangeFetch | None = None
        self.t0 = 0  # request sent (time.time_ns), for observers
        self.t1 = 0  # response head received


@dataclass
class _Detached:
    """A body being finished by a blocking read on a worker (its slot has a new socket)."""

    idx: int
    conn: HttpConnection
    view: BytesView
    rest: memoryview
    job: RangeFetch | None
    t0: int
    t1: int
    done: bool = False


class MuxGet:
    """One `get_many` batch: `MuxGet(uris, max_in_flight, backend).run()` returns `[(uri, data)]` in input
    order, or raises the first failure (typed, after the threaded path's retries)."""

    def __init__(self, uris: Sequence[str], max_in_flight: int, backend: MuxBackend, *,
                 selector: selectors.BaseSelector | None = None, dsts: Sequence[memoryview] | None = None) -> None:
        self.uris = uris
        self.dsts = dsts  # get_many_into: each body lands in the caller's buffer (1-D bytes, its exact size)
        self.max_in_flight = max_in_flight
        self.b = backend
        self.pool = backend.pool
        self.sel = selector if selector is not None else selectors.DefaultSelector()
        n = len(uris)
        self.results: list[Any] = [None] * n
        self.queue: deque[int] = deque(range(n))
        self.fallback: list[tuple[int, BaseException | None, bool]] = []  # (index, error, throttled)
        self.fatal: list[BaseException] = []
        self.detached: list[_Detached] = []
        self.jobs: list[tuple[int, RangeFetch, int, int]] = []  # range tails still arriving
        self.threaded = False  # a large body was seen: send no more here
        self.resent: set[int] = set()  # requests resent after a stale keep-alive socket
        self.absorbed: set[int] = set()  # throttled here, the adaptive limit answering for it (retry.py)
        self.tracing = bool(_ins.ACTIVE)
        self.limit: AdaptiveLimit | None = getattr(backend, "limit", None)
        self.slots = [_Slot(self.pool.acquire()) for _ in range(min(max_in_flight, n))]
        for slot in self.slots:
            if slot.conn.sock is not None:
                slot.conn.sock.setblocking(False)
        start = len(self.slots) if getattr(self.pool, "small_bodies", False) else INITIAL_WINDOW
        self.window = min(len(self.slots), start)
        self.idle = self.slots[self.window:][::-1]

    # ------------------------------------------------------------------ the loop
    def run(self) -> list[tuple[str, BytesView]]:
        try:
            for slot in self.slots[:self.window]:
                self.start_next(slot)
            while any(sl.registered for sl in self.slots):
                events = self.sel.select(self.b.timeout)
                if not events:
                    self.on_timeout()
                    break
                for key, _ in events:
                    self.on_readable(key.data)
        except BaseException:
            self.abandon()
            raise
        finally:
            self.close_slots()
        # what the next batch on this pool may assume: only small whole bodies here (no detached body,
        # no range tail, nothing handed to the threaded path for size), so it need not slow-start
        self.pool.small_bodies = not self.threaded and not self.jobs and not self.detached
        return self.finish()

    # ------------------------------------------------------------------ events
    def send(self, slot: _Slot, i: int) -> bool:
        """Send request `i` on the slot's socket (a fresh one if that fails once); False: not here."""
        try:
            head = self.b.request(self.uris[i])
        except Exception:
            return False
        if head is None:
            return False
        conn = slot.conn
        for _attempt in range(2):
            try:
                if conn.sock is None:
                    conn.connect().setblocking(False)
                if not slot.registered:
                    self.sel.register(conn.sock, selectors.EVENT_READ, slot)
                    slot.registered = True
                if conn.sock.send(head) == len(head):
                    slot.idx = i
                    if self.tracing:
                        slot.t0 = time.time_ns()
                    return True
            except OSError:
                pass
            self.unregister(slot)
            conn.close()
            slot.conn = conn = self.pool.fresh()
        return False

    def start_next(self, slot: _Slot) -> bool:
        """Put the next queued request on this socket (True), or let the socket rest: nothing left to
        send here, or no slot free in the adaptive limit (then it waits in `idle` for one)."""
        lim = self.limit
        while self.queue and not self.fatal and not self.threaded:
            if lim is not None and not slot.held:
                if not lim.acquire(0):
                    self.unregister(slot)
                    self.idle.append(slot)
                    return False
                slot.held = True
                slot.epoch = lim.epoch
            i = self.queue.popleft()
            if self.send(slot, i):
                return True
            self.fallback.append((i, None, False))
        self.unregister(slot)
        if slot.held:
            self.give(slot, Retry.YES)
        return False

    def on_readable(self, slot: _Slot) -> None:
        if slot.head is None:
            self.on_head_bytes(slot)
        else:
            self.on_body_bytes(slot)

    def on_head_bytes(self, slot: _Slot) -> None:
        """Bytes of a response head arrived (or the socket closed)."""
        conn = slot.conn
        if conn.start == conn.end:
            conn.start = conn.end = 0
        elif conn.end == len(conn.buf):
            k = conn.end - conn.start
            conn.buf[:k] = conn.buf[conn.start:conn.end]
            conn.start, conn.end = 0, k
        try:
            k = conn.sock.recv_into(conn.mv[conn.end:conn.end + HEAD_READ])
        except BlockingIOError:
            return
        except OSError:
            k = -1
        if k <= 0:
            self.on_broken(slot, before_response=conn.start == conn.end)
            return
        conn.end += k
        while True:
            at = conn.buf.find(b"\r\n\r\n", conn.start, conn.end)
            if at < 0:
                if conn.end - conn.start > _MAX_HEAD:
                    self.drop(slot)
                    self.start_next(slot)
                return
            try:
                head = conn.take_head(at)
            except ProtocolError:
                self.drop(slot)
                self.start_next(slot)
                return
            if head is not None:
                break
        self.on_head(slot, head)

    def on_head(self, slot: _Slot, head: HttpResponseHead) -> None:
        """A whole response head: set up the body's destination."""
        cl = head.get("content-length")
        if not (200 <= head.status < 300) or cl is None:
            self.on_error_status(slot, head, cl)
            return
        if slot.held:
            self.give(slot, Retry.NO)
            if self.idle:  # the freed slot may start a socket that was waiting for one
                self.refill()
        if self.tracing:
            slot.t1 = time.time_ns()
        conn = slot.conn
        body = int(cl)
        total = body
        cr = head.get("content-range")
        if head.status == 206 and cr:
            t = cr.rpartition("/")[2]
            total = int(t) if t.isdigit() else body
        view: Any
        if self.dsts is None:
            view = BytesView.allocate(total)
            mv = memoryview(view)
        else:
            view = mv = self.dsts[slot.idx]
            if mv.nbytes != total:
                self.fail(slot, self.mismatch(slot.idx, total))
                return
        if total > body:
            uri = self.uris[slot.idx]
            etag = head.get("etag")
            fetch = self.b.fetch_range
            tun = self.b.tunables
            slot.job = RangeFetch(lambda off, dst: fetch(uri, off, dst, etag), mv, 0,
                                  plan_chunks(body, total, chunk_size_for(total, tun)), concurrency_for(total, tun))
        slot.head, slot.view, slot.mv, slot.need = head, view, mv[:body], body
        avail = conn.end - conn.start
        if avail:
            k = avail if avail < body else body
            slot.mv[:k] = conn.mv[conn.start:conn.start + k]
            conn.start += k
            slot.got = k
        if body - slot.got >= THREADED_BODY:
            self.detach(slot)
            return
        if slot.got >= slot.need:
            self.on_complete(slot)

    def on_body_bytes(self, slot: _Slot) -> None:
        """More of a small body arrived (or the socket closed)."""
        try:
            k = slot.conn.sock.recv_into(slot.mv[slot.got:])  # type: ignore[index]
        except BlockingIOError:
            return
        except OSError:
            k = 0
        if k == 0:
            self.on_broken(slot, before_response=False)
            return
        slot.got += k
        if slot.got >= slot.need:
            self.on_complete(slot)

    def on_complete(self, slot: _Slot) -> None:
        """One object complete: store it, reuse the socket if the server allows."""
        i = slot.idx
        conn = slot.conn
        self.results[i] = (self.uris[i], slot.view)
        if slot.job is not None:
            self.jobs.append((i, slot.job, slot.t0, slot.t1))
        elif self.tracing:
            self.record(i, slot.t0, slot.t1, slot.need)
        conn.used += 1
        reusable = conn.reusable and conn.start == conn.end
        slot.reset()
        if not reusable:
            self.unregister(slot)
            conn.close()
            slot.conn = self.pool.fresh()
        self.start_next(slot)
        if self.idle:
            self.widen()

    def on_broken(self, slot: _Slot, before_response: bool) -> None:
        """The socket closed or failed. Nothing of an answer yet on a reused keep-alive socket: the server
        had closed it while idle, so resend once on a fresh one; else the attempt is used up."""
        i = slot.idx
        if before_response and slot.conn.used > 0 and i not in self.resent:
            self.drop(slot, hand_back=False)
            self.resent.add(i)
            self.queue.appendleft(i)
            self.start_next(slot)
            return
        self.drop(slot, self.lost(i))
        self.start_next(slot)

    def on_error_status(self, slot: _Slot, head: HttpResponseHead, cl: str | None) -> None:
        """A non-2xx answer (or one without Content-Length): retryable ones go to the threaded path with
        the attempt counted, others fail the batch."""
        status = head.status
        conn = slot.conn
        buffered = cl is not None and cl.isdigit() and conn.end - conn.start >= int(cl)
        if status == 416 and buffered:  # bytes=0-N of an empty object: skip the error body, reuse the socket
            if slot.held:
                self.give(slot, Retry.NO)
            conn.start += int(cl)  # type: ignore[arg-type]
            if self.dsts is not None and self.dsts[slot.idx].nbytes:
                self.fail(slot, self.mismatch(slot.idx, 0))
                return
            slot.view, slot.need = (BytesView() if self.dsts is None else self.dsts[slot.idx]), 0  # type: ignore[assignment]
            self.on_complete(slot)
            return
        if status == 416 or 200 <= status < 300:  # a body we do not frame here: the threaded path does
            self.drop(slot)
            self.start_next(slot)
            return
        body = bytes(conn.buf[conn.start:conn.start + int(cl)]) if buffered else b""  # type: ignore[arg-type]
        i = slot.idx
        err, verdict = self.b.judge(self.uris[i], status, body)
        if slot.held:
            self.give(slot, _RETRY[verdict])
            if verdict is Verdict.THROTTLED and self.b.max_attempts > 1 and absorbs_throttle(self.limit):
                self.absorbed.add(i)  # the threaded path's attempts start afresh
        if verdict is Verdict.ELSEWHERE:
            self.drop(slot)
            self.go_threaded()
        elif verdict is Verdict.AGAIN:
            self.drop(slot)
        elif verdict in (Verdict.RETRY, Verdict.THROTTLED):
            self.drop(slot, err, throttled=verdict is Verdict.THROTTLED)
        else:
            self.fail(slot, err)
            return
        self.start_next(slot)

    def fail(self, slot: _Slot, err: BaseException) -> None:
        """The slot's object fails the batch: nothing more is sent, its socket is closed."""
        self.fatal.append(err)
        if self.tracing:
            self.record(slot.idx, slot.t0, slot.t1, 0, err)
        self.queue.clear()
        self.drop(slot, hand_back=False)
        self.start_next(slot)

    def mismatch(self, i: int, size: int) -> LengthMismatchError:
        return length_mismatch(self.uris[i], self.dsts[i].nbytes, size)  # type: ignore[index]

    def on_timeout(self) -> None:
        """Nothing moved on any socket for a whole operation timeout: those requests used an attempt."""
        for slot in self.slots:
            if slot.registered:
                i = slot.idx
                err = StorageIOError(f"S3 GET for {self.uris[i]} timed out after {self.b.timeout}s",
                                     self.uris[i]) if i >= 0 else None
                self.drop(slot, err)

    def detach(self, slot: _Slot) -> None:
        """A large body: its socket leaves the selector and a worker finishes it; no new requests go out
        here (the rest of the batch takes the threaded path). The slot gets a new socket."""
        conn = slot.conn
        self.unregister(slot)
        conn.sock.setblocking(True)
        self.detached.append(_Detached(slot.idx, conn, slot.view, slot.mv[slot.got:],  # type: ignore[arg-type,index]
                                       slot.job, slot.t0, slot.t1))
        slot.reset()
        slot.conn = self.pool.fresh()
        self.go_threaded()

    def go_threaded(self) -> None:
        """Send nothing more here: the rest of the batch takes the threaded path."""
        if not self.threaded:
            self.threaded = True
            self.fallback.extend((i, None, False) for i in self.queue)
            self.queue.clear()

    # ------------------------------------------------------------------ helpers
    def widen(self) -> None:
        """Slow start: a completed small object lets one more request onto the wire."""
        self.window = min(len(self.slots), self.window + 1)
        self.refill()

    def refill(self) -> None:
        """Start resting sockets while the window (and the adaptive limit) allow."""
        busy = sum(1 for sl in self.slots if sl.idx >= 0)
        while self.idle and self.queue and busy < self.window and not self.threaded:
            if not self.start_next(self.idle.pop()):
                break
            busy += 1

    def give(self, slot: _Slot, verdict: Retry) -> None:
        """Give the slot's adaptive-limit slot back, reporting its answer (retry.settle)."""
        slot.held = False
        settle(self.limit, verdict, slot.epoch)  # type: ignore[arg-type]

    def unregister(self, slot: _Slot) -> None:
        if slot.registered:
            self.sel.unregister(slot.conn.sock)
            slot.registered = False

    def drop(self, slot: _Slot, err: BaseException | None = None, hand_back: bool = True,
             throttled: bool = False) -> None:
        """Give up on the slot's socket; its request goes to the threaded path (`err`: the failure that
        used up this attempt, None if no attempt was used) unless `hand_back` is False."""
        if slot.held:
            self.give(slot, Retry.YES)
        self.unregister(slot)
        slot.conn.close()
        if slot.job is not None:
            _cancel(slot.job)
        if slot.idx >= 0 and hand_back:
            self.fallback.append((slot.idx, err, throttled))
        slot.reset()
        slot.conn = self.pool.fresh()

    def lost(self, i: int) -> StorageIOError:
        return StorageIOError(f"S3 GET for {self.uris[i]} failed: the connection broke during the response",
                              self.uris[i])

    def record(self, i: int, t0: int, t1: int, nbytes: int, err: BaseException | None = None) -> None:
        """One op record per object for attached observers (the op-log, statistics)."""
        _ins.record(_ins.OpRecord("GET", self.uris[i], nbytes, t0, t1, time.time_ns(),
                                  None if err is None else f"{type(err).__name__}: {err}",
                                  thread_id=threading.get_ident()))

    def abandon(self) -> None:
        """The loop itself failed (e.g. KeyboardInterrupt): close what is open, stop range tails."""
        for slot in self.slots:
            if slot.idx >= 0 or slot.job is not None:
                self.drop(slot, hand_back=False)
        for d in self.detached:
            d.conn.close()
            if d.job is not None:
                _cancel(d.job)
        for _, job, _, _ in self.jobs:
            _cancel(job)

    def close_slots(self) -> None:
        """Idle keep-alive sockets go back to the pool; anything mid-response is closed."""
        for slot in self.slots:
            self.unregister(slot)
            if slot.held:
                self.give(slot, Retry.YES)
            conn = slot.conn
            if conn.sock is not None and slot.idx < 0 and conn.start == conn.end and conn.reusable:
                conn.sock.setblocking(True)
                self.pool.release(conn)
            else:
                conn.close()
        self.sel.close()

    # ------------------------------------------------------------------ the threaded path
    def finish(self) -> list[tuple[str, BytesView]]:
        """Finish detached bodies, then the handed-back requests, on up to max_in_flight workers; wait for
        range tails; raise the first failure."""
        self.fallback.extend((i, None, False) for i in self.queue)  # never sent (a timeout ended the loop)
        self.queue.clear()
        fallback = sorted(self.fallback, key=lambda t: t[0])
        if not self.fatal and self.b.max_attempts <= 1:
            first_err = next((e for _, e, _ in fallback if e is not None), None)
            if first_err is not None:  # no retries allowed: the failed attempt was the only one
                self.fatal.append(first_err)
        tasks: list[Callable[[], None]] = [] if self.fatal else [
            *(lambda d=d: self.finish_detached(d) for d in self.detached),
            *(lambda t=t: self.get_threaded(*t) for t in fallback),
        ]
        try:
            if tasks:
                bounded_map(lambda task: task(), tasks, self.max_in_flight)
        finally:
            for d in self.detached:  # not read: the batch failed first
                if not d.done:
                    d.conn.close()
                    if d.job is not None:
                        _cancel(d.job)
            for i, job, t0, t1 in self.jobs:
                try:
                    job.wait()
                    if self.tracing:
                        self.record(i, t0, t1, len(self.results[i][1]))
                except BaseException as e:  # range parts already had their retries
                    self.fatal.append(e)
                    if self.tracing:
                        self.record(i, t0, t1, 0, e)
        if self.fatal:
            raise self.fatal[0]
        return self.results

    def finish_detached(self, d: _Detached) -> None:
        """Receive the rest of a detached body (blocking, MSG_WAITALL) and return the socket to the pool;
        a broken connection sends the object to the threaded path with this attempt counted."""
        d.done = True
        try:
            d.conn.read_into(d.rest)
        except Exception:
            d.conn.close()
            if d.job is not None:
                _cancel(d.job)
            self.get_threaded(d.idx, self.lost(d.idx), False)
            return
        self.pool.release(d.conn)
        self.results[d.idx] = (self.uris[d.idx], d.view)
        if d.job is not None:
            self.jobs.append((d.idx, d.job, d.t0, d.t1))  # list.append is atomic; waited for in finish()
        elif self.tracing:
            self.record(d.idx, d.t0, d.t1, len(d.view))

    def get_threaded(self, i: int, err: BaseException | None, throttled: bool) -> None:
        """One object by the threaded path: the next attempt if one was used here (after a back-off; a
        throttled attempt the adaptive limit answered for is not counted)."""
        uri = self.uris[i]
        first = 1
        if err is not None:
            sleep_before_retry(1, throttled=throttled)
            first = 1 if i in self.absorbed else 2
        if self.tracing:
            v = _ins.traced("GET", uri, self.b.fallback, uri, first)
        else:
            v = self.b.fallback(uri, first)
        if self.dsts is not None:  # a rare path (an error answer, a redirect): one copy into the caller's buffer
            dst = self.dsts[i]
            if len(v) != dst.nbytes:
                raise self.mismatch(i, len(v))
            dst[:] = v
            v = dst
        self.results[i] = (uri, v)


def _cancel(job: RangeFetch) -> None:
    job.cancel()
    try:
        job.wait()
    except BaseException:
        pass


class S3MuxBackend:
    """MuxBackend for an S3 client: GETs of objects on the client's path-style pool (a custom endpoint),
    signed in one pass; error answers typed by the client, retried per retry.py."""

    def __init__(self, client: Any, endpoint: str | None, fallback: Callable[[str, int], BytesView],
                 fetch_range: Callable[[str, int, memoryview, str | None], None],
                 tunables: Settings | None = None) -> None:
        self.client = client
        self.pool = client.route("", None)[0]  # the path-style pool: every object of a custom endpoint
        self.limit = client.limit
        self.timeout = client.timeout
        s = tunables or settings()
        self.tunables: Settings | None = s
        self.max_attempts = s.max_retry_attempts
        self.rng = f"bytes=0-{s.range_threshold - 1}" if s.enable_range_optimization else None
        self.ep = endpoint
        self.prefix = f"s3://{endpoint}/" if endpoint else "s3://"
        self._fallback = fallback
        self._fetch_range = fetch_range

    @classmethod
    def for_store(cls, store: Any) -> S3MuxBackend:
        """The backend of an S3 store (duck-typed, this module imports no store): its client, URI endpoint
        and settings, its threaded GET `_get(u, first_attempt=)` and pinned range read `_fetch_range_into`."""
        get, fetch = store._get, store._fetch_range_into
        return cls(store.client, store._uri_endpoint,
                   lambda uri, first: get(parse_uri(uri), first_attempt=first),
                   lambda uri, off, dst, etag: fetch(parse_uri(uri), off, dst, etag),
                   getattr(store, "settings", None))

    def request(self, uri: str) -> bytes | None:
        bucket = key = ""
        if uri.startswith(self.prefix):  # the common shape, split without a full parse
            bucket, sep, key = uri[len(self.prefix):].partition("/")
            if not sep or (not self.ep and (":" in bucket or bucket.startswith("["))):
                bucket = ""
        if not bucket:
            u = parse_uri(uri)
            if u.scheme != "s3":
                return None
            bucket, key = u.bucket, u.key
        pool, head = self.client.signed_get(bucket, key, self.rng)
        return head if pool is self.pool else None

    def fallback(self, uri: str, first_attempt: int) -> BytesView:
        return self._fallback(uri, first_attempt)

    def fetch_range(self, uri: str, offset: int, dst: memoryview, etag: str | None) -> None:
        self._fetch_range(uri, offset, dst, etag)

    def judge(self, uri: str, status: int, body: bytes) -> tuple[BaseException, Verdict]:
        """The client's typed error; retry.classify decides (as for every other request), except that
        an expired-token answer refreshes the credentials and resends without using an attempt."""
        code, message = parse_error(body)
        err = self.client.error("GET", uri, status, code, message)
        if status in REDIRECT_STATUSES and self.client.redirects != "off":
            return err, Verdict.ELSEWHERE
        if code in _EXPIRED:
            self.client.credentials.invalidate()
            return err, Verdict.AGAIN
        return err, _VERDICT[classify(status, code)]


_VERDICT = {Retry.NO: Verdict.FATAL, Retry.YES: Verdict.RETRY, Retry.THROTTLED: Verdict.THROTTLED}
#: how an answer judged here is reported to the adaptive limit
_RETRY = {Verdict.FATAL: Retry.NO, Verdict.RETRY: Retry.YES, Verdict.THROTTLED: Retry.THROTTLED,
          Verdict.AGAIN: Retry.NO, Verdict.ELSEWHERE: Retry.NO}


def mux_get_many(store: Any, uris: Sequence[str], max_in_flight: int) -> list[tuple[str, BytesView]]:
    """`[(uri, store.get(uri)) for uri in uris]` with up to `max_in_flight` requests on the wire from one
    thread, for an S3 store on plain http (the entry point S3Store.get_many calls)."""
    return MuxGet(uris, max_in_flight, S3MuxBackend.for_store(store)).run()


def mux_get_many_into(store: Any, pairs: Sequence[tuple[str, memoryview]], max_in_flight: int) -> list[int]:
    """`[store.get_into(uri, dst) for uri, dst in pairs]` the same way (S3Store.get_many_into): each body
    is received straight into its buffer."""
    res = MuxGet([u for u, _ in pairs], max_in_flight, S3MuxBackend.for_store(store),
                 dsts=[d for _, d in pairs]).run()
    return [len(v) for _, v in res]
