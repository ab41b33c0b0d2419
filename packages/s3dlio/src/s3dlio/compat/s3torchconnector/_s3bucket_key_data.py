"""S3BucketKeyData: one object of a dataset (bucket, key, the listing's object info, its full URI)."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["S3BucketKeyData"]


class S3BucketKeyData(NamedTuple):
    bucket: str
    key: str
    object_info: Any = None
    uri: str | None = None
