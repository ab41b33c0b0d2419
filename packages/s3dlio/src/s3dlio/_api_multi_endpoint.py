"""The spec's multi-endpoint API (features §1.12): factories and an async `MultiEndpointStore` facade.

The facade is a thin wrapper over the backend's ObjectStore (`s3dlio_backends.multi_endpoint`), which
does the routing, load balancing, failover and statistics. Its I/O methods are coroutines (`await
store.put(...)`), as in the original; `endpoint_count()`, `strategy()` and the stats are plain calls.
Relative keys are resolved under the endpoints (never escaping their root). `store.store` is the
ObjectStore itself, for loaders, checkpoints and fsspec, which take it like any other store.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from s3dlio_backends import multi_endpoint as _me
from s3dlio_core import BytesView
from s3dlio_core.concurrency import submit_async

__all__: list[str] = [
    "MultiEndpointStore", "create_multi_endpoint_store", "create_multi_endpoint_store_from_template",
    "create_multi_endpoint_store_from_file", "create_multi_endpoint_store_from_env",
]


class MultiEndpointStore:
    """Load-balanced, failing-over access to several endpoints holding the same objects (the spec's
    async API over the backend ObjectStore, `self.store`)."""

    def __init__(self, uris: Sequence[str], strategy: str | None = "round_robin", *,
                 backoff_s: float = 1.0, max_backoff_s: float = 30.0) -> None:
        self._store = _me.MultiEndpointStore(uris, strategy, backoff_s=backoff_s, max_backoff_s=max_backoff_s)

    @classmethod
    def of(cls, store: _me.MultiEndpointStore) -> MultiEndpointStore:
        """The facade over an existing backend store."""
        self = cls.__new__(cls)
        self._store = store
        return self

    @property
    def store(self) -> _me.MultiEndpointStore:
        """The ObjectStore behind the facade (sync primitives, `*_async` twins, ranges, readers)."""
        return self._store

    def __repr__(self) -> str:
        return repr(self._store)

    # ---------------------------------------------------------------- plain calls
    def endpoint_count(self) -> int:
        return self._store.endpoint_count()

    def strategy(self) -> str:
        return self._store.strategy()

    def get_endpoint_stats(self) -> builtins.list[dict[str, Any]]:
        """Per endpoint: uri, total_requests, bytes_read, bytes_written, error_count, active_requests."""
        return self._store.get_endpoint_stats()

    def get_total_stats(self) -> dict[str, int]:
        """The per-endpoint counters summed (no 'uri')."""
        return self._store.get_total_stats()

    def endpoint_health(self) -> builtins.list[dict[str, Any]]:
        """Per endpoint: uri, healthy, consecutive failures and seconds left in its back-off."""
        return self._store.endpoint_health()

    # ---------------------------------------------------------------- async API
    async def put(self, uri: str, data: Any, *, borrow: bool = True) -> None:
        """Write the object on one endpoint (failing over to the next if that endpoint is down)."""
        s = self._store
        await submit_async(lambda: s.put(s.resolve(uri), data))

    async def get(self, uri: str) -> BytesView:
        """The whole object, from one endpoint (the others if it is missing there or the endpoint fails)."""
        s = self._store
        return await submit_async(lambda: s.get(s.resolve(uri)))

    async def get_range(self, uri: str, offset: int = 0, length: int | None = None) -> BytesView:
        """`length` bytes from `offset` (to the end when None)."""
        s = self._store
        return await submit_async(lambda: s.get_range(s.resolve(uri), offset, length))

    async def stat(self, uri: str) -> dict[str, Any]:
        s = self._store
        return await submit_async(lambda: s.stat(s.resolve(uri)))

    async def list(self, prefix: str, recursive: bool = False) -> builtins.list[dict[str, Any]]:
        """Objects under `prefix` on every endpoint that is up, merged: dicts with 'uri' (shown under the
        endpoint `prefix` names) and 'size' (from the listings; 0 for directory entries)."""
        s = self._store

        def run() -> builtins.list[dict[str, Any]]:
            return [{"uri": i.uri, "size": 0 if i.is_dir else (i.size or 0)}
                    for i in s.list_info(s.resolve(prefix), recursive=recursive)]

        return await submit_async(run)

    async def list_all_endpoints(self, prefix: str, recursive: bool = False) -> builtins.list[str]:
        """URIs under `prefix` on every endpoint, merged and deduplicated."""
        return await submit_async(self._store.list_all_endpoints, prefix, recursive)

    async def delete(self, uri: str) -> None:
        """Delete the object from every endpoint that is up (a missing object is fine)."""
        s = self._store
        await submit_async(lambda: s.delete(s.resolve(uri)))

    async def put_all_endpoints(self, uri: str, data: Any, *, borrow: bool = True) -> None:
        """Write the object to every endpoint (not transactional: the first failure is raised)."""
        await submit_async(self._store.put_all_endpoints, uri, data)

    async def get_from_endpoint(self, index: int, uri: str) -> BytesView:
        return await submit_async(self._store.get_from_endpoint, index, uri)

    async def put_to_endpoint(self, index: int, uri: str, data: Any, *, borrow: bool = True) -> None:
        await submit_async(self._store.put_to_endpoint, index, uri, data)

    async def delete_from_endpoint(self, index: int, uri: str) -> None:
        await submit_async(self._store.delete_from_endpoint, index, uri)


def create_multi_endpoint_store(uris: Sequence[str], strategy: str | None = "round_robin") -> MultiEndpointStore:
    """A store over `uris` (same scheme, 1..32 of them); strategy 'round_robin' or 'least_connections'."""
    return MultiEndpointStore.of(_me.create_multi_endpoint_store(uris, strategy))


def create_multi_endpoint_store_from_template(uri_template: str, strategy: str | None = "round_robin"
                                              ) -> MultiEndpointStore:
    """A store over every URI the template expands to (`s3://bucket-{1...10}`, `{01...99}` padded)."""
    return MultiEndpointStore.of(_me.create_multi_endpoint_store_from_template(uri_template, strategy))


def create_multi_endpoint_store_from_file(file_path: str, strategy: str | None = "round_robin"
                                          ) -> MultiEndpointStore:
    """A store over the URIs in a file: one per line, blank lines and `#` comments skipped."""
    return MultiEndpointStore.of(_me.create_multi_endpoint_store_from_file(file_path, strategy))


def create_multi_endpoint_store_from_env(strategy: str | None = "round_robin") -> MultiEndpointStore:
    """A store over the comma-separated URIs of the S3_ENDPOINT_URIS environment variable."""
    return MultiEndpointStore.of(_me.create_multi_endpoint_store_from_env(strategy))
