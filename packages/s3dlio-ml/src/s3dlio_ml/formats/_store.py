"""How the format code reaches storage: only through the store protocol of s3dlio-core.

A location is a URI of any registered scheme, or a local path (made a file:// URI). A caller may pass its
own store (one made with `new_store(uri, config)`, a multi-endpoint store, ...) instead of the shared one
for the URI's scheme.
"""

from __future__ import annotations

import os

from s3dlio_core import ObjectStore, store_for_uri

__all__ = ["as_uri", "resolve"]


def as_uri(location: str | os.PathLike[str]) -> str:
    """`location` as a URI: URIs unchanged, local paths (relative or absolute) as file:// URIs."""
    loc = os.fspath(location)
    if not isinstance(loc, str):
        raise TypeError(f"expected a URI or a path, got {type(location).__name__}")
    if "://" in loc:
        return loc
    if not loc:
        raise ValueError("empty path")
    return "file://" + os.path.abspath(loc)


def resolve(location: str | os.PathLike[str], store: ObjectStore | None = None) -> tuple[ObjectStore, str]:
    """(store, uri) for a URI or local path; `store` is used as given when passed."""
    uri = as_uri(location)
    if store is not None:
        return store, uri
    st, _ = store_for_uri(uri)
    return st, uri

