"""Keys joined under a root never escape it.

A key from a listing, a caller or a manifest is joined under a local directory (download, file://
endpoint roots) or an endpoint prefix (multi-endpoint relative keys, checkpoint shard keys). A `..`
segment, an absolute key or a NUL byte would let it land outside that root, so they are refused with an
InvalidUriError naming the URI. Percent-encoded forms (`%2e%2e`) are never decoded: they stay literal names.
"""

from __future__ import annotations

import os

from .errors import InvalidUriError

__all__ = ["check_key", "join_key", "has_dotdot", "make_dirs"]


def has_dotdot(path: str) -> bool:
    """True if any '/'-separated segment of `path` is exactly '..'."""
    return ".." in path.split("/")


def check_key(key: str, uri: str | None = None, what: str = "key") -> str:
    """`key` if it is safe to join under a root; InvalidUriError (naming `uri`, else the key) otherwise."""
    if not isinstance(key, str):
        raise TypeError(f"{what} must be a str, got {type(key).__name__}")
    where = uri if uri is not None else key
    if "\x00" in key:
        raise InvalidUriError(f"{what} {key!r} contains a NUL byte ({where})", where)
    if has_dotdot(key):
        raise InvalidUriError(f"{what} {key!r} has a '..' segment, which would escape its root ({where})", where)
    return key


def join_key(root: str, key: str, uri: str | None = None) -> str:
    """`root` + '/' + `key` with exactly one slash between them; refuses keys that would escape `root`
    ('..' segments, a leading '/', NUL)."""
    check_key(key, uri)
    if key.startswith("/"):
        where = uri if uri is not None else key
        raise InvalidUriError(f"key {key!r} is absolute and would escape its root {root!r} ({where})", where)
    return (root if root.endswith("/") else root + "/") + key


def make_dirs(path: str) -> None:
    """`os.makedirs(path, exist_ok=True)` without recursion: any depth the filesystem allows works, and
    a path too long for it fails with the OSError (ENAMETOOLONG) instead of a RecursionError."""
    missing: list[str] = []
    p = path.rstrip("/") or "/"
    while p and not os.path.isdir(p):
        missing.append(p)
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    for d in reversed(missing):
        try:
            os.mkdir(d)
        except FileExistsError:
            if not os.path.isdir(d):
                raise
