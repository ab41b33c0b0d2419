"""A lean HTTP/1.1 client for the data path: keep-alive sockets in a small per-endpoint pool, request
heads built as one bytes object, and response bodies received straight into the caller's buffer.

No per-request object graph: a request is `sendall(head)` (+ body) and a response is one `recv_into` in
the common case. Pools belong to one process: a forked child (DataLoader worker) opens its own
connections (the generation counter bumps at fork and stale pools drop their idle sockets).
"""

from __future__ import annotations

import os
import re
import select
import socket
import struct
import threading
import time
from typing import TYPE_CHECKING, Any

from s3dlio_core.bytes_view import BytesView

if TYPE_CHECKING:  # ssl itself is imported only by who makes a TLS context (~10 ms per process)
    import ssl

__all__ = ["HttpConnection", "ConnectionPool", "HttpResponseHead", "ConnectionLost", "ProtocolError",
           "NO_BODY"]

_MAX_HEAD = 64 * 1024
# One receive for a response head asks for at most this much: a head and a small body arrive in one call,
# while most of a larger body goes straight from the socket into its destination (read_into) instead of
# through this buffer and a copy (a 256 KiB receive used to copy up to a quarter of a 1 MiB body).
HEAD_READ = 32 * 1024
_BUF = _MAX_HEAD + HEAD_READ  # receive buffer per connection (heads and small bodies land here)
_generation = 0
_WAITALL = getattr(socket, "MSG_WAITALL", 0)
# An idle keep-alive socket older than this is checked before reuse (one poll): servers close idle
# connections (SeaweedFS after a while, S3 after ~20 s), and a pool full of such sockets would otherwise
# spend every retry of the next request discovering them one by one.
IDLE_CHECK_S = 1.0


def _after_fork_in_child() -> None:
    global _generation
    _generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class ConnectionLost(ConnectionError):
    """The connection closed or broke; `sent_nothing` says whether the server can have seen nothing
    of the response yet (a stale keep-alive socket), which makes any request safe to resend."""

    def __init__(self, msg: str, no_response: bool = False) -> None:
        super().__init__(msg)
        self.no_response = no_response


class ProtocolError(ConnectionError):
    """The server sent something that is not HTTP/1.1 as we understand it."""


NO_BODY = object()


_header_rx: dict[str, re.Pattern[str]] = {}


def _rx(name: str) -> re.Pattern[str]:
    rx = _header_rx.get(name)
    if rx is None:
        rx = re.compile(r"\r\n" + re.escape(name) + r"[ \t]*:[ \t]*([^\r]*?)[ \t]*(?=\r)", re.IGNORECASE)
        _header_rx[name] = rx
    return rx


class HttpResponseHead:
    """Status of one response and its header block. `get(name)` finds one header with a cached regex
    (the data path reads three or four); `headers` parses them all into a lower-cased dict on demand."""

    __slots__ = ("_headers", "raw", "reason", "status")

    def __init__(self, status: int, reason: str, raw: str) -> None:
        self.status = status
        self.reason = reason
        self.raw = raw  # status line + "\r\n" + header lines, each ending in "\r\n"
        self._headers: dict[str, str] | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of header `name` (case-insensitive; the first one if repeated)."""
        m = _rx(name).search(self.raw)
        return m.group(1) if m else default

    @property
    def headers(self) -> dict[str, str]:
        h = self._headers
        if h is None:
            h = {}
            for line in self.raw.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if not k:
                    continue
                k = k.strip().lower()
                v = v.strip()
                h[k] = h[k] + ", " + v if k in h else v
            self._headers = h
        return h

    def __repr__(self) -> str:
        return f"HttpResponseHead({self.status} {self.reason})"


class HttpConnection:
    """One keep-alive socket with its receive buffer."""

    __slots__ = (
        "buf",
        "connect_timeout",
        "end",
        "host",
        "idle_since",
        "mv",
        "port",
        "reusable",
        "server_hostname",
        "sock",
        "start",
        "timeout",
        "tls",
        "used",
    )

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None, server_hostname: str | None,
                 connect_timeout: float, timeout: float) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.server_hostname = server_hostname
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.sock: Any = None
        self.buf = BytesView.allocate(_BUF)  # not zero-filled: only [start, end) is ever read
        self.mv = memoryview(self.buf)
        self.start = 0
        self.end = 0
        self.used = 0  # requests completed on this socket
        self.reusable = True
        self.idle_since = 0.0  # time.monotonic() when it last went back to its pool

    def __repr__(self) -> str:
        return f"HttpConnection({self.host}:{self.port}, used={self.used})"

    def connect(self) -> Any:
        """Open the socket (TCP_NODELAY; TLS if configured) and return it."""
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_hostname=self.server_hostname or self.host)
            sock.settimeout(self.timeout)
        else:
            # A Python-level timeout makes every send/recv a poll() plus the call (two syscalls and two
            # GIL hand-offs). A blocking socket with kernel timeouts costs one; a timeout then surfaces
            # as an OSError (EAGAIN), which the retry policy treats like any broken connection.
            sock.settimeout(None)
            tv = struct.pack("ll", int(self.timeout), int((self.timeout % 1) * 1e6))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
        self.sock = sock
        self.start = self.end = 0
        self.reusable = True
        return sock

    def peer_closed(self) -> bool:
        """True if the idle socket is unusable: the peer closed it (or sent something unasked)."""
        sock = self.sock
        if sock is None:
            return True
        try:
            if hasattr(select, "poll"):
                p = select.poll()
                p.register(sock, select.POLLIN | select.POLLPRI)
                return bool(p.poll(0))
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable)
        except (OSError, ValueError):
            return True

    def __del__(self) -> None:  # a dropped pool's idle sockets close quietly (a forked child's copy too)
        if getattr(self, "sock", None) is not None:
            self.close()

    def close(self) -> None:
        s = self.sock
        self.sock = None
        self.reusable = False
        if s is not None:
            try:
                s.close()
            except OSError:
                pass

    # ---- sending ----
    def send(self, head: bytes, body: Any = None) -> None:
        """Send the request head and an optional bytes-like body (sent without a copy)."""
        if self.sock is None:
            self.connect()
        try:
            if body is not None and len(body) <= 16384:
                self.sock.sendall(head + bytes(body) if not isinstance(body, bytes) else head + body)
            else:
                self.sock.sendall(head)
                if body is not None:
                    self.sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as e:
            self.close()
            raise ConnectionLost(f"send failed: {e}", no_response=True) from None

    # ---- receiving ----
    def _fill(self) -> int:
        """Receive more bytes into the buffer after `end`; returns how many (0 = closed)."""
        if self.start == self.end:
            self.start = self.end = 0
        elif self.end == _BUF:
            n = self.end - self.start
            self.buf[:n] = self.buf[self.start:self.end]
            self.start, self.end = 0, n
            if n == _BUF:
                raise ProtocolError("response head too large")
        try:
            n = self.sock.recv_into(self.mv[self.end:self.end + HEAD_READ])
        except (ConnectionResetError, ConnectionAbortedError) as e:
            self.close()
            raise ConnectionLost(f"receive failed: {e}", no_response=self.used > 0) from None
        self.end += n
        return n

    def read_head(self) -> HttpResponseHead:
        """Read the status line and headers (skipping 100 Continue)."""
        while True:
            idx = self.buf.find(b"\r\n\r\n", self.start, self.end)
            first = True
            while idx < 0:
                if self.end - self.start > _MAX_HEAD:
                    raise ProtocolError("response head too large")
                n = self._fill()
                if n == 0:
                    nothing = first and self.start == self.end
                    self.close()
                    raise ConnectionLost("connection closed before a response",
                                         no_response=nothing and self.used > 0)
                first = False
                idx = self.buf.find(b"\r\n\r\n", max(self.start, self.end - n - 3), self.end)
            head = self.take_head(idx)
            if head is not None:
                return head

    def take_head(self, idx: int) -> HttpResponseHead | None:
        """Parse and consume the head whose blank line starts at buffer index `idx`; None for an
        interim 100 Continue."""
        text = self.buf[self.start:idx + 2].decode("latin-1")
        self.start = idx + 4
        if not text.startswith("HTTP/1."):
            raise ProtocolError(f"bad status line {text[:40]!r}")
        try:
            status = int(text[9:12])
        except ValueError:
            raise ProtocolError(f"bad status line {text[:40]!r}") from None
        if status == 100:
            return None
        head = HttpResponseHead(status, text[13:text.index("\r\n")], text)
        if text[7] == "0" or (head.get("connection") or "").lower() == "close":
            self.reusable = False
        return head

    def read_into(self, dst: memoryview) -> None:
        """Fill `dst` exactly with body bytes (buffered ones first, then straight from the socket)."""
        need = dst.nbytes
        got = 0
        avail = self.end - self.start
        if avail:
            k = avail if avail < need else need
            dst[:k] = self.mv[self.start:self.start + k]
            self.start += k
            got = k
        sock = self.sock
        # plain TCP: MSG_WAITALL lets the kernel fill the whole body in one call (one GIL hand-off for a
        # 16 MiB object instead of hundreds); partial returns (timeout, close) are handled by the loop
        flags = _WAITALL if self.tls is None else 0
        while got < need:
            try:
                n = sock.recv_into(dst[got:], need - got, flags)
            except (ConnectionResetError, ConnectionAbortedError) as e:
                self.close()
                raise ConnectionLost(f"connection broke after {got} of {need} body bytes: {e}") from None
            if n == 0:
                self.close()
                raise ConnectionLost(f"connection closed after {got} of {need} body bytes")
            got += n

    def read_exact(self, n: int) -> BytesView:
        v = BytesView.allocate(n)
        if n:
            mv = memoryview(v)
            try:
                self.read_into(mv)
            finally:
                mv.release()
        return v

    def _readline(self) -> bytes:
        while True:
            idx = self.buf.find(b"\r\n", self.start, self.end)
            if idx >= 0:
                line = bytes(self.buf[self.start:idx])
                self.start = idx + 2
                return line
            if self._fill() == 0:
                self.close()
                raise ConnectionLost("connection closed inside a chunked body")

    def read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            line = self._readline()
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self._readline():  # trailers, then the empty line
                    pass
                return b"".join(parts)
            parts.append(bytes(self.read_exact(size)))
            self._readline()

    def read_to_close(self) -> bytes:
        parts = [bytes(self.buf[self.start:self.end])]
        self.start = self.end = 0
        while True:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                break
            parts.append(chunk)
        self.close()
        return b"".join(parts)

    def read_body(self, head: HttpResponseHead, method: str) -> bytes | BytesView:
        """The whole body of a response (used for small control-plane and error bodies)."""
        if method == "HEAD" or head.status in (204, 304) or 100 <= head.status < 200:
            return b""
        cl = head.get("content-length")
        if cl is not None:
            return self.read_exact(int(cl))
        if "chunked" in (head.get("transfer-encoding") or "").lower():
            return self.read_chunked()
        return self.read_to_close()

    def discard_body(self, head: HttpResponseHead, method: str, limit: int = 1 << 20) -> None:
        """Skip a body we do not need; a large one closes the socket instead of reading it."""
        if method == "HEAD" or head.status in (204, 304):
            return
        cl = head.get("content-length")
        if cl is not None and int(cl) > limit:
            self.close()
            return
        self.read_body(head, method)


class ConnectionPool:
    """Idle keep-alive connections to one host; LIFO so the warmest socket is reused first."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None = None,
                 server_hostname: str | None = None, connect_timeout: float = 20.0,
                 timeout: float = 60.0, max_idle: int = 0) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.server_hostname = server_hostname
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.max_idle = max_idle  # 0 = unlimited
        self._idle: list[HttpConnection] = []
        self._gen = _generation
        self._lock = threading.Lock()
        # set by the GET multiplexer (s3/mux.py): its last batch here saw only small whole bodies, so the
        # next one need not slow-start
        self.small_bodies = False

    def __repr__(self) -> str:
        return f"ConnectionPool({self.host}:{self.port}, idle={len(self._idle)})"

    def acquire(self) -> HttpConnection:
        if self._gen != _generation:  # we are a forked child: never touch the parent's sockets
            self._idle = []
            self._lock = threading.Lock()
            self._gen = _generation
        now = 0.0
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return HttpConnection(self.host, self.port, self.tls, self.server_hostname,
                                      self.connect_timeout, self.timeout)
            if not now:
                now = time.monotonic()
            if now - conn.idle_since < IDLE_CHECK_S or not conn.peer_closed():
                return conn
            conn.close()  # the server closed it while it was idle

    def release(self, conn: HttpConnection) -> None:
        conn.used += 1
        if (conn.reusable and conn.sock is not None and conn.start == conn.end and self._gen == _generation
                and (not self.max_idle or len(self._idle) < self.max_idle)):
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
            return
        conn.close()

    def fresh(self) -> HttpConnection:
        return HttpConnection(self.host, self.port, self.tls, self.server_hostname,
                              self.connect_timeout, self.timeout)

    def close_all(self) -> None:
        idle, self._idle = self._idle, []
        for c in idle:
            c.close()
