"""ConnectionPool against a real loopback listener: idle keep-alive sockets are reused LIFO, and one that
the server closed while it sat idle is dropped at acquire instead of costing the next request a retry."""

from __future__ import annotations

import socket
import time

from s3dlio_backends import http_pool
from s3dlio_backends.http_pool import ConnectionPool


def _listener() -> socket.socket:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    return srv


def test_idle_socket_closed_by_the_server_is_not_handed_out() -> None:
    srv = _listener()
    try:
        pool = ConnectionPool("127.0.0.1", srv.getsockname()[1], timeout=5.0)
        a, b = pool.acquire(), pool.acquire()
        a.connect()
        b.connect()
        peer_a, _ = srv.accept()
        peer_b, _ = srv.accept()
        pool.release(a)
        pool.release(b)
        # fresh idle sockets are handed out without a check, warmest first
        assert pool.acquire() is b
        pool.release(b)
        # the server closes b's peer; a stays open; both have been idle for a while
        peer_b.close()
        time.sleep(0.05)
        for c in (a, b):
            c.idle_since -= http_pool.IDLE_CHECK_S + 1
        got = pool.acquire()
        assert got is a  # b was found closed and dropped
        assert b.sock is None
        assert pool.acquire().sock is None  # nothing idle left: a new, unconnected connection
        peer_a.close()
    finally:
        srv.close()


def test_idle_socket_with_unasked_bytes_is_dropped() -> None:
    srv = _listener()
    try:
        pool = ConnectionPool("127.0.0.1", srv.getsockname()[1], timeout=5.0)
        c = pool.acquire()
        c.connect()
        peer, _ = srv.accept()
        pool.release(c)
        peer.sendall(b"HTTP/1.1 408 Request Timeout\r\n\r\n")  # what some servers send before closing
        time.sleep(0.05)
        c.idle_since -= http_pool.IDLE_CHECK_S + 1
        assert pool.acquire() is not c and c.sock is None
        peer.close()
    finally:
        srv.close()
