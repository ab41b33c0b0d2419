"""Where a dataset's bytes come from: the registry's store for each URI (every scheme), or one store
given explicitly (a MultiEndpointStore, or any ObjectStore such as one made by `new_store(uri, config)`).

A dataset never keeps a registry store: stores own connections, and a forked DataLoader worker must make
its own. `StoreSource` resolves the store of each call through `store_for_uri` (a dict lookup), so the
same dataset object works in the parent and in every worker. An explicit store is used as given (the
multi-endpoint store keeps no connections of its own: its endpoints' stores come from the registry).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from s3dlio_core import BytesView, ObjectStore, store_for_uri
from s3dlio_core.listing import ObjectInfo
from s3dlio_core.parallel_listing import list_info_parallel

__all__ = ["StoreSource", "LIST_IN_FLIGHT", "one_store"]

LIST_IN_FLIGHT = 16  # listing requests in flight for a large prefix


class StoreSource:
    """The read operations a dataset needs, on the store that serves each URI (or the one given)."""

    __slots__ = ("store",)

    def __init__(self, store: Any = None) -> None:
        if store is not None and not isinstance(store, ObjectStore):
            inner = getattr(store, "store", None)  # the flat API's MultiEndpointStore wraps an ObjectStore
            if not isinstance(inner, ObjectStore):
                raise TypeError(f"store= must be an ObjectStore or a MultiEndpointStore (or None for the URI's "
                                f"own store), got {type(store).__name__}")
            store = inner
        self.store = store

    def __reduce__(self) -> tuple[Any, ...]:
        return (StoreSource, (self.store,))

    def __repr__(self) -> str:
        return f"StoreSource({self.store!r})" if self.store is not None else "StoreSource()"

    def _for(self, uri: str) -> ObjectStore:
        return self.store if self.store is not None else store_for_uri(uri)[0]

    # ---- listing ----
    def list_objects(self, uri: str, max_in_flight: int = LIST_IN_FLIGHT) -> list[ObjectInfo]:
        """Every object under `uri` (recursive, sorted by URI, with sizes), listed in parallel."""
        return list_info_parallel(self._for(uri), uri, max_in_flight=max_in_flight)

    # ---- reads ----
    def get(self, uri: str) -> BytesView:
        return self._for(uri).get(uri)

    def get_many(self, uris: Sequence[str], max_in_flight: int, mixed: bool = False) -> list[BytesView]:
        """The objects in input order, through the store's bulk path. `mixed`: the URIs may belong to
        several stores (a from_uris dataset), so each store gets its own URIs."""
        if not uris:
            return []
        store = self._for(uris[0])
        if len(uris) == 1:
            return [store.get(uris[0])]
        if not mixed or self.store is not None:
            return [v for _, v in store.get_many(uris, max_in_flight)]
        out: list[Any] = [None] * len(uris)
        for s, idx in _by_store(uris):
            for i, (_, v) in zip(idx, s.get_many([uris[i] for i in idx], max_in_flight), strict=True):
                out[i] = v
        return out

    def get_many_into(self, pairs: Sequence[tuple[str, Any]], max_in_flight: int, mixed: bool = False) -> list[int]:
        """Each `(uri, buffer)` filled with its object (exactly its size), through the store's bulk path."""
        if not pairs:
            return []
        if not mixed or self.store is not None:
            return self._for(pairs[0][0]).get_many_into(pairs, max_in_flight)
        out = [0] * len(pairs)
        for s, idx in _by_store([u for u, _ in pairs]):
            for i, n in zip(idx, s.get_many_into([pairs[i] for i in idx], max_in_flight), strict=True):
                out[i] = n
        return out

    def get_into(self, uri: str, dst: Any) -> int:
        return self._for(uri).get_into(uri, dst)

    def get_range_into(self, uri: str, offset: int, dst: memoryview) -> int:
        return self._for(uri).get_range_into(uri, offset, dst)

    def size(self, uri: str) -> int:
        return int(self._for(uri).stat(uri)["size"])


def _by_store(uris: Sequence[str]) -> list[tuple[ObjectStore, list[int]]]:
    """The positions of `uris` grouped by the store that serves each (first appearance order)."""
    groups: dict[int, tuple[ObjectStore, list[int]]] = {}
    for i, u in enumerate(uris):
        s = store_for_uri(u)[0]
        groups.setdefault(id(s), (s, []))[1].append(i)
    return list(groups.values())


def one_store(uris: Sequence[str]) -> bool:
    """Are all `uris` served by one store (same scheme and, for s3://host:port/, endpoint)?"""
    if not uris:
        return True
    first = store_for_uri(uris[0])[0]
    key = _root(uris[0])
    return all(u.startswith(key) for u in uris) or all(store_for_uri(u)[0] is first for u in uris)


def _root(uri: str) -> str:
    i = uri.find("://")
    j = uri.find("/", i + 3)
    return uri[: j + 1] if j > 0 else uri
