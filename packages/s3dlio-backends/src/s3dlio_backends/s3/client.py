"""S3Client: signed S3 requests over the lean HTTP path, with retries and typed errors.

One client per endpoint and process. Every request is: build the head (SigV4, UNSIGNED-PAYLOAD for
bodiless requests), take a keep-alive socket from the pool, send, read the head, and hand the socket to a
reader callback that takes the body straight into its destination. Failures are retried (throttling,
5xx, broken connections) by retry.py's one loop and classifier; a stale keep-alive socket is replaced, and
an expired token refreshed once, without using an attempt. Errors are typed by http_errors.py.

Each request holds a slot of the endpoint's adaptive in-flight limit (`limit`, retry.py) from its send
until its answer's head is in, and reports that answer (a 503 SlowDown cuts the limit). With
S3DLIO_FOLLOW_REDIRECTS a 3xx with a Location is followed as redirect.py says, each hop signed anew for
its host; the limit and the redirect mode are read when the client is made (once per store and process).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import ssl
from collections.abc import Callable
from typing import Any

from s3dlio_core.errors import InvalidUriError, S3dlioError, StorageIOError
from s3dlio_core.settings import Settings, settings

from ..http_errors import http_error
from ..http_pool import ConnectionLost, ConnectionPool, HttpConnection, HttpResponseHead
from ..retry import Retry, classify, classify_error, endpoint_limit, retry_after, settle
from ..sigv4 import EMPTY_SHA256, UNSIGNED_PAYLOAD, Signer, canonical_query, quote_path, sha256_hex
from .config import CredentialSource, Endpoint, tls_context
from .redirect import REDIRECT_STATUSES, Hop, next_hop, redirect_hint, redirect_mode, too_many_redirects
from .xml_codec import parse_error

__all__ = ["S3Client"]

log = logging.getLogger("s3dlio.s3")
Reader = Callable[[HttpConnection, HttpResponseHead], Any]
_MAX_STALE = 3  # stale keep-alive sockets replaced per request without using a retry attempt
_EXPIRED = frozenset({"ExpiredToken", "TokenRefreshRequired", "RequestExpired"})


def _encode_head(method: str, target: str, headers: dict[str, str]) -> bytes:
    return "".join([f"{method} {target} HTTP/1.1\r\n", *(f"{k}: {v}\r\n" for k, v in headers.items()),
                    "\r\n"]).encode("latin-1")


class S3Client:
    """Signed requests to one S3 endpoint."""

    def __init__(self, endpoint: Endpoint, credentials: CredentialSource | None = None,
                 settings_of: Callable[[], Settings] = settings, ca_bundle: str | None = None) -> None:
        self.endpoint = endpoint
        self.signer = Signer(endpoint.region)
        self.credentials = credentials or CredentialSource()
        self._settings = settings_of  # the owning store's effective settings, read per request
        self._pools: dict[str, ConnectionPool] = {}
        self._hop_pools: dict[tuple[str, str, int], ConnectionPool] = {}  # redirect targets
        self._ca_bundle = ca_bundle
        self._tls = tls_context(ca_bundle) if endpoint.scheme == "https" else None
        s = settings_of()
        self.connect_timeout = s.connect_timeout_s
        self.timeout = s.operation_timeout_s
        self.max_idle = s.pool_max_idle_per_host
        self.sign_payloads = endpoint.scheme == "http" and not s.unsigned_payload
        #: the endpoint's adaptive in-flight limit (None: S3DLIO_ADAPTIVE_CONCURRENCY=0)
        self.limit = endpoint_limit(s)
        self.redirects = redirect_mode(s.follow_redirects)
        self.redirect_max = max(0, int(s.redirect_max))
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

    def _hop_pool(self, hop: Hop) -> ConnectionPool:
        """The pool of a redirect target (TLS verified against its own host name)."""
        k = (hop.scheme, hop.host, hop.port)
        p = self._hop_pools.get(k)
        if p is None:
            tls = None
            if hop.scheme == "https":
                tls = self._tls if self._tls is not None else tls_context(self._ca_bundle)
            p = ConnectionPool(hop.host, hop.port, tls, hop.host, self.connect_timeout, self.timeout,
                               self.max_idle)
            self._hop_pools[k] = p
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
                first_attempt: int = 1) -> Any:
        """Send one request (retrying as retry.py's classifier allows) and return `reader(conn, head)` for
        a 2xx answer (or a status in `accept`); any other answer raises a typed error naming `uri`.
        `first_attempt` > 1 continues a request whose earlier attempts were made elsewhere (mux.py)."""
        pool, host, path = self.route(bucket, key)
        q = query if isinstance(query, str) else canonical_query(query)
        target = f"{path}?{q}" if q else path
        ph = payload_hash if payload_hash is not None else (
            UNSIGNED_PAYLOAD if body is None else self.payload_hash(body))
        # plain object GETs (the data path) are signed and encoded in one pass
        fast_get = (method == "GET" and not q and body is None and ph == UNSIGNED_PAYLOAD
                    and (not headers or headers.keys() == {"range"}))
        rng = headers.get("range") if headers else None
        refresh = [True]  # one credential refresh per request on an expired-token answer
        lim = self.limit

        def attempt() -> Any:
            stale = 0
            hop: Hop | None = None  # where a redirect sent this attempt (None: the endpoint itself)
            hops = 0
            cur = pool
            while True:
                creds = self.credentials.get()
                if fast_get and hop is None:
                    head = self.signer.get_request(path, host, rng, creds.access_key, creds.secret_key,
                                                   creds.token)
                else:
                    h_host, h_path, h_q = (host, path, q) if hop is None else (hop.host_header, hop.path,
                                                                               hop.query)
                    h = {"host": h_host}
                    if headers:
                        h.update(headers)
                    if body is not None:
                        h["content-length"] = str(len(body))
                    self.signer.sign(method, h_path, h_q, h, ph, creds.access_key, creds.secret_key,
                                     creds.token)
                    head = _encode_head(method, target if hop is None else (
                        f"{h_path}?{h_q}" if h_q else h_path), h)
                held = lim  # the slot this attempt holds until its answer's head is in (waited for first:
                if held is not None:  # a socket taken before a long wait could go stale meanwhile)
                    held.acquire()
                    epoch = held.epoch
                try:
                    conn = cur.acquire()
                except BaseException:
                    if held is not None:
                        held.release(False)
                    raise
                try:
                    conn.send(head, body)
                    resp = conn.read_head()
                    status = resp.status
                    if status < 300 or status in accept:
                        if held is not None:
                            held.release()
                            held = None
                        result = reader(conn, resp)
                        cur.release(conn)
                        return result
                    err_body = bytes(conn.read_body(resp, method)) if status != 304 else b""
                    cur.release(conn)
                except ConnectionLost as e:
                    conn.close()
                    if held is not None:
                        held.release(False)
                    if e.no_response and stale < _MAX_STALE:  # a keep-alive socket the server had closed
                        stale += 1
                        continue
                    raise
                except BaseException:
                    conn.close()
                    if held is not None:
                        held.release(False)
                    raise
                code, message = parse_error(err_body)
                if held is not None:
                    settle(held, classify(status, code), epoch)
                if code in _EXPIRED and refresh[0]:
                    refresh[0] = False
                    self.credentials.invalidate()
                    continue
                location = resp.get("location") if status in REDIRECT_STATUSES else None
                if location and self.redirects != "off":
                    here = hop or Hop(self.endpoint.scheme, cur.host, cur.port, host, path, q)
                    if hops >= self.redirect_max:
                        raise too_many_redirects(op, uri, self.redirect_max, here, status)
                    hop = next_hop(here, location, self.redirects, self.endpoint.scheme, op, uri)
                    hops += 1
                    cur = self._hop_pool(hop)
                    log.debug("S3 %s %s: HTTP %d, following the redirect to %s", op, uri, status, hop.origin)
                    continue
                raise self.error(op, uri, status, code, message, method, location)

        try:
            return attempt()  # the common case: no retry machinery on the way
        except Exception as e:
            first_error = e

        def give_up(e: BaseException, attempts: int) -> BaseException | None:
            if classify_error(e) is Retry.NO and not isinstance(e, ssl.SSLCertVerificationError):
                return None  # not a network failure: raised as it is
            detail = f"{type(e).__name__}: " if not isinstance(e, ConnectionLost) else ""
            return StorageIOError(f"S3 {op} for {uri} failed after {attempts} attempt(s): "
                                  f"{detail}{self._redact(str(e))}", uri)

        return retry_after(first_error, attempt, attempts=self._settings().max_retry_attempts,
                           first_attempt=first_attempt, give_up=give_up, what=f"S3 {op} {uri}", limit=lim)

    def signed_get(self, bucket: str, key: str, rng: str | None) -> tuple[ConnectionPool, bytes]:
        """(pool, request head) of a signed GET of one object, optionally with a Range header value
        (for callers that drive sockets themselves)."""
        pool, host, path = self.route(bucket, key)
        creds = self.credentials.get()
        return pool, self.signer.get_request(path, host, rng, creds.access_key, creds.secret_key, creds.token)

    def _redact(self, text: str) -> str:
        c = self.credentials._frozen
        if c is not None:
            for secret in (c.secret_key, c.token, c.access_key):
                if secret and secret in text:
                    text = text.replace(secret, "<redacted>")
        return text

    def error(self, op: str, uri: str, status: int, code: str | None, message: str | None,
              method: str = "GET", location: str | None = None) -> S3dlioError:
        """The typed error for an S3 error answer (the URI in the message, never a credential);
        `location`: the Location of a redirect that was not followed."""
        hint = None
        if location:
            hint = redirect_hint(location)
        elif status == 404:
            if code == "NoSuchKey" or (code in (None, "NotFound") and method == "HEAD"):
                hint = "object key does not exist"
            elif code == "NoSuchBucket":
                hint = "bucket does not exist"
        elif status == 301 or code in ("PermanentRedirect", "AuthorizationHeaderMalformed"):
            hint = f"the bucket may live in another region than {self.endpoint.region!r}; set AWS_REGION"
        err = http_error("S3", op, uri, status, code, self._redact(message) if message else None, hint)
        log.debug("%s", err)
        if code == "InvalidBucketName":
            return InvalidUriError(str(err), uri)
        return err

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
