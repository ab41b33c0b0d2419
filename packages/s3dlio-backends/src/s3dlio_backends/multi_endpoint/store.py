"""MultiEndpointStore: one namespace served by several endpoints (replicas), with load balancing and
failover, as an ObjectStore: loaders, checkpoints and the fsspec adapter take it like any other store
(sync primitives here; the `*_async` twins, ranges, readers and bulk calls come from the base class). The
spec's async facade (`await store.put(...)`, the stats) is the meta-package's thin wrapper over it.

Every request picks an endpoint (round-robin or least-connections) and its URI is rewritten onto it: a
URI under any configured endpoint prefix has that prefix replaced by the chosen endpoint's; any other
URI is used as given. Keys rewritten under an endpoint root never escape it (`..` segments, absolute
keys and NUL are refused with InvalidUriError naming the URI). `resolve(key)` turns a relative key into
a URI under the endpoints (the facade's relative paths).

Failures: an endpoint that fails (connection refused, I/O error, 5xx after the store's own retries) leaves
the rotation for a back-off period (1 s, doubling to 30 s) and is probed again by one request once it
ends; the request that hit the failure is retried on the next healthy endpoint, so it is not lost. A read
that finds no object on the chosen endpoint tries the others (the endpoint the URI names first) before
it reports not-found, so endpoints that are not (yet) full replicas still serve every object; a delete
removes the object from every endpoint that is up, a listing merges every endpoint that is up (with the
sizes the endpoints' listings carry: no HEAD per object). Statistics count every attempt and every error.
"""

from __future__ import annotations

import builtins
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from s3dlio_core import BytesView, bounded_map, store_for_uri
from s3dlio_core.bytes_view import as_buffer
from s3dlio_core.errors import (
    InvalidUriError,
    LengthMismatchError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3dlioError,
    UnsupportedOperationError,
)
from s3dlio_core.listing import ObjectInfo
from s3dlio_core.paths import check_key, join_key
from s3dlio_core.store import ObjectStore, ObjectWriter
from s3dlio_core.uri import ObjectUri, parse_uri, scheme_of

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
Call = Callable[[ObjectStore, ObjectUri], T]


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


def _validated(uris: Any, strategy: str | None) -> tuple[builtins.list[str], str]:
    strategy = "round_robin" if strategy is None else strategy
    if strategy not in STRATEGIES:
        raise S3dlioError(f"Invalid strategy {strategy!r}. Use 'round_robin' or 'least_connections'")
    if isinstance(uris, str):
        raise TypeError("uris must be a list of URI strings, not a single str")
    uris = builtins.list(uris)
    for u in uris:
        if not isinstance(u, str):
            raise TypeError(f"endpoint URIs must be str, got {type(u).__name__}")
    if not uris:
        raise S3dlioError(f"{_FAIL}: Multi-endpoint store requires at least one endpoint")
    if len(uris) > MAX_ENDPOINTS:
        raise S3dlioError(f"{_FAIL}: Too many endpoints: {len(uris)} exceeds maximum of {MAX_ENDPOINTS} "
                          "(MAX_ENDPOINTS)")
    schemes: builtins.list[str] = []
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


def _on(store_uri: str) -> tuple[ObjectStore, ObjectUri]:
    return store_for_uri(store_uri)


class MultiEndpointStore(ObjectStore):
    """Load-balanced, failing-over access to several endpoints holding the same objects (see the module
    docstring). URIs are full URIs under (or outside) the endpoints; `resolve` makes one of a relative key."""

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

    @property
    def endpoint_uris(self) -> builtins.list[str]:
        return [e.uri for e in self._eps]

    def get_endpoint_stats(self) -> builtins.list[dict[str, Any]]:
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

    def endpoint_health(self) -> builtins.list[dict[str, Any]]:
        """Per endpoint: uri, healthy, consecutive failures and seconds left in its back-off."""
        now = time.monotonic()
        with self._lock:
            return [{"uri": e.uri, "healthy": e.failures == 0, "failures": e.failures,
                     "backoff_remaining_s": max(0.0, e.down_until - now) if e.failures else 0.0}
                    for e in self._eps]

    # ---------------------------------------------------------------- routing
    def resolve(self, uri: str) -> str:
        """`uri` itself, or for a relative key (no '://') the URI of that key under the endpoints (the
        endpoint actually used is chosen per request). Refuses keys that would escape the endpoint root."""
        if not isinstance(uri, str):
            raise TypeError(f"URI must be a str, got {type(uri).__name__}")
        if "://" in uri:
            return uri
        return join_key(self._eps[0].prefix, uri.lstrip("/"), uri)

    def _named(self, uri: str) -> tuple[_Endpoint | None, str | None]:
        """(endpoint whose prefix `uri` starts with, the rest) or (None, None) for a URI under none."""
        for e in self._by_prefix:
            if uri.startswith(e.prefix):
                return e, check_key(uri[len(e.prefix):], uri)
            if uri == e.uri or uri + "/" == e.prefix:
                return e, ""
        if "://" not in uri:
            return None, check_key(uri.lstrip("/"), uri)
        return None, None

    @staticmethod
    def _target(ep: _Endpoint, rest: str | None, uri: str) -> str:
        return uri if rest is None else join_key(ep.prefix, rest, uri)

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

    def _run(self, uri: str, call: Call[T], *, read_fallback: bool = False, size_in: int = 0,
             size_out: Callable[[T], int] | None = None) -> T:
        """Run `call(store, parsed URI)` on a chosen endpoint, failing over on endpoint failures (and, for
        reads, on not-found) to the other endpoints."""
        named, rest = self._named(uri)
        tried: builtins.list[_Endpoint] = []
        last_failure: BaseException | None = None
        not_found: BaseException | None = None
        order_hint = named
        e = self._pick()
        while e is not None:
            tried.append(e)
            try:
                store, tu = _on(self._target(e, rest, uri))
                result = call(store, tu)
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

    def _next_after_miss(self, tried: builtins.list[_Endpoint], hint: _Endpoint | None) -> _Endpoint | None:
        if hint is not None and hint not in tried:
            now = time.monotonic()
            with self._lock:
                if hint.usable(now):
                    return self._claim(hint)
        return self._pick(exclude=tried)

    def _view_prefix(self, uri: str) -> tuple[str, str]:
        """(the prefix results are shown under, the path below the endpoint root)."""
        named, rest = self._named(uri)
        if rest is None:
            raise InvalidUriError(f"{uri!r} is under none of the endpoints {self.endpoint_uris}", uri)
        return (named or self._eps[0]).prefix, rest

    def _each_usable(self, rest: str, call: Call[T], *, absent_ok: bool = False, uri: str = ""
                     ) -> tuple[builtins.list[tuple[_Endpoint, T | None]], builtins.list[BaseException]]:
        """Run `call` on `rest` under every endpoint that is up, each outcome counted in the stats.
        Returns the endpoints that answered (with their results) and the endpoint failures; an error that
        is not the endpoint's fault is raised. With `absent_ok`, ObjectNotFoundError is an answer (None)."""
        answers: builtins.list[tuple[_Endpoint, T | None]] = []
        failures: builtins.list[BaseException] = []
        for e in self._eps:
            with self._lock:
                if not e.usable(time.monotonic()):
                    continue
                self._claim(e)
            try:
                store, tu = _on(join_key(e.prefix, rest, uri or None) if rest else e.prefix)
                result = call(store, tu)
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

    # ---------------------------------------------------------------- ObjectStore primitives
    def _get(self, u: ObjectUri) -> BytesView:
        return self._run(u.uri, lambda s, t: s._get(t), read_fallback=True, size_out=len)

    def _get_range(self, u: ObjectUri, offset: int, length: int | None) -> BytesView:
        return self._run(u.uri, lambda s, t: s._get_range(t, offset, length), read_fallback=True, size_out=len)

    def _get_into(self, u: ObjectUri, dst: memoryview) -> int:
        return self._run(u.uri, lambda s, t: s._get_into(t, dst), read_fallback=True, size_out=int)

    def _get_range_into(self, u: ObjectUri, offset: int, dst: memoryview) -> int:
        return self._run(u.uri, lambda s, t: s._get_range_into(t, offset, dst), read_fallback=True,
                         size_out=int)

    def _get_suffix(self, u: ObjectUri, length: int) -> BytesView:
        return self._run(u.uri, lambda s, t: s._get_suffix(t, length), read_fallback=True, size_out=len)

    def _download_to_file(self, u: ObjectUri, fd: int) -> int:
        return self._run(u.uri, lambda s, t: s._download_to_file(t, fd), read_fallback=True, size_out=int)

    def _stat(self, u: ObjectUri) -> dict[str, Any]:
        return self._run(u.uri, lambda s, t: s._stat(t), read_fallback=True)

    def _put(self, u: ObjectUri, data: memoryview) -> None:
        self._run(u.uri, lambda s, t: s._put(t, data), size_in=data.nbytes)

    def _open_writer(self, u: ObjectUri) -> ObjectWriter:
        """A writer on one chosen endpoint (failing over while it is opened; a stream cannot move later)."""
        _, rest = self._named(u.uri)
        e = self._pick()
        tried: builtins.list[_Endpoint] = []
        last: BaseException | None = None
        while e is not None:
            tried.append(e)
            try:
                store, tu = _on(self._target(e, rest, u.uri))
                inner = store._open_writer(tu)
            except Exception as exc:
                failed = is_endpoint_failure(exc)
                self._done(e, error=exc, endpoint_failed=failed)
                if not failed:
                    raise
                last = exc
                e = self._pick(exclude=tried)
                continue
            return _EndpointWriter(self, e, u.uri, inner)
        assert last is not None
        raise last

    def _mkdir(self, u: ObjectUri) -> None:
        _, rest = self._view_prefix(u.uri)
        self._each_usable(rest, lambda s, t: s._mkdir(t), uri=u.uri)

    def _delete(self, u: ObjectUri) -> None:
        _, rest = self._named(u.uri)
        if rest is None:
            self._run(u.uri, lambda s, t: s._delete(t))
            return
        answers, failures = self._each_usable(rest, lambda s, t: s._delete(t), uri=u.uri)
        if not answers:
            if failures:
                raise failures[-1]
            self._run(u.uri, lambda s, t: s._delete(t))  # every endpoint down: probe one

    def _delete_recursive(self, u: ObjectUri) -> int:
        _, rest = self._view_prefix(u.uri)
        answers, failures = self._each_usable(rest, lambda s, t: s._delete_recursive(t), uri=u.uri)
        if not answers and failures:
            raise failures[-1]
        return sum(n or 0 for _, n in answers)

    def _list_entries(self, u: ObjectUri, recursive: bool) -> Iterator[builtins.list[ObjectInfo]]:
        """One page: the union over every endpoint that is up, by path below the endpoint root, shown
        under the endpoint the listed URI names (with the sizes, times and ETags the listings carry)."""
        view, rest = self._view_prefix(u.uri)

        def listing(store: ObjectStore, tu: ObjectUri) -> builtins.list[ObjectInfo]:
            return [i for page in store._list_entries(tu, recursive) for i in page]

        answers, failures = self._each_usable(rest, listing, absent_ok=True, uri=u.uri)
        if not answers and failures:
            raise failures[-1]
        seen: dict[str, ObjectInfo] = {}
        for e, found in answers:
            for info in found or ():
                if info.uri.startswith(e.prefix):
                    rel = info.uri[len(e.prefix):]
                    if rel not in seen:
                        seen[rel] = info._replace(uri=view + rel)
        page = [seen[k] for k in sorted(seen)]
        if page:
            yield page

    # ---------------------------------------------------------------- every endpoint / one endpoint
    def list_all_endpoints(self, uri: str, recursive: bool = False) -> builtins.list[str]:
        """URIs under `uri` on every endpoint that is up, merged and deduplicated."""
        return self.list(self.resolve(uri), recursive=recursive)

    def put_all_endpoints(self, uri: str, data: Any) -> None:
        """Write the object to every endpoint (not transactional: the first failure is raised)."""
        mv = as_buffer(data)
        uri = self.resolve(uri)
        bounded_map(lambda i: self._on_endpoint(i, uri, lambda s, t: s._put(t, mv), size_in=mv.nbytes),
                    range(len(self._eps)), 32)

    def get_from_endpoint(self, index: int, uri: str) -> BytesView:
        """The object from endpoint number `index` only."""
        return self._on_endpoint(index, self.resolve(uri), lambda s, t: s._get(t), size_out=len)

    def put_to_endpoint(self, index: int, uri: str, data: Any) -> None:
        """Write the object to endpoint number `index` only."""
        mv = as_buffer(data)
        self._on_endpoint(index, self.resolve(uri), lambda s, t: s._put(t, mv), size_in=mv.nbytes)

    def delete_from_endpoint(self, index: int, uri: str) -> None:
        """Delete the object from endpoint number `index` only."""
        self._on_endpoint(index, self.resolve(uri), lambda s, t: s._delete(t))

    def _endpoint(self, index: int) -> _Endpoint:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"endpoint index must be an int, got {type(index).__name__}")
        if not 0 <= index < len(self._eps):
            raise S3dlioError(f"endpoint index {index} out of range: {len(self._eps)} endpoint(s) configured")
        return self._eps[index]

    def _on_endpoint(self, index: int, uri: str, call: Call[T], *, size_in: int = 0,
                     size_out: Callable[[T], int] | None = None) -> T:
        e = self._endpoint(index)
        _, rest = self._named(uri)
        target = self._target(e, rest, uri)
        parse_uri(target)  # a bad URI is the caller's error, never the endpoint's
        with self._lock:
            self._claim(e)
        try:
            store, tu = _on(target)
            result = call(store, tu)
        except Exception as exc:
            self._done(e, error=exc, endpoint_failed=is_endpoint_failure(exc))
            raise
        self._done(e, read=size_out(result) if size_out else 0, written=size_in)
        return result


class _EndpointWriter(ObjectWriter):
    """A writer on one endpoint; its outcome (bytes written, or the error) counts in that endpoint's stats."""

    def __init__(self, owner: MultiEndpointStore, ep: _Endpoint, uri: str, inner: ObjectWriter) -> None:
        super().__init__(uri)
        self._owner = owner
        self._ep: _Endpoint | None = ep
        self._inner = inner

    def _write(self, mv: memoryview) -> None:
        self._inner.write(mv)

    def _write_borrowed(self, mv: memoryview) -> None:
        self._inner.write_borrowed(mv)

    def _commit(self) -> None:
        try:
            self._inner.close()
        except BaseException as e:
            self._finish(error=e)
            raise
        self._finish(written=self.bytes_written)

    def _abort(self) -> None:
        try:
            self._inner.abort()
        finally:
            self._finish()

    def _finish(self, *, written: int = 0, error: BaseException | None = None) -> None:
        ep, self._ep = self._ep, None
        if ep is not None:
            failed = error is not None and is_endpoint_failure(error)
            self._owner._done(ep, written=written, error=error if isinstance(error, Exception) else None,
                              endpoint_failed=failed)
