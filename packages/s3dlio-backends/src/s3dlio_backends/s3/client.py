"""S3Client: signed S3 requests over the lean HTTP path, with retries and typed errors.

One client per endpoint and process. Every request is: build the head (SigV4, UNSIGNED-PAYLOAD for
bodiless requests), take a keep-alive socket from the pool, send, read the head, and hand the socket to a
reader callback that takes the body straight into its destination. Failures are retried (throttling,
5xx, broken connections) per `retry.py`; a stale keep-alive socket is replaced without using an attempt.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import ssl
from collections.abc import Callable
from typing import Any, TypeVar

from s3dlio_core.errors import (
    InvalidUriError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3dlioError,
    StorageIOError,
)
from s3dlio_core.settings import settings

from ..http_pool import ConnectionLost, ConnectionPool, HttpConnection, HttpResponseHead, ProtocolError
from ..retry import is_retryable_status, sleep_before_retry
from ..sigv4 import EMPTY_SHA256, UNSIGNED_PAYLOAD, Signer, canonical_query, quote_path, sha256_hex
from .config import CredentialSource, Endpoint, tls_context
from .xml_codec import parse_error

__all__ = ["S3Client", "S3RequestError"]

log = logging.getLogger("s3dlio.s3")
R = TypeVar("R")
Reader = Callable[[HttpConnection, HttpResponseHead], Any]
_MAX_STALE = 3  # stale keep-alive sockets replaced per request without using a retry attempt


class S3RequestError(StorageIOError):
    """An S3 request failed; `status` and `code` say how (e.g. 500 InternalError)."""

    def __init__(self, message: str, uri: str | None, status: int | None = None, code: str | None = None):
        super().__init__(message, uri)
        self.status = status
        self.code = code


def _drain(conn: HttpConnection, head: HttpResponseHead) -> None:
    conn.discard_body(head, "GET")


class S3Client:
    """Signed requests to one S3 endpoint."""

    def __init__(self, endpoint: Endpoint, credentials: CredentialSource | None = None) -> None:
        self.endpoint = endpoint
        self.signer = Signer(endpoint.region)
        self.credentials = credentials or CredentialSource()
        self._pools: dict[str, ConnectionPool] = {}
        self._tls = tls_context() if endpoint.scheme == "https" else None
        s = settings()
        self.connect_timeout = s.connect_timeout_s
        self.timeout = s.operation_timeout_s
        self.max_idle = s.pool_max_idle_per_host
        self.sign_payloads = endpoint.scheme == "http" and not s.unsigned_payload
        self._path_pool = self._pool(endpoint.host)
        self._path_host = endpoint.host_header()

    def __repr__(self) -> str:
        return f"S3Client(endpoint={self.endpoint.url!r}, region={self.endpoint.region!r})"

    # ---- routing ----
    def _pool(self, host: str) -> ConnectionPool:
        p = self._pools.get(host)
        if p is None:
            p = ConnectionPool(host, self.endpoint.port, self._tls, host, self.connect_timeout,
                               self.timeout, self.max_idle)
            self._pools[host] = p
        return p

    def route(self, bucket: str, key: str | None) -> tuple[ConnectionPool, str, str]:
        """(pool, Host header, encoded path) for an object (key) or a bucket (key None)."""
        ep = self.endpoint
        if not bucket:
            return self._path_pool, self._path_host, ep.base_path + "/"
        vhost = ep.virtual_host(bucket)
        if vhost is not None:
            path = "/" + quote_path(key) if key is not None else "/"
            return self._pool(vhost), ep.host_header(vhost), path
        path = f"{ep.base_path}/{bucket}/" + (quote_path(key) if key is not None else "")
        if key is None:
            path = f"{ep.base_path}/{bucket}"
        return self._path_pool, self._path_host, path

    def payload_hash(self, body: Any) -> str:
        """SHA-256 of the body on plain http (integrity without TLS); UNSIGNED-PAYLOAD over https or
        with S3DLIO_UNSIGNED_PAYLOAD=1."""
        if body is None:
            return EMPTY_SHA256 if self.sign_payloads else UNSIGNED_PAYLOAD
        return sha256_hex(body) if self.sign_payloads else UNSIGNED_PAYLOAD

    # ---- the one request loop ----
    def request(self, method: str, uri: str, op: str, bucket: str, key: str | None, reader: Reader,
                query: dict[str, str] | str | None = None, headers: dict[str, str] | None = None,
                body: Any = None, payload_hash: str | None = None, accept: frozenset[int] = frozenset(),
                ) -> Any:
        """Send one request (retrying as the policy allows) and return `reader(conn, head)` for a 2xx
        answer (or a status in `accept`); any other answer raises a typed error naming `uri`."""
        pool, host, path = self.route(bucket, key)
        q = query if isinstance(query, str) else canonical_query(query)
        target = f"{path}?{q}" if q else path
        if payload_hash is None:
            payload_hash = UNSIGNED_PAYLOAD if body is None else self.payload_hash(body)
        attempts = settings().max_retry_attempts
        attempt = 1
        stale = 0
        expired_retry = True
        while True:
            creds = self.credentials.get()
            h = {"host": host}
            if headers:
                h.update(headers)
            if body is not None:
                h["content-length"] = str(len(body))
            self.signer.sign(method, path, q, h, payload_hash, creds.access_key, creds.secret_key,
                             creds.token)
            head = "".join([f"{method} {target} HTTP/1.1\r\n", *(f"{k}: {v}\r\n" for k, v in h.items()),
                            "\r\n"]).encode("latin-1")
            conn = pool.acquire()
            try:
                conn.send(head, body)
                resp = conn.read_head()
                status = resp.status
                if status < 300 or status in accept:
                    result = reader(conn, resp)
                    pool.release(conn)
                    return result
                err_body = bytes(conn.read_body(resp, method)) if status != 304 else b""
                pool.release(conn)
            except ConnectionLost as e:
                conn.close()
                if e.no_response and stale < _MAX_STALE:
                    stale += 1
                    continue
                if attempt < attempts:
                    log.debug("S3 %s %s: %s; retrying (attempt %d of %d)", op, uri, e, attempt + 1,
                              attempts)
                    sleep_before_retry(attempt)
                    attempt += 1
                    continue
                raise StorageIOError(f"S3 {op} for {uri} failed after {attempt} attempt(s): "
                                     f"{self._redact(str(e))}", uri) from None
            except (TimeoutError, ProtocolError, OSError) as e:
                conn.close()
                if isinstance(e, S3dlioError):
                    raise
                if attempt < attempts and not isinstance(e, ssl.SSLCertVerificationError):
                    log.debug("S3 %s %s: %s; retrying (attempt %d of %d)", op, uri, type(e).__name__,
                              attempt + 1, attempts)
                    sleep_before_retry(attempt)
                    attempt += 1
                    continue
                raise StorageIOError(f"S3 {op} for {uri} failed after {attempt} attempt(s): "
                                     f"{type(e).__name__}: {self._redact(str(e))}", uri) from None
            except BaseException:
                conn.close()
                raise
            code, message = parse_error(err_body)
            if code in ("ExpiredToken", "TokenRefreshRequired", "RequestExpired") and expired_retry:
                expired_retry = False
                self.credentials.invalidate()
                continue
            if is_retryable_status(status) and attempt < attempts:
                log.debug("S3 %s %s: HTTP %d %s; retrying (attempt %d of %d)", op, uri, status, code,
                          attempt + 1, attempts)
                sleep_before_retry(attempt, throttled=status in (429, 503) or code == "SlowDown")
                attempt += 1
                continue
            raise self.error(op, uri, status, code, message, method)

    def _redact(self, text: str) -> str:
        c = self.credentials._frozen
        if c is not None:
            for secret in (c.secret_key, c.token, c.access_key):
                if secret and secret in text:
                    text = text.replace(secret, "<redacted>")
        return text

    def error(self, op: str, uri: str, status: int, code: str | None, message: str | None,
              method: str = "GET") -> S3dlioError:
        """The typed error for an S3 error answer (the URI in the message, never a credential)."""
        if not code:
            code = {404: "NotFound", 403: "Forbidden", 401: "Unauthorized"}.get(status, f"HTTP {status}")
        detail = f"{code} ({self._redact(message)})" if message else code
        text = f"S3 {op} for {uri} failed: {detail} (HTTP {status})"
        log.debug("%s", text)
        if status == 404:
            if code == "NoSuchKey" or (code == "NotFound" and method == "HEAD"):
                text += " — object key does not exist"
            elif code == "NoSuchBucket":
                text += " — bucket does not exist"
            return ObjectNotFoundError(text, uri)
        if status in (401, 403):
            return PermissionDeniedError(text + " — access denied", uri)
        if code == "InvalidBucketName":
            return InvalidUriError(text, uri)
        return S3RequestError(text, uri, status, code)

    # ---- small helpers for control-plane calls ----
    def call(self, method: str, uri: str, op: str, bucket: str, key: str | None = None,
             query: dict[str, str] | str | None = None, headers: dict[str, str] | None = None,
             body: bytes | None = None, md5: bool = False, accept: frozenset[int] = frozenset(),
             ) -> tuple[HttpResponseHead, bytes]:
        """A request whose (small) answer body is returned whole; control-plane bodies are always signed."""
        hdrs = dict(headers or {})
        if md5 and body is not None:
            hdrs["content-md5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
        ph = sha256_hex(body if body is not None else b"")

        def read(conn: HttpConnection, head: HttpResponseHead) -> tuple[HttpResponseHead, bytes]:
            return head, bytes(conn.read_body(head, method))

        return self.request(method, uri, op, bucket, key, read, query, hdrs, body, ph, accept)

    def close(self) -> None:
        for p in self._pools.values():
            p.close_all()
