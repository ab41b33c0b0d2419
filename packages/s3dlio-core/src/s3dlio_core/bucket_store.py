"""BucketStore: the part of every bucket/key object store (S3, GCS, Azure) that is the same for all.

A backend supplies one page of a listing and a batch delete; this class turns them into the original's
list selection rules, recursive delete in batches, and bucket-level checks.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from typing import Any

from . import instrument as _ins
from .concurrency import bounded_map
from .listing import ListedObject, ObjectInfo, plan_listing
from .store import Capabilities, ObjectStore
from .uri import ObjectUri

__all__ = ["BucketStore", "BucketCapabilities"]


class BucketCapabilities(Capabilities):
    buckets = True
    multipart = True


class BucketStore(ObjectStore):
    """An object store addressed as bucket + key."""

    capabilities = BucketCapabilities
    delete_batch_size = 1000  # keys per batch delete request
    delete_concurrency = 8  # batches in flight

    @abstractmethod
    def _list_objects_page(self, u: ObjectUri, prefix: str, delimiter: str | None, token: Any
                           ) -> tuple[list[ListedObject] | list[str], list[str], Any]:
        """One page: (objects, common prefixes ending in the delimiter, next token or None).

        Objects are `ListedObject(key, size, last_modified, etag)` with what the service's listing says
        (plain key strings are accepted too, for a backend whose listing carries no metadata)."""

    @abstractmethod
    def _delete_keys(self, u: ObjectUri, keys: list[str]) -> None:
        """Delete up to `delete_batch_size` keys of `u.bucket` (missing keys are fine)."""

    def _raw_pages(self, u: ObjectUri, recursive: bool) -> Iterator[tuple[list[Any], list[str]]]:
        """(selected objects, selected directory prefixes) per service page, by the selection rules."""
        plan = plan_listing(u.key, recursive)
        token: Any = None
        keep_object, keep_dir = plan.keep_object, plan.keep_dir
        while True:
            objs, prefixes, token = self._list_objects_page(u, plan.prefix, plan.delimiter, token)
            sel = [o for o in objs if keep_object(o if isinstance(o, str) else o[0])]
            dirs = [p for p in prefixes if keep_dir(p)] if prefixes else []
            if sel or dirs:
                yield sel, dirs
            if not token:
                return

    def _list_pages(self, u: ObjectUri, recursive: bool) -> Iterator[list[str]]:
        base = u.base
        for objs, dirs in self._raw_pages(u, recursive):
            page = [base + (o if isinstance(o, str) else o[0]) for o in objs]
            if dirs:
                page.extend(base + p for p in dirs)
                page.sort()
            yield page

    def _list_entries(self, u: ObjectUri, recursive: bool) -> Iterator[list[ObjectInfo]]:
        base = u.base
        for objs, dirs in self._raw_pages(u, recursive):
            page = [ObjectInfo(base + o) if isinstance(o, str) else ObjectInfo(base + o[0], o[1], o[2], o[3])
                    for o in objs]
            if dirs:
                page.extend(ObjectInfo(base + p, is_dir=True) for p in dirs)
                page.sort(key=lambda e: e.uri)
            yield page

    def _selected_keys(self, u: ObjectUri) -> Iterator[list[str]]:
        for objs, _ in self._raw_pages(u, True):
            yield [o if isinstance(o, str) else o[0] for o in objs]

    def _delete_recursive(self, u: ObjectUri) -> int:
        """List the selection (no delimiter) and delete it in batches, several batches in flight."""
        batches: list[list[str]] = []
        pending: list[str] = []
        for keys in self._selected_keys_traced(u):
            pending.extend(keys)
            while len(pending) >= self.delete_batch_size:
                batches.append(pending[: self.delete_batch_size])
                pending = pending[self.delete_batch_size:]
        if pending:
            batches.append(pending)
        if not batches:
            return 0

        def run(batch: list[str]) -> None:
            if _ins.ACTIVE:
                _ins.traced("DELETE", u.base + (batch[0] if len(batch) == 1 else u.key), self._delete_keys,
                            u, batch, size_of=None, nbytes=0, n_objects=len(batch))
            else:
                self._delete_keys(u, batch)

        bounded_map(run, batches, self.delete_concurrency, level="parts")
        return sum(len(b) for b in batches)

    def _selected_keys_traced(self, u: ObjectUri) -> Iterator[list[str]]:
        pages = self._selected_keys(u)
        return _ins.traced_pages("LIST", u.uri, pages) if _ins.ACTIVE else pages
