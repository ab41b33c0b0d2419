"""The original's GCS gRPC tuning calls. Our gs:// store speaks the JSON API (no gRPC channels, no Rapid
storage), so these keep and report what was asked, as the original's PyPI wheel does, and change nothing."""

from __future__ import annotations

from s3dlio_core.uri import parse_uri

__all__ = ["gcs_set_channel_count", "gcs_get_channel_count", "gcs_set_rapid_mode", "gcs_get_rapid_mode",
           "gcs_query_rapid_bucket"]

_channels = 0
_rapid: bool | None = None


def gcs_set_channel_count(n: int) -> None:
    """Record the gRPC channel count asked for (0 = automatic); it does not change the JSON-API store."""
    global _channels
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"channel count must be an int, got {type(n).__name__}")
    if n < 0:
        raise OverflowError("can't convert negative int to unsigned")
    _channels = n


def gcs_get_channel_count() -> int:
    """The channel count last set (0 until set)."""
    return _channels


def gcs_set_rapid_mode(force: bool | None = None) -> None:
    """Record the Rapid-storage mode asked for (None = auto-detect)."""
    global _rapid
    _rapid = None if force is None else bool(force)


def gcs_get_rapid_mode() -> bool | None:
    """The Rapid-storage mode last set (None = auto)."""
    return _rapid


def gcs_query_rapid_bucket(bucket_or_uri: str) -> bool:
    """Whether the bucket is served as Rapid (zonal) storage: never, for this store."""
    if not isinstance(bucket_or_uri, str) or not bucket_or_uri.strip("/"):
        raise ValueError(f"bucket name or gs:// URI expected, got {bucket_or_uri!r}")
    if "://" in bucket_or_uri:
        parse_uri(bucket_or_uri if bucket_or_uri.count("/") >= 3 else bucket_or_uri.rstrip("/") + "/")
    return False
