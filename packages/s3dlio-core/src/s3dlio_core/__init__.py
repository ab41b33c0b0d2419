"""s3dlio-core: URIs, the object-store protocol, BytesView, errors, settings, the file:// store, the
store registry and the instrumentation point. No cloud SDK, no numpy, no torch."""

from __future__ import annotations

from .bucket_store import BucketStore
from .bytes_view import BytesView, as_buffer
from .concurrency import bounded_map, shared_executor, submit_async, validate_max_in_flight
from .errors import (
    BackendNotInstalledError,
    ExportStillReferencedError,
    InvalidUriError,
    LengthMismatchError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3dlioError,
    StorageIOError,
    ThrottledError,
    UnsupportedOperationError,
)
from .instrument import OpRecord, add_observer, remove_observer
from .listing import ListedObject, ObjectInfo
from .metadata import STAT_KEYS, make_stat
from .paths import check_key, join_key
from .ranges import ByteRange, OffsetRange, SuffixRange
from .registry import clear_store_cache, new_store, register_store, store_for_uri
from .settings import Settings, configure, reset_settings, settings
from .store import Capabilities, ObjectStore, ObjectWriter
from .store_config import StoreConfig
from .uri import ObjectUri, parse_s3_uri_full, parse_uri, scheme_of


def __getattr__(name: str) -> str:
    if name == "__version__":  # resolved on first use: importlib.metadata is slow to import
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("s3dlio-core")
        except PackageNotFoundError:  # pragma: no cover - source checkout without install
            return "0.0.0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "BackendNotInstalledError", "BucketStore", "ByteRange", "BytesView", "Capabilities", "ExportStillReferencedError",
    "ListedObject", "ObjectInfo", "OffsetRange", "StoreConfig", "SuffixRange", "check_key", "join_key", "new_store",
    "InvalidUriError", "LengthMismatchError", "ObjectNotFoundError", "ObjectStore", "ObjectUri",
    "ObjectWriter", "OpRecord", "PermissionDeniedError", "S3dlioError", "STAT_KEYS", "Settings",
    "StorageIOError", "ThrottledError", "UnsupportedOperationError", "add_observer", "as_buffer", "bounded_map",
    "clear_store_cache", "configure", "make_stat", "parse_s3_uri_full", "parse_uri", "register_store",
    "remove_observer", "reset_settings", "scheme_of", "settings", "shared_executor", "store_for_uri",
    "submit_async", "validate_max_in_flight", "__version__",
]
