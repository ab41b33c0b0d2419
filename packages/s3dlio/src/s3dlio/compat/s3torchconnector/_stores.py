"""Which s3dlio store serves a URI for one s3torchconnector client (its region, endpoint and
S3ClientConfig), and s3torchconnector's key-prefix listing on top of s3dlio's listing rules.

s3torchconnector lists with a plain S3 key prefix: `s3://b/data/img` selects `data/img0.jpg`,
`data/images/x.jpg` and `data/img/...` alike. s3dlio's own `list` selects exactly (`data/img` is the
object `data/img` and what is under `data/img/`), so `list_key_prefix` asks the store for the glob
`<literal prefix>**` (a single prefix listing on the server) and keeps the keys that start with the key.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from s3dlio_core import ObjectStore, new_store, store_for_uri
from s3dlio_core.listing import ObjectInfo as StoreObjectInfo
from s3dlio_core.uri import ObjectUri, parse_uri

__all__ = ["ClientKey", "store_for", "list_key_prefix", "bucket_and_key", "split_uri"]

#: (region, endpoint, S3ClientConfig) of one client: what its S3 store is built from
ClientKey = tuple[str | None, str | None, Any]

_PATH_SCHEMES = ("file", "direct")
_GLOB = ("*", "?")
_lock = threading.Lock()
_stores: dict[tuple[Any, ...], ObjectStore] = {}


def _clear_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    _stores.clear()


os.register_at_fork(after_in_child=_clear_after_fork)


def _s3_config(key: ClientKey) -> Any:
    """The S3Config of a client (imported here only: the S3 store's own configuration type)."""
    from s3dlio_backends.s3.config import S3Config

    region, endpoint, cfg = key
    fields: dict[str, Any] = {"region": region, "endpoint_url": endpoint}
    if cfg is not None:
        fields.update(
            max_retry_attempts=int(cfg.max_attempts),
            multipart_part_size=int(cfg.part_size),
            profile=cfg.profile,
            addressing_style="path" if cfg.force_path_style else None,
        )
    return S3Config(**fields)


def store_for(uri: str, key: ClientKey) -> ObjectStore:
    """The store that serves `uri` for a client with `key`: for s3://, one store per (URI endpoint,
    region, endpoint, config) in this process, configured by them (the environment fills the rest:
    credentials, and the endpoint when none is given); every other scheme uses its shared store."""
    u = parse_uri(uri)
    if u.scheme != "s3" or key == (None, None, None):
        return store_for_uri(uri)[0]
    k = (u.endpoint, *key)
    store = _stores.get(k)
    if store is None:
        with _lock:
            store = _stores.get(k)
            if store is None:
                store = new_store(u.base, _s3_config(key))
                _stores[k] = store
    return store


def split_uri(uri: str) -> ObjectUri:
    """The parsed URI (InvalidUriError, a ValueError, names a bad one)."""
    return parse_uri(uri)


def bucket_and_key(u: ObjectUri) -> tuple[str, str]:
    """s3torchconnector's (bucket, key) of a URI: bucket and key for object stores (the bucket of
    `s3://host:port/b/k` is `b`); directory and file name for file:// and direct://."""
    if u.scheme in _PATH_SCHEMES:
        head, _, tail = u.path.rstrip("/").rpartition("/")
        return head or "/", tail
    return u.bucket, u.key


def list_key_prefix(store: ObjectStore, uri: str) -> list[StoreObjectInfo]:
    """Every object whose key starts with `uri`'s key (s3torchconnector's prefix), in listing order,
    with the sizes the listing carried. file:// and direct://: the same on paths (`dir/` is every file
    under it; `dir/img` is the files and directories beside it whose path starts with it)."""
    u = parse_uri(uri)
    if u.scheme in _PATH_SCHEMES:
        if uri.endswith("/"):
            return [i for i in store.list_info(uri, recursive=True) if not i.is_dir]
        parent = uri.rsplit("/", 1)[0] + "/"
        if not os.path.isdir(parse_uri(parent).path):
            return []
        out: list[StoreObjectInfo] = []
        for entry in store.list_info(parent, recursive=False):  # siblings: files, and directories to descend
            if not entry.uri.startswith(uri):
                continue
            if entry.is_dir:
                out.extend(i for i in store.list_info(entry.uri, recursive=True) if not i.is_dir)
            else:
                out.append(entry)
        out.sort(key=lambda i: i.uri)
        return out
    key = u.key
    base = u.base
    cut = min((key.index(c) for c in _GLOB if c in key), default=len(key))
    literal = key[:cut]
    if cut == len(key) and (key == "" or key.endswith("/")):
        infos = store.list_info(uri, recursive=True)  # a "directory": s3dlio's own rule is the same
    else:
        infos = store.list_info(base + literal + "**", recursive=True)
    start = len(base)
    return [i for i in infos if not i.is_dir and i.uri[start:].startswith(key)]
