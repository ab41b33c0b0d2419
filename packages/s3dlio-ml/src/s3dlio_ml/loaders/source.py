"""Where a dataset's bytes come from: the registry's stores (every scheme), or a MultiEndpointStore.

A dataset never keeps a store object: stores own connections, and a forked DataLoader worker must make
its own. `StoreSource` resolves the store of each call through `store_for_uri` (a dict lookup), so the
same dataset object works in the parent and in every worker. A MultiEndpointStore (which keeps no
connections of its own) is used as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from s3dlio_core import BytesView, bounded_map, store_for_uri
from s3dlio_core.listing import ObjectInfo
from s3dlio_core.parallel_listing import list_info_parallel

__all__ = ["StoreSource", "LIST_IN_FLIGHT", "one_store"]

LIST_IN_FLIGHT = 16  # listing requests in flight for a large prefix


class StoreSource:
    """The read operations a dataset needs, on the store that serves each URI."""

    __slots__ = ("multi",)

    def __init__(self, store: Any = None) -> None:
        if store is not None and not _is_multi(store):
            raise TypeError(f"store= must be a MultiEndpointStore (or None for the URI's own store), "
                            f"got {type(store).__name__}")
        self.multi = store

    def __reduce__(self) -> tuple[Any, ...]:
        return (StoreSource, (self.multi,))

    def __repr__(self) -> str:
        return f"StoreSource({self.multi!r})" if self.multi is not None else "StoreSource()"

    # ---- listing ----
    def list_objects(self, uri: str, max_in_flight: int = LIST_IN_FLIGHT) -> list[ObjectInfo]:
        """Every object under `uri` (recursive, sorted by URI, with sizes), listed in parallel."""
        if self.multi is not None:
            return sorted((ObjectInfo(d["uri"], d["size"]) for d in self.multi._list(uri, True)
                           if not d["uri"].endswith("/")), key=lambda i: i.uri)
        store, _ = store_for_uri(uri)
        return list_info_parallel(store, uri, max_in_flight=max_in_flight)

    # ---- reads ----
    def get(self, uri: str) -> BytesView:
        if self.multi is not None:
            return self.multi._get(uri)
        return store_for_uri(uri)[0].get(uri)

    def get_many(self, uris: Sequence[str], max_in_flight: int, mixed: bool = False) -> list[BytesView]:
        """The objects in input order, through the store's bulk path. `mixed`: the URIs may belong to
        several stores (a from_uris dataset), so each store gets its own URIs."""
        if not uris:
            return []
        if self.multi is not None:
            return bounded_map(self.multi._get, uris, max_in_flight)
        store = store_for_uri(uris[0])[0]
        if len(uris) == 1:
            return [store.get(uris[0])]
        if not mixed:
            return [v for _, v in store.get_many(uris, max_in_flight)]
        groups: dict[int, tuple[Any, list[int]]] = {}
        for i, u in enumerate(uris):
            s = store_for_uri(u)[0]
            groups.setdefault(id(s), (s, []))[1].append(i)
        out: list[Any] = [None] * len(uris)
        for s, idx in groups.values():
            for i, (_, v) in zip(idx, s.get_many([uris[i] for i in idx], max_in_flight), strict=True):
                out[i] = v
        return out

    def get_into(self, uri: str, dst: Any) -> int:
        if self.multi is not None:
            v = self.multi._get(uri)
            memoryview(dst)[: len(v)] = v
            return len(v)
        return store_for_uri(uri)[0].get_into(uri, dst)

    def get_range_into(self, uri: str, offset: int, dst: memoryview) -> int:
        if self.multi is not None:
            v = self.multi._get_range(uri, offset, dst.nbytes)
            dst[: len(v)] = v
            return len(v)
        return store_for_uri(uri)[0].get_range_into(uri, offset, dst)

    def size(self, uri: str) -> int:
        if self.multi is not None:
            return int(self.multi._stat(uri)["size"])
        return int(store_for_uri(uri)[0].stat(uri)["size"])


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


def _is_multi(store: Any) -> bool:
    return type(store).__name__ == "MultiEndpointStore" and hasattr(store, "_get") and hasattr(store, "_list")
