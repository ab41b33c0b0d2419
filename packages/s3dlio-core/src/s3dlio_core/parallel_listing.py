"""Recursive listing of a large prefix with many listing requests in flight.

A serial recursive listing is one request per page (1,000 keys on S3) after another: 10 M keys take about
an hour on S3, and a map-style dataset that lists eagerly seems to hang. `list_info_parallel` splits the
prefix by its common prefixes ("directories"): it lists one level at a time (all directories of a level
at once, `max_in_flight` requests in flight) until a level has enough directories to keep every slot busy,
then lists each of those subtrees recursively, again all at once. The result is the same selection, sorted
by URI, as `store.list_info(uri, recursive=True)`.

Built only on the store's public listing method (`list_info`), so it works on every store. A flat prefix
(no '/' below it), a glob, or a store whose one-level listings show no directories (`list_directories`
False, as direct://) has nothing to split on and costs what a serial listing costs; a store with
`parallel_listing` False (file://, where a local walk beats starting threads) is listed serially.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .concurrency import bounded_map, validate_max_in_flight
from .listing import has_glob

if TYPE_CHECKING:
    from .listing import ObjectInfo
    from .store import ObjectStore

__all__ = ["list_info_parallel", "MAX_SPLIT_DEPTH"]

MAX_SPLIT_DEPTH = 4  # directory levels walked one by one before whole subtrees are listed


def list_info_parallel(store: ObjectStore, uri: str, *, max_in_flight: int = 16, pattern: str | None = None,
                       max_depth: int = MAX_SPLIT_DEPTH) -> list[ObjectInfo]:
    """Every object `store.list_info(uri, recursive=True, pattern=pattern)` selects (no directory
    entries), sorted by URI, listed with up to `max_in_flight` requests at once.

    Raises what the store's listing raises (the first failure among the parallel requests).
    """
    validate_max_in_flight(max_in_flight)
    rest = uri.split("://", 1)[-1]
    # a store whose one-level listings hide directories (direct://) has nothing to split on; one that
    # says a serial listing is faster (file://: a local walk) is not split either
    if max_in_flight == 1 or has_glob(rest) or not getattr(store, "list_directories", True) or \
            not getattr(store, "parallel_listing", True):
        return sorted(_objects(store.list_info(uri, recursive=True, pattern=pattern)), key=_uri)
    found: list[ObjectInfo] = []
    level: Sequence[str] = [uri]
    depth = 0
    while level:
        if depth >= max_depth or (depth > 0 and len(level) >= max_in_flight):
            for infos in bounded_map(lambda d: store.list_info(d, recursive=True), level, max_in_flight):
                found.extend(_objects(infos))
            break
        next_level: list[str] = []
        for infos in bounded_map(lambda d: store.list_info(d, recursive=False), level, max_in_flight):
            for info in infos:
                if info.is_dir:
                    next_level.append(info.uri)
                else:
                    found.append(info)
        level = next_level
        depth += 1
    found.sort(key=_uri)
    if pattern:
        return _filtered(store, uri, pattern, found)
    return found


def _uri(info: ObjectInfo) -> str:
    return info.uri


def _objects(infos: Sequence[ObjectInfo]) -> list[ObjectInfo]:
    return [i for i in infos if not i.is_dir]


def _filtered(store: ObjectStore, uri: str, pattern: str, infos: list[ObjectInfo]) -> list[ObjectInfo]:
    """Apply the listing `pattern` the store's way (a regex searched in the path relative to `uri`)."""
    from .listing import compile_pattern, filter_pattern

    keep = set(filter_pattern((i.uri for i in infos), uri, compile_pattern(pattern)))
    return [i for i in infos if i.uri in keep]
