"""A loopback HTTP proxy in front of a real S3 server that records every request line and can answer
chosen requests with a fault instead of forwarding them: 503 SlowDown, 429, 500, 403, or a connection reset.
It forwards to any HTTP/1.1 server (S3, fake-gcs-server, Azurite); the fault bodies are S3-style XML.

Requests are forwarded byte for byte (the Host header included), so SigV4 signatures made for the proxy's
address verify at the server behind it.

Throttling mode (`throttle(n)`): like an overloaded server, the proxy answers 503 SlowDown (or 429) to any
request that arrives while `n` requests are already being served, and forwards the others. `stats()` says
how many were served and throttled, the peak and time-averaged number being served, and the concurrency
each request met on arrival (`arrivals`: (seconds since reset, requests being served, throttled?)).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Any

__all__ = ["FaultProxy"]

_FAULTS = {
    "503": (503, "Slow Down", "SlowDown", "Please reduce your request rate."),
    "429": (429, "Too Many Requests", "TooManyRequests", "Please reduce your request rate."),
    "500": (500, "Internal Server Error", "InternalError", "We encountered an internal error."),
    "403": (403, "Forbidden", "AccessDenied", "Access Denied"),
}


def _recv_until(sock: socket.socket, buf: bytearray, marker: bytes) -> int:
    while True:
        i = buf.find(marker)
        if i >= 0:
            return i
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk


def _recv_exact(sock: socket.socket, buf: bytearray, n: int) -> bytes:
    while len(buf) < n:
        chunk = sock.recv(max(65536, n - len(buf)))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    out = bytes(buf[:n])
    del buf[:n]
    return out


def _read_message(sock: socket.socket, buf: bytearray, method: str | None = None) -> tuple[bytes, bytes]:
    """(head incl. blank line, body) of one HTTP/1.1 message; `method` given = it is a response."""
    i = _recv_until(sock, buf, b"\r\n\r\n")
    head = bytes(buf[:i + 4])
    del buf[:i + 4]
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if method is not None:
        status = int(head[9:12])
        if method == "HEAD" or status in (204, 304):
            return head, b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            j = _recv_until(sock, buf, b"\r\n")
            size = int(bytes(buf[:j]).split(b";")[0], 16)
            body += bytes(buf[:j + 2])
            del buf[:j + 2]
            body += _recv_exact(sock, buf, size + 2)
            if size == 0:
                return head, bytes(body)
    return head, _recv_exact(sock, buf, int(headers.get("content-length", "0")))


class FaultProxy:
    """Forward to `upstream` ('host:port'); `faults` is consumed one entry per request."""

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.rpartition(":")
        self.upstream = (host, int(port))
        self.faults: list[str] = []
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self.throttle_above: int | None = None
        self.throttle_fault = "503"
        self._clear_stats()
        self._srv = socket.create_server(("127.0.0.1", 0))
        self.port = self._srv.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True, name="fault-proxy")
        self._thread.start()

    @property
    def hostport(self) -> str:
        return f"127.0.0.1:{self.port}"

    def reset(self, faults: list[str] | None = None) -> None:
        """New faults to consume; forget the recorded requests and the throttling statistics (the
        throttling threshold stays)."""
        with self._lock:
            self.faults = list(faults or [])
            self.requests = []
            self._clear_stats()

    def throttle(self, above: int | None, fault: str = "503") -> None:
        """Answer `fault` ("503" SlowDown or "429") to every request that arrives while `above` requests
        are being served (None: never); the statistics start afresh."""
        with self._lock:
            self.throttle_above = above
            self.throttle_fault = fault
            self._clear_stats()

    def _clear_stats(self) -> None:
        self._t0 = time.monotonic()
        self._serving = 0
        self._served = 0
        self._throttled = 0
        self._peak = 0
        self._area = 0.0
        self._last = self._t0
        self._arrivals: list[tuple[float, int, bool]] = []

    def _account(self, delta: int) -> None:  # under the lock
        now = time.monotonic()
        self._area += self._serving * (now - self._last)
        self._last = now
        self._serving += delta
        self._peak = max(self._peak, self._serving)

    def stats(self) -> dict[str, Any]:
        """Throttling statistics since the last reset (see the module docstring)."""
        with self._lock:
            self._account(0)
            span = self._last - self._t0
            return {"served": self._served, "throttled": self._throttled, "peak": self._peak,
                    "mean_serving": self._area / span if span > 0 else 0.0, "seconds": span,
                    "arrivals": list(self._arrivals)}

    def close(self) -> None:
        self._stop = True
        try:
            self._srv.close()
        except OSError:
            pass

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        up: socket.socket | None = None
        upbuf = bytearray()
        try:
            while True:
                head, body = _read_message(conn, buf)
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                method = line.split(" ", 1)[0]
                counted = False
                with self._lock:
                    self.requests.append(line)
                    fault = self.faults.pop(0) if self.faults else "pass"
                    limit = self.throttle_above
                    if fault == "pass" and limit is not None:
                        over = self._serving >= limit
                        self._arrivals.append((time.monotonic() - self._t0, self._serving, over))
                        if over:
                            fault = self.throttle_fault
                            self._throttled += 1
                        else:
                            self._account(+1)
                            self._served += 1
                            counted = True
                if fault == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.close()
                    return
                if fault in _FAULTS:
                    status, reason, code, msg = _FAULTS[fault]
                    xml = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>{msg}</Message></Error>"
                    payload = b"" if method == "HEAD" else xml.encode()
                    conn.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
                                 f"Content-Length: {len(xml)}\r\n\r\n".encode() + payload)
                    continue
                try:
                    if up is None:
                        up = socket.create_connection(self.upstream)
                    up.sendall(head + body)
                    rhead, rbody = _read_message(up, upbuf, method)
                finally:
                    if counted:  # done serving: counted out before the client can see the answer
                        with self._lock:
                            self._account(-1)
                conn.sendall(rhead + rbody)
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            conn.close()
            if up is not None:
                up.close()
