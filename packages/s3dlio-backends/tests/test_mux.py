"""MuxGet, the single-thread GET multiplexer, driven against a fake socket, selector and pool: keep-alive
reuse, a stale socket resent once, error answers handed to the threaded path (or failing the batch),
large bodies detached to worker threads, range tails, timeouts and one op record per object.

The fakes speak real HTTP/1.1 bytes through the real HttpConnection buffer code; only the socket, the
selector and the store behind the backend are stand-ins. (The real-server behaviour of get_many is
tested in test_s3_store.py against SeaweedFS and a fault proxy.)
"""

from __future__ import annotations

import socket
from collections import defaultdict
from typing import Any

import pytest
from s3dlio_backends.http_pool import HttpConnection
from s3dlio_backends.s3.mux import INITIAL_WINDOW, THREADED_BODY, MuxGet, Verdict
from s3dlio_core import instrument
from s3dlio_core.bytes_view import BytesView
from s3dlio_core.errors import LengthMismatchError, ObjectNotFoundError, StorageIOError

THRESHOLD = 1 << 20  # the backend's first request asks for bytes=0-(THRESHOLD-1)
CHUNK = 16 * 1024  # the fake kernel hands out at most this much per recv


class FakeServer:
    """Objects by key and a script of faults per key: each request for the key takes the next action
    ("503", "404", "silent" = never answer, "eof" = close without answering); then it is served."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.requests: list[tuple[int, str]] = []  # (socket id, key)

    def answer(self, sock: FakeSocket, request: bytes) -> None:
        line = request.decode("latin-1").partition("\r\n")[0]
        key = line.split()[1].split("/", 2)[2]
        self.requests.append((sock.ident, key))
        action = self.faults[key].pop(0) if self.faults[key] else "serve"
        if action == "silent":
            return
        if action == "eof":
            sock.eof = True
            return
        if action in ("503", "404"):
            code = {"503": "SlowDown", "404": "NoSuchKey"}[action]
            body = f"<Error><Code>{code}</Code><Message>m</Message></Error>".encode()
            sock.inbox += (f"HTTP/1.1 {action} X\r\ncontent-length: {len(body)}\r\n\r\n").encode() + body
            return
        data = self.objects[key]
        first = data[:THRESHOLD]
        if not data:
            sock.inbox += b"HTTP/1.1 416 Range Not Satisfiable\r\ncontent-length: 5\r\n\r\nempty"
        elif len(data) > len(first):
            sock.inbox += (f"HTTP/1.1 206 Partial\r\ncontent-length: {len(first)}\r\netag: \"e1\"\r\n"
                           f"content-range: bytes 0-{len(first) - 1}/{len(data)}\r\n\r\n").encode() + first
        else:
            sock.inbox += (f"HTTP/1.1 206 Partial\r\ncontent-length: {len(data)}\r\n"
                           f"content-range: bytes 0-{len(data) - 1}/{len(data)}\r\n\r\n").encode() + data


class FakeSocket:
    """A socket whose peer is FakeServer: send() is answered into `inbox`, recv_into() drains it."""

    _ids = iter(range(1, 1 << 30))

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.ident = next(self._ids)
        self.inbox = bytearray()
        self.eof = False
        self.blocking = True
        self.closed = False
        self.reads: list[tuple[bool, int]] = []  # (blocking, flags) of each recv_into

    def setblocking(self, flag: bool) -> None:
        self.blocking = flag

    def send(self, data: bytes) -> int:
        if self.closed:
            raise OSError("closed")
        if not self.eof:
            self.server.answer(self, bytes(data))
        return len(data)

    def recv_into(self, buf: memoryview, nbytes: int = 0, flags: int = 0) -> int:
        self.reads.append((self.blocking, flags))
        n = min(len(buf), nbytes or len(buf), CHUNK, len(self.inbox))
        if n == 0:
            if self.eof or self.blocking:
                return 0  # closed (a blocking read with nothing coming would hang: treat as closed)
            raise BlockingIOError
        buf[:n] = self.inbox[:n]
        del self.inbox[:n]
        return n

    def ready(self) -> bool:
        return bool(self.inbox) or self.eof

    def close(self) -> None:
        self.closed = True


class FakeConn(HttpConnection):
    def __init__(self, server: FakeServer) -> None:
        super().__init__("fake", 80, None, None, 1.0, 1.0)
        self.server = server

    def connect(self) -> FakeSocket:
        self.sock = FakeSocket(self.server)
        self.start = self.end = 0
        self.reusable = True
        return self.sock


class FakePool:
    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.idle: list[FakeConn] = []
        self.created: list[FakeConn] = []

    def acquire(self) -> FakeConn:
        return self.idle.pop() if self.idle else self.fresh()

    def fresh(self) -> FakeConn:
        c = FakeConn(self.server)
        self.created.append(c)
        return c

    def release(self, conn: FakeConn) -> None:
        conn.used += 1
        if conn.reusable and conn.sock is not None and conn.start == conn.end:
            self.idle.append(conn)
        else:
            conn.close()


class _Key:
    def __init__(self, data: Any) -> None:
        self.data = data


class FakeSelector:
    """Readiness from the fake sockets; no socket ready = the timeout elapsed."""

    def __init__(self) -> None:
        self.reg: dict[int, tuple[FakeSocket, Any]] = {}
        self.closed = False
        self.first_select: int | None = None  # sockets registered (requests on the wire) at the first select

    def register(self, sock: FakeSocket, events: int, data: Any) -> None:
        assert id(sock) not in self.reg, "registered twice"
        self.reg[id(sock)] = (sock, data)

    def unregister(self, sock: FakeSocket) -> None:
        del self.reg[id(sock)]

    def select(self, timeout: float | None = None) -> list[tuple[_Key, int]]:
        if self.first_select is None:
            self.first_select = len(self.reg)
        return [(_Key(data), 1) for sock, data in list(self.reg.values()) if sock.ready()]

    def close(self) -> None:
        self.closed = True


class FakeBackend:
    def __init__(self, server: FakeServer, max_attempts: int = 3) -> None:
        self.server = server
        self.pool = FakePool(server)
        self.timeout = 0.01
        self.max_attempts = max_attempts
        self.tunables = None
        self.fallbacks: list[tuple[str, int]] = []
        self.ranges: list[tuple[str, int, int, str | None]] = []

    @staticmethod
    def key(uri: str) -> str:
        return uri.removeprefix("s3://b/")

    def request(self, uri: str) -> bytes | None:
        if not uri.startswith("s3://b/"):
            return None
        return f"GET /b/{self.key(uri)} HTTP/1.1\r\nrange: bytes=0-{THRESHOLD - 1}\r\n\r\n".encode()

    def fallback(self, uri: str, first_attempt: int) -> BytesView:
        self.fallbacks.append((uri, first_attempt))
        return BytesView.wrap(self.server.objects[self.key(uri)])

    def fetch_range(self, uri: str, offset: int, dst: memoryview, etag: str | None) -> None:
        self.ranges.append((uri, offset, dst.nbytes, etag))
        dst[:] = self.server.objects[self.key(uri)][offset:offset + dst.nbytes]

    def judge(self, uri: str, status: int, body: bytes) -> tuple[BaseException, Verdict]:
        if status == 404:
            return ObjectNotFoundError(f"GET for {uri} failed: NoSuchKey (HTTP 404)", uri), Verdict.FATAL
        return StorageIOError(f"GET for {uri} failed: SlowDown (HTTP {status})", uri), Verdict.THROTTLED


def objects(n: int, size: int = 100) -> dict[str, bytes]:
    return {f"k{i:03d}": bytes([i % 251]) * size for i in range(n)}


def run(backend: FakeBackend, uris: list[str], max_in_flight: int = 4) -> tuple[list[Any], FakeSelector]:
    sel = FakeSelector()
    res = MuxGet(uris, max_in_flight, backend, selector=sel).run()
    return res, sel


def check(res: list[Any], uris: list[str], server: FakeServer) -> None:
    assert [u for u, _ in res] == uris
    for u, v in res:
        assert isinstance(v, BytesView)
        assert bytes(v) == server.objects[u.removeprefix("s3://b/")]


def test_small_objects_reuse_keep_alive_sockets() -> None:
    server = FakeServer(objects(40))
    b = FakeBackend(server)
    uris = [f"s3://b/{k}" for k in server.objects]
    res, sel = run(b, uris, max_in_flight=4)
    check(res, uris, server)
    assert b.fallbacks == [] and sel.closed and sel.reg == {}
    sockets = {sid for sid, _ in server.requests}
    assert len(server.requests) == 40 and len(sockets) <= 4  # 40 requests on at most 4 connections
    assert len(b.pool.idle) == len(sockets)  # every socket went back to the pool, idle and reusable
    assert all(c.sock is not None and not c.sock.closed for c in b.pool.idle)
    # the next batch reuses those sockets: no new connection
    before = len(b.pool.created)
    server.requests.clear()
    res, _ = run(b, uris[:8], max_in_flight=4)
    check(res, uris[:8], server)
    assert {sid for sid, _ in server.requests} <= sockets and len(b.pool.created) == before


def test_after_a_batch_of_small_bodies_the_next_starts_at_its_full_window() -> None:
    """Slow start only while the pool knows nothing or last saw a large body: a loader's batch of 32 small
    objects after another goes out at once (ramping up every batch cost 1.3x the wall time)."""
    objs = objects(40)
    server = FakeServer(objs)
    b = FakeBackend(server)
    uris = [f"s3://b/{k}" for k in objs]
    windows = []
    for _ in range(2):
        res, sel = run(b, uris, max_in_flight=16)
        check(res, uris, server)
        windows.append(sel.first_select)
    assert windows == [INITIAL_WINDOW, 16] and b.pool.small_bodies
    objs["k005"] = bytes(range(256)) * (THREADED_BODY // 256 * 2)  # a large body: the next slow-starts again
    res, sel = run(b, uris, max_in_flight=16)
    check(res, uris, server)
    assert sel.first_select == 16 and not b.pool.small_bodies and b.fallbacks
    res, sel = run(b, uris, max_in_flight=16)
    check(res, uris, server)
    assert sel.first_select == INITIAL_WINDOW


def test_into_mode_lands_each_body_in_the_callers_buffer() -> None:
    """get_many_into's path: bodies are received into the given memoryviews (an empty object and a 503'd one
    included: the threaded answer is copied in); a size that differs from its buffer fails the batch."""
    objs = objects(10)
    objs["k004"] = b""
    server = FakeServer(objs)
    server.faults["k006"] = ["503"]
    b = FakeBackend(server)
    uris = [f"s3://b/{k}" for k in objs]
    block = bytearray(sum(len(v) for v in objs.values()))
    mv, dsts, off = memoryview(block), [], 0
    for v in objs.values():
        dsts.append(mv[off:off + len(v)])
        off += len(v)
    res = MuxGet(uris, 4, b, selector=FakeSelector(), dsts=dsts).run()
    assert [v is d for (_, v), d in zip(res, dsts, strict=True)] == [True] * len(objs)
    assert bytes(block) == b"".join(objs.values()) and b.fallbacks == [("s3://b/k006", 2)]
    dsts[2] = memoryview(bytearray(99))
    with pytest.raises(LengthMismatchError) as ei:
        MuxGet(uris, 4, b, selector=FakeSelector(), dsts=dsts).run()
    assert ei.value.uri == "s3://b/k002" and (ei.value.expected, ei.value.actual) == (99, 100)
    dsts[2], dsts[4] = mv[200:300], memoryview(bytearray(5))  # the empty object, given 5 bytes
    with pytest.raises(LengthMismatchError) as ei:
        MuxGet(uris, 4, b, selector=FakeSelector(), dsts=dsts).run()
    assert ei.value.uri == "s3://b/k004" and ei.value.actual == 0


def test_stale_keep_alive_socket_is_resent_once_without_an_attempt() -> None:
    server = FakeServer(objects(6))
    b = FakeBackend(server)
    uris = [f"s3://b/{k}" for k in server.objects]
    run(b, uris, max_in_flight=2)  # two idle keep-alive sockets in the pool
    assert len(b.pool.idle) == 2
    for c in b.pool.idle:  # the server closed them while they sat idle
        c.sock.eof = True
    server.requests.clear()
    res, _ = run(b, uris, max_in_flight=2)
    check(res, uris, server)
    assert b.fallbacks == []  # resent on fresh sockets: no attempt used, no threaded GET
    # once only: a resent request that breaks again on its fresh socket has used its attempt
    b.pool.idle = b.pool.idle[:1]
    b.pool.idle[0].sock.eof = True
    server.faults["k000"] = ["eof"]
    res, _ = run(b, uris, max_in_flight=1)
    check(res, uris, server)
    assert b.fallbacks == [("s3://b/k000", 2)]


def test_a_fresh_socket_that_closes_uses_the_attempt() -> None:
    server = FakeServer(objects(3))
    server.faults["k000"] = ["eof"]  # the first request on a new connection: not a stale keep-alive
    b = FakeBackend(server)
    uris = [f"s3://b/{k}" for k in server.objects]
    res, _ = run(b, uris, max_in_flight=1)
    check(res, uris, server)
    assert b.fallbacks == [("s3://b/k000", 2)]


def test_error_status_goes_to_the_threaded_path_and_fatal_ones_fail_the_batch() -> None:
    server = FakeServer(objects(10))
    server.faults["k002"] = ["503"]
    server.faults["k007"] = ["503"]
    b = FakeBackend(server)
    uris = [f"s3://b/{k}" for k in server.objects]
    res, _ = run(b, uris, max_in_flight=3)
    check(res, uris, server)
    assert sorted(b.fallbacks) == [("s3://b/k002", 2), ("s3://b/k007", 2)]  # attempt 1 was made here
    server.faults["k004"] = ["404"]
    with pytest.raises(ObjectNotFoundError) as ei:
        run(b, uris, max_in_flight=3)
    assert ei.value.uri == "s3://b/k004"


def test_no_retries_allowed_raises_the_first_failed_attempt() -> None:
    server = FakeServer(objects(4))
    server.faults["k001"] = ["503"]
    b = FakeBackend(server, max_attempts=1)
    with pytest.raises(StorageIOError, match="SlowDown") as ei:
        run(b, [f"s3://b/{k}" for k in server.objects], max_in_flight=2)
    assert ei.value.uri == "s3://b/k001" and b.fallbacks == []


def test_uris_the_pool_cannot_serve_take_the_threaded_path() -> None:
    server = FakeServer({"k0": b"a" * 10, "k1": b"b" * 10})
    b = FakeBackend(server)
    b.server.objects["s3://other/k2".removeprefix("s3://b/")] = b"c" * 10
    uris = ["s3://b/k0", "s3://other/k2", "s3://b/k1"]
    res, _ = run(b, uris, max_in_flight=2)
    assert [bytes(v) for _, v in res] == [b"a" * 10, b"c" * 10, b"b" * 10]
    assert b.fallbacks == [("s3://other/k2", 1)]


def test_large_body_is_detached_to_a_worker_and_the_rest_goes_threaded() -> None:
    objs = objects(12)
    objs["k005"] = bytes(range(256)) * (THREADED_BODY // 256 * 2)  # 512 KiB: above THREADED_BODY
    server = FakeServer(objs)
    b = FakeBackend(server)
    uris = [f"s3://b/{k}" for k in objs]
    res, _ = run(b, uris, max_in_flight=4)
    check(res, uris, server)
    sock = next(c.sock for c in b.pool.created if c.sock is not None
                and any(sid == c.sock.ident and k == "k005" for sid, k in server.requests))
    assert sock.reads[0] == (False, 0)  # the head was read by the selector loop
    assert sock.reads[-1] == (True, socket.MSG_WAITALL)  # the rest of the body by one blocking read
    sent_here = {k for _, k in server.requests}
    threaded = {u.removeprefix("s3://b/") for u, _ in b.fallbacks}
    assert sent_here | threaded == set(objs) and not sent_here & threaded
    assert threaded and all(first == 1 for _, first in b.fallbacks)  # no attempt was used for those


def test_large_object_tail_comes_from_range_requests() -> None:
    objs = {"small": b"s" * 10, "big": bytes(range(256)) * ((3 * THRESHOLD) // 256 + 7), "empty": b""}
    server = FakeServer(objs)
    b = FakeBackend(server)
    uris = [f"s3://b/{k}" for k in objs]
    res, _ = run(b, uris, max_in_flight=3)
    check(res, uris, server)
    assert b.ranges and all(u == "s3://b/big" and etag == '"e1"' for u, _, _, etag in b.ranges)
    covered = sorted((off, off + n) for _, off, n, _ in b.ranges)
    assert covered[0][0] == THRESHOLD and covered[-1][1] == len(objs["big"])
    assert ("s3://b/empty", 1) not in b.fallbacks  # the 416 of an empty object is answered here


def test_silent_server_times_out_and_uses_the_attempt() -> None:
    server = FakeServer(objects(3))
    server.faults["k000"] = ["silent"]
    b = FakeBackend(server)
    uris = [f"s3://b/{k}" for k in server.objects]
    res, _ = run(b, uris, max_in_flight=1)
    check(res, uris, server)
    assert b.fallbacks[0] == ("s3://b/k000", 2)


def test_one_op_record_per_object() -> None:
    objs = objects(6)
    objs["big"] = b"x" * (THREADED_BODY + 1)
    server = FakeServer(objs)
    server.faults["k003"] = ["503"]
    b = FakeBackend(server)
    uris = [f"s3://b/{k}" for k in objs]
    seen: list[Any] = []
    instrument.add_observer(seen.append)
    try:
        res, _ = run(b, uris, max_in_flight=2)
    finally:
        instrument.remove_observer(seen.append)
    check(res, uris, server)
    gets = [r for r in seen if r.op == "GET"]
    assert sorted(r.uri for r in gets if r.error is None) == sorted(uris)
    for r in gets:
        assert r.bytes == len(objs[r.uri.removeprefix("s3://b/")]) and r.start_ns <= r.end_ns
