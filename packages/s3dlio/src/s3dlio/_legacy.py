"""The original's legacy and deprecated names, in one place (features §1.14; the spec's migration table).

Each is a thin alias of a current call. The deprecated ones warn once per call site (DeprecationWarning).
Legacy dataset and loader classes (PyS3Dataset, ...) live with the loaders; this module holds the
storage calls.
"""

from __future__ import annotations

import builtins
import warnings
from typing import Any

from s3dlio_core import BytesView

from ._api_core import get, list, stat

__all__ = ["list_keys", "list_full_uris", "list_objects", "get_object", "stat_object", "get_by_key", "stat_key"]

def list_full_uris(uri: str) -> builtins.list[str]:
    """Alias of `list(uri)` (one level)."""
    return list(uri)


def list_keys(uri: str) -> builtins.list[str]:
    """Keys (paths relative to `uri`) of a one-level listing, e.g. ['a.bin', 'sub/']."""
    base = uri if uri.endswith("/") else uri + "/"
    out = []
    for full in list(uri):
        if full.startswith(base):
            key = full[len(base):]
        elif full.startswith(uri):
            key = full[len(uri):].lstrip("/") if not uri.endswith("/") else full[len(uri):]
        else:
            key = full.rstrip("/").rsplit("/", 1)[-1] + ("/" if full.endswith("/") else "")
        if key:
            out.append(key)
    return out


def list_objects(uri: str, recursive: bool = False) -> builtins.list[str]:
    """Deprecated (v0.8): keys under `uri`; use `list`, which returns full URIs."""
    warnings.warn("list_objects is deprecated; use s3dlio.list (it returns full URIs)",
                  DeprecationWarning, stacklevel=2)
    base = uri if uri.endswith("/") else uri + "/"
    return [u[len(base):] if u.startswith(base) else u for u in list(uri, recursive=recursive)]


def get_object(uri: str) -> BytesView:
    """Legacy alias of `get`."""
    return get(uri)


def stat_object(uri: str) -> dict[str, Any]:
    """Legacy alias of `stat`."""
    return stat(uri)


def get_by_key(bucket: str, key: str) -> BytesView:
    """Deprecated: `get("s3://{bucket}/{key}")`."""
    warnings.warn("get_by_key is deprecated; use s3dlio.get('s3://bucket/key')", DeprecationWarning,
                  stacklevel=2)
    return get(f"s3://{bucket}/{key}")


def stat_key(bucket: str, key: str) -> dict[str, Any]:
    """Deprecated: `stat("s3://{bucket}/{key}")`."""
    warnings.warn("stat_key is deprecated; use s3dlio.stat('s3://bucket/key')", DeprecationWarning,
                  stacklevel=2)
    return stat(f"s3://{bucket}/{key}")
