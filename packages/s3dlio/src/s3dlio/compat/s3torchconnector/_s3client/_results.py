"""The result types of s3torchconnector's client calls (ObjectInfo, HeadObjectResult, ListObjectResult,
RestoreStatus), filled from s3dlio's listing entries and stat dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["RestoreStatus", "ObjectInfo", "HeadObjectResult", "ListObjectResult", "epoch_seconds"]


@dataclass(frozen=True)
class RestoreStatus:
    in_progress: bool
    expiry: int | None = None


@dataclass(frozen=True)
class ObjectInfo:
    """One listed object: `key` relative to the bucket, `size` in bytes, `last_modified` in seconds since
    the epoch (0 when the listing said nothing)."""

    key: str
    etag: str
    size: int
    last_modified: int
    storage_class: str | None = None
    restore_status: RestoreStatus | None = None


@dataclass(frozen=True)
class HeadObjectResult:
    etag: str
    size: int
    last_modified: int
    storage_class: str | None = None
    restore_status: RestoreStatus | None = None


@dataclass(frozen=True)
class ListObjectResult:
    """One page of a listing: the objects and, with a delimiter, the common prefixes."""

    object_info: list[ObjectInfo] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)


def epoch_seconds(value: Any) -> int:
    """An RFC 3339 / ISO 8601 timestamp (as s3dlio's listings and stat give) as whole seconds since the
    epoch; 0 for None or text that is not a timestamp."""
    if value is None:
        return 0
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        return int(datetime.fromisoformat(text).timestamp())
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            return int(parsedate_to_datetime(str(value)).timestamp())
        except (TypeError, ValueError):
            return 0
