"""Scheme -> store class, through the `s3dlio.stores` entry points, so backends plug in without core
importing them. Stores are created once per `store_key` (e.g. per S3 endpoint) and per process."""

from __future__ import annotations

import os
import threading
from typing import Any

from .errors import BackendNotInstalledError
from .store import ObjectStore
from .store_config import StoreConfig
from .uri import ObjectUri, parse_uri, scheme_of

__all__ = ["store_for_uri", "store_class", "register_store", "clear_store_cache", "new_store", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "s3dlio.stores"
_PACKAGE_FOR = {
    "s3": "s3dlio-backends",
    "gs": "s3dlio-backends",
    "az": "s3dlio-backends",
    "direct": "s3dlio-backends",
    "file": "s3dlio-core",
    "memory": "s3dlio-core",
}
# The entry points s3dlio-backends declares (its pyproject), imported directly when it is installed:
# scanning every distribution's entry points costs a fresh process ~30 ms of CPU (importlib.metadata pulls
# in email, zipfile, pathlib, csv, ...), which its first get or get_many would pay. Other schemes, and
# these when the direct import fails, go through the entry points as before.
_BUILTIN = {
    "s3": "s3dlio_backends.s3:S3Store",
    "gs": "s3dlio_backends.gcs:GcsStore",
    "az": "s3dlio_backends.azure:AzureStore",
    "direct": "s3dlio_backends.direct:DirectStore",
}
_classes: dict[str, type[ObjectStore]] = {}
_overrides: dict[str, type[ObjectStore]] = {}
_stores: dict[Any, ObjectStore] = {}
_lock = threading.RLock()


def _after_fork_in_child() -> None:
    """A forked child (DataLoader worker) must not share its parent's connections."""
    global _lock
    _stores.clear()
    _lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def register_store(scheme: str, cls: type[ObjectStore] | None) -> None:
    """Use `cls` for `scheme` in this process (None removes the override); clears cached stores."""
    with _lock:
        if cls is None:
            _overrides.pop(scheme, None)
        else:
            _overrides[scheme] = cls
        _classes.pop(scheme, None)
        _stores.clear()


def store_class(scheme: str, uri: str | None = None) -> type[ObjectStore]:
    """The store class for a canonical scheme, loading its entry point on first use."""
    cls = _overrides.get(scheme) or _classes.get(scheme)
    if cls is not None:
        return cls
    with _lock:
        cls = _overrides.get(scheme) or _classes.get(scheme)
        if cls is not None:
            return cls
        if scheme == "file":
            from .file_store import FileStore

            cls = FileStore
        elif scheme == "memory":
            from .memory_store import MemoryStore

            cls = MemoryStore
        elif (builtin := _load_builtin(scheme)) is not None:
            cls = builtin
        else:
            from importlib.metadata import entry_points

            eps = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == scheme]
            if not eps:
                pkg = _PACKAGE_FOR.get(scheme, "a package that provides it")
                raise BackendNotInstalledError(
                    f"no store is installed for {scheme}:// URIs ({uri or scheme + '://'}); "
                    f"install {pkg} (pip install {pkg})", uri)
            try:
                cls = eps[0].load()
            except ImportError as e:
                pkg = _PACKAGE_FOR.get(scheme, eps[0].value.split(":")[0])
                raise BackendNotInstalledError(
                    f"the {scheme}:// store could not be imported ({e}); install {pkg} "
                    f"(pip install {pkg})", uri) from e
        _classes[scheme] = cls
        return cls


def _load_builtin(scheme: str) -> type[ObjectStore] | None:
    """The s3dlio-backends class for `scheme` by a direct import, or None (not one of its schemes, or it
    does not import: the entry-point path then explains why)."""
    target = _BUILTIN.get(scheme)
    if target is None:
        return None
    module, _, attr = target.partition(":")
    try:
        import importlib

        cls = getattr(importlib.import_module(module), attr, None)
    except ImportError:
        return None
    return cls if isinstance(cls, type) and issubclass(cls, ObjectStore) else None


def store_for_uri(uri: str) -> tuple[ObjectStore, ObjectUri]:
    """The (cached) store that serves `uri`, and the parsed URI."""
    u = parse_uri(uri)
    cls = store_class(u.scheme, uri)
    key = cls.store_key(u)
    store = _stores.get(key)
    if store is None:
        with _lock:
            store = _stores.get(key)
            if store is None:
                store = cls.from_uri(u)
                _stores[key] = store
    return store, u


def new_store(uri: str, config: StoreConfig | None = None) -> ObjectStore:
    """A new, uncached store for `uri`'s scheme (and endpoint) that uses `config` (per-store endpoint,
    credentials, retries, part size, timeouts) instead of the environment's defaults. The caller owns it:
    `store_for_uri` never returns it. `uri` may be just a scheme prefix such as 's3://bucket/'."""
    if uri.endswith("://"):  # a bare scheme: no bucket to parse
        written = uri[:-3].lower()
        u = ObjectUri(uri, scheme_of(uri), written, "", "", None)
    else:
        u = parse_uri(uri)
    cls = store_class(u.scheme, uri)
    return cls.from_config(u, config)


def clear_store_cache() -> None:
    """Drop every cached store (their connections close as they are collected)."""
    with _lock:
        _stores.clear()
