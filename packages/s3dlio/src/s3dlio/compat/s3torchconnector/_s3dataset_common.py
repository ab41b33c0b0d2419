"""What both datasets share: URI parsing, and the objects of a prefix (key-prefix listing) or of a
list of URIs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ._s3bucket_key_data import S3BucketKeyData
from ._s3client import S3Client
from ._s3client._results import ObjectInfo, epoch_seconds
from ._stores import bucket_and_key, split_uri

__all__ = ["identity", "parse_s3_uri", "get_objects_from_uris", "get_objects_from_prefix"]


def identity(obj: Any) -> Any:
    return obj


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of a URI of any s3dlio scheme; ValueError (InvalidUriError) for a bad one, and for
    an s3:// URI without a bucket."""
    if not isinstance(uri, str) or not uri:
        raise ValueError(f"a dataset URI must be a non-empty str, got {uri!r}")
    u = split_uri(uri)
    if u.scheme not in ("file", "direct") and not u.bucket:
        raise ValueError(f"Bucket name must be non-empty ({uri})")
    return bucket_and_key(u)


def get_objects_from_uris(object_uris: str | Iterable[str], client: S3Client) -> Iterator[S3BucketKeyData]:
    """These objects, in this order (no listing)."""
    if isinstance(object_uris, str):
        object_uris = [object_uris]
    pairs = [(uri, parse_s3_uri(uri)) for uri in object_uris]
    return (S3BucketKeyData(bucket, key, None, uri) for uri, (bucket, key) in pairs)


def get_objects_from_prefix(s3_uri: str, client: S3Client) -> Iterator[S3BucketKeyData]:
    """Every object whose key starts with the URI's key (s3torchconnector's prefix), in listing order,
    with its size from the listing."""
    parse_s3_uri(s3_uri)
    for info in client.list_uri(s3_uri):
        bucket, key = bucket_and_key(split_uri(info.uri))
        oi = ObjectInfo(
            key=key,
            etag=str(info.etag or ""),
            size=-1 if info.size is None else int(info.size),
            last_modified=epoch_seconds(info.last_modified),
        )
        yield S3BucketKeyData(bucket, key, oi if info.size is not None else None, info.uri)
