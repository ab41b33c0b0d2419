"""MultiEndpointStore: one namespace served by several endpoints (replicas), with load balancing and
failover.

Every request picks an endpoint (round-robin or least-connections) and its URI is rewritten onto it: a
URI under any configured endpoint prefix has that prefix replaced by the chosen endpoint's; a relative
path is appended to the chosen endpoint; any other URI is used as given.

Failures: an endpoint that fails (connection refused, I/O error, 5xx after the store's own retries) leaves
the rotation for a back-off period (1 s, doubling to 30 s) and is probed again by one request once it
ends; the request that hit the failure is retried on the next healthy endpoint, so it is not lost. A read
that finds no object on the chosen endpoint tries the others (the endpoint the URI names first) before
it reports not-found, so endpoints that are not (yet) full replicas still serve every object; a delete
removes the object from every endpoint that is up. Statistics count every attempt and every error.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from s3dlio_core import BytesView, bounded_map, store_for_uri, submit_async
from s3dlio_core.bytes_view import as_buffer
from s3dlio_core.errors import (
    InvalidUriError,
    LengthMismatchError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3dlioError,
    UnsupportedOperationError,
)
from s3dlio_core.uri import scheme_of

__all__ = ["MultiEndpointStore", "MAX_ENDPOINTS", "STRATEGIES", "is_endpoint_failure"]

log = logging.getLogger("s3dlio.multi_endpoint")
T = TypeVar("T")
MAX_ENDPOINTS = 32
STRATEGIES = ("round_robin", "least_connections")
# errors that say the request (not the endpoint) is wrong: no failover, the endpoint stays in rotation
_CLIENT_ERRORS = (ObjectNotFoundError, PermissionDeniedError, InvalidUriError, LengthMismatchError,
                  UnsupportedOperationError, TypeError, ValueError, LookupError, ArithmeticError,
                  AttributeError)
_FAIL = "Failed to create multi-endpoint store"


def is_endpoint_failure(e: BaseException) -> bool:
    """True when `e` says the endpoint itself is unusable (connection, I/O, 5xx), not the request."""
    status = getattr(e, "status", None) or getattr(e, "status_code", None)
    if isinstance(status, int) and 400 <= status < 500:
        return False
    return isinstance(e, Exception) and not isinstance(e, _CLIENT_ERRORS)


class _Endpoint:
    """One endpoint: its counters and health (guarded by the store's lock)."""

    __slots__ = (
        "active_requests",
        "bytes_read",
        "bytes_written",
        "down_until",
        "error_count",
        "failures",
        "index",
        "prefix",
        "probing",
        "total_requests",
        "uri",
    )

    def __init__(self, uri: str, index: int) -> None:
        self.uri = uri
        self.prefix = uri if uri.endswith("/") else uri + "/"
        self.index = index
        self.total_requests = 0
        self.bytes_read = 0
        self.bytes_written = 0
        self.error_count = 0
        self.active_requests = 0
        self.failures = 0  # consecutive endpoint failures
        self.down_until = 0.0  # monotonic time the back-off ends (0 = healthy)
        self.probing = False

    def usable(self, now: float) -> bool:
        return self.failures == 0 or (now >= self.down_until and not self.probing)

    def stats(self) -> dict[str, Any]:
        return {"uri": self.uri, "total_requests": self.total_requests, "bytes_read": self.bytes_read,
                "bytes_written": self.bytes_written, "error_count": self.error_count,
                "active_requests": self.active_requests}


def _validated(uris: Any, strategy: str | None) -> tuple[list[str], str]:
    strategy = "round_robin" if strategy is None else strategy
    if strategy not in STRATEGIES:
        raise S3dlioError(f"Invalid strategy {strategy!r}. Use 'round_robin' or 'least_connections'")
    if isinstance(uris, str):
        raise TypeError("uris must be a list of URI strings, not a single str")
    uris = list(uris)
    for u in uris:
        if not isinstance(u, str):
            raise TypeError(f"endpoint URIs must be str, got {type(u).__name__}")
    if not uris:
        raise S3dlioError(f"{_FAIL}: Multi-endpoint store requires at least one endpoint")
    if len(uris) > MAX_ENDPOINTS:
        raise S3dlioError(f"{_FAIL}: Too many endpoints: {len(uris)} exceeds maximum of {MAX_ENDPOINTS} "
                          "(MAX_ENDPOINTS)")
    schemes: list[str] = []
    for u in uris:
        try:
            s = scheme_of(u)
        except InvalidUriError as e:
            raise InvalidUriError(f"{_FAIL}: {e}", u) from None
        if s not in schemes:
            schemes.append(s)
    if len(schemes) > 1:
        raise S3dlioError(f"{_FAIL}: All endpoints must use the same URI scheme. Found {schemes[0]} and "
                          f"{schemes[1]}")
    return uris, strategy


class MultiEndpointStore:
    """Load-balanced, failing-over access to several endpoints holding the same objects.

    I/O methods are coroutines (await them); `endpoint_count`, `strategy` and the stats are plain calls.
    """

    def __init__(self, uris: Sequence[str], strategy: str | None = "round_robin", *,
                 backoff_s: float = 1.0, max_backoff_s: float = 30.0) -> None:
        uris, strategy = _validated(uris, strategy)
        self._eps = [_Endpoint(u, i) for i, u in enumerate(uris)]
        self._strategy = strategy
        self._lock = threading.Lock()
        self._rr = itertools.count()
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        # longest prefixes first, so nested endpoint prefixes rewrite correctly
        self._by_prefix = sorted(self._eps, key=lambda e: len(e.prefix), reverse=True)

    def __repr__(self) -> str:
        return f"MultiEndpointStore({len(self._eps)} endpoints, strategy={self._strategy!r})"

    # ---------------------------------------------------------------- properties and stats
    def endpoint_count(self) -> int:
        return len(self._eps)

    def strategy(self) -> str:
        return self._strategy

    def get_endpoint_stats(self) -> list[dict[str, Any]]:
        """Per endpoint: uri, total_requests, bytes_read, bytes_written, error_count, active_requests."""
        with self._lock:
            return [e.stats() for e in self._eps]

    def get_total_stats(self) -> dict[str, int]:
        """The per-endpoint counters summed (no 'uri')."""
        total = {"total_requests": 0, "bytes_read": 0, "bytes_written": 0, "error_count": 0,
                 "active_requests": 0}
        for s in self.get_endpoint_stats():
            for k in total:
                total[k] += s[k]
        return total

    def endpoint_health(self) -> list[dict[str, Any]]:
        """Per endpoint: uri, healthy, consecutive failures and seconds left in its back-off."""
        now = time.monotonic()
        with self._lock:
            return [{"uri": e.uri, "healthy": e.failures == 0, "failures": e.failures,
                     "backoff_remaining_s": max(0.0, e.down_until - now) if e.failures else 0.0}
                    for e in self._eps]

    # ---------------------------------------------------------------- routing
    def _named(self, uri: str) -> tuple[_Endpoint | None, str | None]:
        """(endpoint whose prefix `uri` starts with, the rest) or (None, relative path) or (None, None)."""
        for e in self._by_prefix:
            if uri.startswith(e.prefix):
                return e, uri[len(e.prefix):]
            if uri == e.uri or uri + "/" == e.prefix:
                return e, ""
        if "://" not in uri:
            return None, uri.lstrip("/")
        return None, None

    @staticmethod
    def _on(ep: _Endpoint, rest: str | None, uri: str) -> str:
        return uri if rest is None else ep.prefix + rest

    def _pick(self, exclude: Sequence[_Endpoint] = ()) -> _Endpoint | None:
        """Choose the next endpoint by strategy among usable ones not in `exclude`; when none is usable,
        the one whose back-off ends first (a probe beats failing outright)."""
        now = time.monotonic()
        eps = self._eps
        n = len(eps)
        with self._lock:
            if self._strategy == "round_robin":
                start = next(self._rr)
                for k in range(n):
                    e = eps[(start + k) % n]
                    if e not in exclude and e.usable(now):
                        return self._claim(e)
            else:
                best = None
                for e in eps:
                    if e not in exclude and e.usable(now) and (
                            best is None or e.active_requests < best.active_requests):
                        best = e
                if best is not None:
                    return self._claim(best)
            rest = [e for e in eps if e not in exclude]
            if not rest:
                return None
            return self._claim(min(rest, key=lambda e: e.down_until))

    def _claim(self, e: _Endpoint) -> _Endpoint:
        e.total_requests += 1
        e.active_requests += 1
        if e.failures:
            e.probing = True
        return e

    def _done(self, e: _Endpoint, *, read: int = 0, written: int = 0, error: BaseException | None = None,
              endpoint_failed: bool = False) -> None:
        with self._lock:
            e.active_requests -= 1
            e.bytes_read += read
            e.bytes_written += written
            was_probe = e.probing
            e.probing = False
            if error is not None:
                e.error_count += 1
            if endpoint_failed:
                e.failures += 1
                delay = min(self._max_backoff_s, self._backoff_s * (2 ** (e.failures - 1)))
                e.down_until = time.monotonic() + delay
                log.info("endpoint %s failed (%s); out of rotation for %.1fs", e.uri, error, delay)
            elif error is None or not is_endpoint_failure(error):
                if e.failures:
                    log.info("endpoint %s is healthy again%s", e.uri, " (probe)" if was_probe else "")
                e.failures = 0
                e.down_until = 0.0

    def _run(self, uri: str, call: Callable[[str], T], *, read_fallback: bool = False,
             size_in: int = 0, size_out: Callable[[T], int] | None = None) -> T:
        """Run `call(rewritten_uri)` on a chosen endpoint, failing over on endpoint failures (and, for
        reads, on not-found) to the other endpoints."""
        named, rest = self._named(uri)
        tried: list[_Endpoint] = []
        last_failure: BaseException | None = None
        not_found: BaseException | None = None
        first = self._pick()
        order_hint = named
        e = first
        while e is not None:
            tried.append(e)
            target = self._on(e, rest, uri)
            try:
                result = call(target)
            except Exception as exc:
                if is_endpoint_failure(exc):
                    self._done(e, error=exc, endpoint_failed=True)
                    last_failure = exc
                elif read_fallback and isinstance(exc, ObjectNotFoundError) and rest is not None:
                    self._done(e)
                    not_found = not_found or exc
                else:
                    self._done(e, error=exc)
                    raise
                e = self._next_after_miss(tried, order_hint)
                order_hint = None
                continue
            self._done(e, read=size_out(result) if size_out else 0, written=size_in)
            return result
        if not_found is not None and last_failure is None:
            with self._lock:
                tried[0].error_count += 1
            raise not_found
        assert last_failure is not None
        raise last_failure

    def _next_after_miss(self, tried: list[_Endpoint], hint: _Endpoint | None) -> _Endpoint | None:
        if hint is not None and hint not in tried:
            now = time.monotonic()
            with self._lock:
                if hint.usable(now):
                    return self._claim(hint)
        return self._pick(exclude=tried)

    # ---------------------------------------------------------------- sync operations
    def _put(self, uri: str, data: Any) -> None:
        mv = as_buffer(data)
        self._run(uri, lambda u: store_for_uri(u)[0].put(u, mv), size_in=mv.nbytes)

    def _get(self, uri: str) -> BytesView:
        return self._run(uri, lambda u: store_for_uri(u)[0].get(u), read_fallback=True, size_out=len)

    def _get_range(self, uri: str, offset: int, length: int | None) -> BytesView:
        return self._run(uri, lambda u: store_for_uri(u)[0].get_range(u, offset, length), read_fallback=True,
                         size_out=len)

    def _stat(self, uri: str) -> dict[str, Any]:
        return self._run(uri, lambda u: store_for_uri(u)[0].stat(u), read_fallback=True)

    def _view_prefix(self, uri: str) -> tuple[str, str]:
        """(the prefix results are shown under, the path below the endpoint root)."""
        named, rest = self._named(uri)
        if rest is None:
            raise InvalidUriError(f"{uri!r} is under none of the endpoints {[e.uri for e in self._eps]}", uri)
        return (named or self._eps[0]).prefix, rest

    def _each_usable(self, rest: str, call: Callable[[str], T], *, absent_ok: bool = False
                     ) -> tuple[list[tuple[_Endpoint, T | None]], list[BaseException]]:
        """Run `call(endpoint prefix + rest)` on every endpoint that is up, each outcome counted in the
        stats. Returns the endpoints that answered (with their results) and the endpoint failures; an
        error that is not the endpoint's fault is raised. With `absent_ok`, ObjectNotFoundError is an
        answer (result None)."""
        answers: list[tuple[_Endpoint, T | None]] = []
        failures: list[BaseException] = []
        for e in self._eps:
            with self._lock:
                if not e.usable(time.monotonic()):
                    continue
                self._claim(e)
            try:
                result = call(e.prefix + rest)
            except Exception as exc:
                if absent_ok and isinstance(exc, ObjectNotFoundError):
                    self._done(e)
                    answers.append((e, None))
                    continue
                failed = is_endpoint_failure(exc)
                self._done(e, error=exc, endpoint_failed=failed)
                if not failed:
                    raise
                failures.append(exc)
                continue
            self._done(e)
            answers.append((e, result))
        return answers, failures

    def _list_union(self, uri: str, recursive: bool) -> list[tuple[str, str, _Endpoint]]:
        """(relative path, URI on the endpoint that has it, that endpoint), merged over every endpoint that
        is up, sorted by relative path."""
        _, rest = self._view_prefix(uri)
        answers, failures = self._each_usable(
            rest, lambda t: store_for_uri(t)[0].list(t, recursive=recursive), absent_ok=True)
        if not answers and failures:
            raise failures[-1]
        seen: dict[str, tuple[str, _Endpoint]] = {}
        for e, found in answers:
            for f in found or ():
                if f.startswith(e.prefix):
                    seen.setdefault(f[len(e.prefix):], (f, e))
        return [(rel, u, e) for rel, (u, e) in sorted(seen.items())]

    def _list(self, uri: str, recursive: bool = False) -> list[dict[str, Any]]:
        view, _ = self._view_prefix(uri)
        entries = self._list_union(uri, recursive)

        def sized(item: tuple[str, str, _Endpoint]) -> dict[str, Any]:
            rel, found_uri, _ = item
            if found_uri.endswith("/"):
                return {"uri": view + rel, "size": 0}
            try:
                size = store_for_uri(found_uri)[0].stat(found_uri)["size"]
            except ObjectNotFoundError:  # deleted between list and stat
                size = None
            return {"uri": view + rel, "size": size}

        out = bounded_map(sized, entries, 32) if entries else []
        return [d for d in out if d["size"] is not None]

    def _list_all_endpoints(self, uri: str, recursive: bool = False) -> list[str]:
        view, _ = self._view_prefix(uri)
        return [view + rel for rel, _, _ in self._list_union(uri, recursive)]

    def _delete(self, uri: str) -> None:
        _, rest = self._named(uri)
        if rest is None:
            self._run(uri, lambda u: store_for_uri(u)[0].delete(u))
            return
        answers, failures = self._each_usable(rest, lambda t: store_for_uri(t)[0].delete(t))
        if not answers:
            if failures:
                raise failures[-1]
            self._run(uri, lambda u: store_for_uri(u)[0].delete(u))  # every endpoint down: probe one

    def _endpoint(self, index: int) -> _Endpoint:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"endpoint index must be an int, got {type(index).__name__}")
        if not 0 <= index < len(self._eps):
            raise S3dlioError(f"endpoint index {index} out of range: {len(self._eps)} endpoint(s) configured")
        return self._eps[index]

    def _on_endpoint(self, index: int, uri: str, call: Callable[[str], T], *, size_in: int = 0,
                     size_out: Callable[[T], int] | None = None) -> T:
        e = self._endpoint(index)
        _, rest = self._named(uri)
        with self._lock:
            self._claim(e)
        try:
            result = call(self._on(e, rest, uri))
        except Exception as exc:
            self._done(e, error=exc, endpoint_failed=is_endpoint_failure(exc))
            raise
        self._done(e, read=size_out(result) if size_out else 0, written=size_in)
        return result

    # ---------------------------------------------------------------- async API
    async def put(self, uri: str, data: Any, *, borrow: bool = True) -> None:
        """Write the object on one endpoint (failing over to the next if that endpoint is down)."""
        await submit_async(self._put, uri, data)

    async def get(self, uri: str) -> BytesView:
        """The whole object, from one endpoint (the others if it is missing there or the endpoint fails)."""
        return await submit_async(self._get, uri)

    async def get_range(self, uri: str, offset: int = 0, length: int | None = None) -> BytesView:
        """`length` bytes from `offset` (to the end when None)."""
        return await submit_async(self._get_range, uri, offset, length)

    async def stat(self, uri: str) -> dict[str, Any]:
        return await submit_async(self._stat, uri)

    async def list(self, prefix: str, recursive: bool = False) -> list[dict[str, Any]]:
        """Objects under `prefix` on every endpoint that is up, merged: dicts with 'uri' (shown under the
        endpoint `prefix` names) and 'size'."""
        return await submit_async(self._list, prefix, recursive)

    async def list_all_endpoints(self, prefix: str, recursive: bool = False) -> list[str]:
        """URIs under `prefix` on every endpoint, merged and deduplicated."""
        return await submit_async(self._list_all_endpoints, prefix, recursive)

    async def delete(self, uri: str) -> None:
        """Delete the object from every endpoint that is up (a missing object is fine)."""
        await submit_async(self._delete, uri)

    async def put_all_endpoints(self, uri: str, data: Any, *, borrow: bool = True) -> None:
        """Write the object to every endpoint (not transactional: the first failure is raised)."""
        mv = as_buffer(data)

        def all_() -> None:
            bounded_map(lambda i: self._on_endpoint(i, uri, lambda u: store_for_uri(u)[0].put(u, mv),
                                                    size_in=mv.nbytes), range(len(self._eps)), 32)

        await submit_async(all_)

    async def get_from_endpoint(self, index: int, uri: str) -> BytesView:
        return await submit_async(self._on_endpoint, index, uri, lambda u: store_for_uri(u)[0].get(u),
                                  size_out=len)

    async def put_to_endpoint(self, index: int, uri: str, data: Any, *, borrow: bool = True) -> None:
        mv = as_buffer(data)
        await submit_async(self._on_endpoint, index, uri, lambda u: store_for_uri(u)[0].put(u, mv),
                           size_in=mv.nbytes)

    async def delete_from_endpoint(self, index: int, uri: str) -> None:
        await submit_async(self._on_endpoint, index, uri, lambda u: store_for_uri(u)[0].delete(u))
