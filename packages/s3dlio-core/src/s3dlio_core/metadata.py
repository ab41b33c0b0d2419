"""The `stat()` dict: always the original's 16 keys, in its order."""

from __future__ import annotations

import datetime as _dt
import functools
from typing import Any

__all__ = ["STAT_KEYS", "ObjectMetadata", "make_stat", "rfc3339_ns", "rfc3339_s"]

STAT_KEYS = (
    "size", "last_modified", "etag", "content_type", "content_language", "content_encoding",
    "cache_control", "content_disposition", "expires", "storage_class", "server_side_encryption",
    "ssekms_key_id", "sse_customer_algorithm", "version_id", "replication_status", "metadata",
)


def make_stat(size: int, last_modified: str | None, etag: str | None, **fields: Any) -> dict[str, Any]:
    """A stat dict with every key present (None where the store reports nothing)."""
    unknown = set(fields) - set(STAT_KEYS)
    if unknown:
        raise TypeError(f"unknown stat field(s): {sorted(unknown)}")
    d: dict[str, Any] = dict.fromkeys(STAT_KEYS)
    d.update(fields)
    d["size"] = int(size)
    d["last_modified"] = last_modified
    d["etag"] = etag
    if d["metadata"] is None:
        d["metadata"] = {}
    return d


def rfc3339_ns(ns: int) -> str:
    """RFC 3339 UTC with nanoseconds and 'Z', e.g. '2026-11-21T07:25:36.892383954Z'."""
    secs, frac = divmod(ns, 1_000_000_000)
    return f"{_rfc3339_second(secs)}.{frac:09d}Z"


@functools.lru_cache(maxsize=256)
def _rfc3339_second(secs: int) -> str:
    """The date and time of one second (cached: the files of a dataset share a few seconds; a file://
    listing of 2,000 files spent a third of its time formatting them)."""
    return _dt.datetime.fromtimestamp(secs, tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def rfc3339_s(t: _dt.datetime | float) -> str:
    """RFC 3339 UTC with seconds precision, e.g. '2026-11-21T07:29:01Z'."""
    if not isinstance(t, _dt.datetime):
        t = _dt.datetime.fromtimestamp(t, tz=_dt.UTC)
    elif t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ObjectMetadata:
    """Typed object metadata (what `head_async` returns); attributes are the stat dict's keys."""

    __slots__ = ("uri", *STAT_KEYS)

    def __init__(self, uri: str, **fields: Any) -> None:
        self.uri = uri
        for k in STAT_KEYS:
            setattr(self, k, fields.get(k))

    @classmethod
    def from_stat(cls, uri: str, d: dict[str, Any]) -> ObjectMetadata:
        return cls(uri, **d)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in STAT_KEYS}

    def __repr__(self) -> str:
        return f"ObjectMetadata(uri={self.uri!r}, size={getattr(self, 'size', None)}, " \
               f"etag={getattr(self, 'etag', None)!r})"
