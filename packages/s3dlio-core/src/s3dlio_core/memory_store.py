"""The memory:// store: the reference implementation of the store protocol, in this process's memory.

`memory://bucket/key` behaves like an object store (the same selection rules, recursive delete, buckets)
with nothing but a dict behind it, so it runs the conformance suite like any backend and makes the unit
tests of the layers above (formats, loaders, checkpoints, adapters) fast and hermetic. Buckets appear on
the first write. Objects are immutable `bytes`; a read returns a new BytesView (the caller may mutate it).
A writer's bytes become visible only at `close()`. A forked child starts with a copy of its parent's
objects, as it would of any other memory.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
import time
from collections.abc import Iterator
from typing import Any

from .bucket_store import BucketCapabilities, BucketStore
from .bytes_view import BytesView
from .errors import InvalidUriError, ObjectNotFoundError, StorageIOError
from .listing import ListedObject
from .metadata import make_stat, rfc3339_ns
from .store import ObjectWriter
from .uri import ObjectUri

__all__ = ["MemoryStore", "MemoryWriter"]

_PAGE = 1000


class MemoryCapabilities(BucketCapabilities):
    multipart = False


class _Object:
    __slots__ = ("data", "etag", "mtime_ns")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.mtime_ns = time.time_ns()
        self.etag = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


class _Bucket:
    __slots__ = ("created", "keys", "objects")

    def __init__(self) -> None:
        self.objects: dict[str, _Object] = {}
        self.keys: list[str] = []  # sorted, for paged listings
        self.created = time.time()


class MemoryStore(BucketStore):
    """memory:// URIs: one namespace per process, shared by every MemoryStore instance."""

    scheme = "memory"
    capabilities = MemoryCapabilities
    _buckets: dict[str, _Bucket] = {}
    _lock = threading.Lock()

    @classmethod
    def store_key(cls, u: ObjectUri) -> Any:
        return (cls.scheme,)

    @classmethod
    def reset(cls) -> None:
        """Forget every bucket and object (tests)."""
        with cls._lock:
            cls._buckets.clear()

    # ---- helpers ----
    @staticmethod
    def _need_key(u: ObjectUri) -> None:
        if not u.key or u.key.endswith("/"):
            raise InvalidUriError(f"memory:// URI does not name an object: {u.uri}", u.uri)

    def _find(self, u: ObjectUri) -> _Object:
        b = self._buckets.get(u.bucket)
        obj = b.objects.get(u.key) if b is not None else None
        if obj is None:
            what = "bucket does not exist" if b is None else "object key does not exist"
            raise ObjectNotFoundError(f"GET failed: not found: {u.uri} ({what})", u.uri)
        return obj

    def _store_bytes(self, u: ObjectUri, data: bytes) -> None:
        with self._lock:
            b = self._buckets.get(u.bucket)
            if b is None:
                b = self._buckets[u.bucket] = _Bucket()
            if u.key not in b.objects:
                bisect.insort(b.keys, u.key)
            b.objects[u.key] = _Object(data)

    # ---- reads ----
    def _get(self, u: ObjectUri) -> BytesView:
        return BytesView.wrap(self._find(u).data)

    def _get_range(self, u: ObjectUri, offset: int, length: int | None) -> BytesView:
        data = self._find(u).data
        end = len(data) if length is None else min(len(data), offset + length)
        return BytesView.wrap(memoryview(data)[min(offset, end):end])

    def _get_range_into(self, u: ObjectUri, offset: int, dst: memoryview) -> int:
        data = self._find(u).data
        piece = memoryview(data)[offset:offset + dst.nbytes]
        n = piece.nbytes
        dst[:n] = piece
        return n

    def _get_suffix(self, u: ObjectUri, length: int) -> BytesView:
        data = self._find(u).data
        return BytesView.wrap(memoryview(data)[max(0, len(data) - length):])

    # ---- writes ----
    def _put(self, u: ObjectUri, data: memoryview) -> None:
        self._need_key(u)
        self._store_bytes(u, bytes(data))

    def _open_writer(self, u: ObjectUri) -> ObjectWriter:
        self._need_key(u)
        return MemoryWriter(self, u)

    # ---- metadata ----
    def _stat(self, u: ObjectUri) -> dict[str, Any]:
        obj = self._find(u)
        return make_stat(len(obj.data), rfc3339_ns(obj.mtime_ns), obj.etag, content_type="application/octet-stream",
                         storage_class="STANDARD")

    # ---- BucketStore primitives ----
    def _list_objects_page(self, u: ObjectUri, prefix: str, delimiter: str | None, token: Any
                           ) -> tuple[list[ListedObject], list[str], Any]:
        with self._lock:
            b = self._buckets.get(u.bucket)
            if b is None:
                return [], [], None
            keys = b.keys
            i = bisect.bisect_left(keys, prefix) if token is None else bisect.bisect_right(keys, token)
            objs: list[ListedObject] = []
            prefixes: list[str] = []
            last = None
            while i < len(keys) and len(objs) + len(prefixes) < _PAGE:
                k = keys[i]
                if not k.startswith(prefix):
                    break
                if delimiter:
                    j = k.find(delimiter, len(prefix))
                    if j >= 0:
                        p = k[:j + len(delimiter)]
                        if not prefixes or prefixes[-1] != p:
                            prefixes.append(p)
                        # skip every key under this common prefix
                        i = bisect.bisect_left(keys, p[:-1] + chr(ord(p[-1]) + 1))
                        last = keys[i - 1]
                        continue
                o = b.objects[k]
                objs.append(ListedObject(k, len(o.data), rfc3339_ns(o.mtime_ns), o.etag))
                last = k
                i += 1
            more = i < len(keys) and keys[i].startswith(prefix)
            return objs, prefixes, (last if more else None)

    def _delete(self, u: ObjectUri) -> None:
        self._need_key(u)
        self._delete_keys(u, [u.key])

    def _delete_keys(self, u: ObjectUri, keys: list[str]) -> None:
        with self._lock:
            b = self._buckets.get(u.bucket)
            if b is None:
                return
            for k in keys:
                if b.objects.pop(k, None) is not None:
                    i = bisect.bisect_left(b.keys, k)
                    del b.keys[i]

    # ---- buckets ----
    def _list_buckets(self, u: ObjectUri) -> list[dict[str, Any]]:
        from .metadata import rfc3339_s

        with self._lock:
            return [{"name": n, "uri": f"memory://{n}", "creation_date": rfc3339_s(b.created)}
                    for n, b in sorted(self._buckets.items())]

    def _create_bucket(self, u: ObjectUri) -> None:
        with self._lock:
            self._buckets.setdefault(u.bucket, _Bucket())

    def _delete_bucket(self, u: ObjectUri) -> None:
        with self._lock:
            b = self._buckets.get(u.bucket)
            if b is None:
                raise ObjectNotFoundError(f"delete_bucket failed: no such bucket: {u.uri}", u.uri)
            if b.objects:
                raise StorageIOError(f"delete_bucket failed for {u.uri}: the bucket is not empty", u.uri)
            del self._buckets[u.bucket]

    def objects(self) -> Iterator[tuple[str, int]]:
        """(uri, size) of every object held (diagnostics)."""
        with self._lock:
            for name, b in self._buckets.items():
                for k in b.keys:
                    yield f"memory://{name}/{k}", len(b.objects[k].data)


class MemoryWriter(ObjectWriter):
    """Collects the bytes in a private buffer; `close()` publishes them as one immutable object."""

    def __init__(self, store: MemoryStore, u: ObjectUri) -> None:
        super().__init__(u.uri)
        self._store = store
        self._u = u
        self._buf: bytearray | None = bytearray()

    def _write(self, mv: memoryview) -> None:
        assert self._buf is not None
        self._buf += mv

    def _commit(self) -> None:
        buf, self._buf = self._buf, None
        self._store._store_bytes(self._u, bytes(buf or b""))

    def _abort(self) -> None:
        self._buf = None
