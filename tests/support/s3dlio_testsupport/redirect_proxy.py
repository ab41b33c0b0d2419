"""A small HTTP/1.1 proxy on 127.0.0.1 that plays an AIStore-style gateway or one of its storage targets:

* as a gateway (`redirect_to` set), it answers every request with a redirect (307 by default) whose
  Location is `redirect_to` + the request's path and query (+ `add_query`), or only the path and query
  with `relative`; pointing `redirect_to` at itself makes a redirect loop;
* as a target (`redirect_to` None), it forwards every request byte for byte (Host header included) to
  `upstream` and relays the answer, so a SigV4 signature made for the target's address verifies at the S3
  server behind it, and one made for any other host does not.

Either way it records every request it receives (method, target, headers, body length) in `requests`, so
a test can check which host each hop was signed for and that no Authorization header was forwarded. With
`tls=(cert, key)` it serves https.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field

from .fault_proxy import _read_message

__all__ = ["RedirectProxy", "Recorded"]

_REASONS = {301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect",
            308: "Permanent Redirect"}


@dataclass
class Recorded:
    """One request as the proxy received it."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body_len: int = 0

    @property
    def host(self) -> str:
        return self.headers.get("host", "")

    @property
    def signed_host(self) -> bool:
        """The Authorization header signs the Host header (SigV4's SignedHeaders lists it)."""
        auth = self.headers.get("authorization", "")
        return "SignedHeaders=" in auth and "host" in auth.split("SignedHeaders=", 1)[1].split(",")[0].split(";")


class RedirectProxy:
    """A redirecting gateway or a recording forwarder (see the module docstring)."""

    def __init__(self, upstream: str | None = None, redirect_to: str | None = None, status: int = 307,
                 add_query: str = "", relative: bool = False, tls: tuple[str, str] | None = None) -> None:
        self.upstream = None
        if upstream is not None:
            host, _, port = upstream.rpartition(":")
            self.upstream = (host, int(port))
        self.redirect_to = redirect_to
        self.status = status
        self.add_query = add_query
        self.relative = relative
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._ctx: ssl.SSLContext | None = None
        if tls is not None:
            self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ctx.load_cert_chain(*tls)
        self._srv = socket.create_server(("127.0.0.1", 0))
        self.port = self._srv.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True, name="redirect-proxy").start()

    @property
    def hostport(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return f"{'https' if self._ctx is not None else 'http'}://{self.hostport}"

    def reset(self) -> None:
        with self._lock:
            self.requests = []

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

    def _location(self, target: str) -> str:
        if self.add_query:
            target += ("&" if "?" in target else "?") + self.add_query
        return target if self.relative else f"{self.redirect_to}{target}"

    def _serve(self, raw: socket.socket) -> None:
        conn: socket.socket = raw
        up: socket.socket | None = None
        buf = bytearray()
        upbuf = bytearray()
        try:
            if self._ctx is not None:
                conn = self._ctx.wrap_socket(raw, server_side=True)
            while True:
                head, body = _read_message(conn, buf)
                lines = head.decode("latin-1").split("\r\n")
                method, target = lines[0].split(" ")[:2]
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    k, sep, v = line.partition(":")
                    if sep:
                        headers[k.strip().lower()] = v.strip()
                with self._lock:
                    self.requests.append(Recorded(method, target, headers, len(body)))
                if self.redirect_to is not None or self.relative:
                    msg = b"<Error><Code>TemporaryRedirect</Code><Message>go to the target</Message></Error>"
                    reason = _REASONS.get(self.status, "Redirect")
                    conn.sendall(f"HTTP/1.1 {self.status} {reason}\r\nLocation: {self._location(target)}\r\n"
                                 f"Content-Type: application/xml\r\nContent-Length: {len(msg)}\r\n\r\n"
                                 .encode("latin-1") + (b"" if method == "HEAD" else msg))
                    continue
                if self.upstream is None:
                    raise ConnectionError("nowhere to forward to")
                if up is None:
                    up = socket.create_connection(self.upstream)
                up.sendall(head + body)
                rhead, rbody = _read_message(up, upbuf, method)
                conn.sendall(rhead + rbody)
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            conn.close()
            if up is not None:
                up.close()
