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
from .listing import plan_listing
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
                           ) -> tuple[list[str], list[str], Any]:
        """One page: (object keys, common prefixes ending in the delimiter, next token or None)."""

    @abstractmethod
    def _delete_keys(self, u: ObjectUri, keys: list[str]) -> None:
        """Delete up to `delete_batch_size` keys of `u.bucket` (missing keys are fine)."""

    def _list_pages(self, u: ObjectUri, recursive: bool) -> Iterator[list[str]]:
        plan = plan_listing(u.key, recursive)
        token: Any = None
        base = u.base
        while True:
            keys, prefixes, token = self._list_objects_page(u, plan.prefix, plan.delimiter, token)
            page = [base + k for k in keys if plan.keep_object(k)]
            if prefixes:
                page.extend(base + p for p in prefixes if plan.keep_dir(p))
                page.sort()
            if page:
                yield page
            if not token:
                return

    def _selected_keys(self, u: ObjectUri) -> Iterator[list[str]]:
        plan = plan_listing(u.key, True)
        token: Any = None
        while True:
            keys, _, token = self._list_objects_page(u, plan.prefix, None, token)
            sel = [k for k in keys if plan.keep_object(k)]
            if sel:
                yield sel
            if not token:
                return

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
