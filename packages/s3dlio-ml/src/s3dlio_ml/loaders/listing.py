"""A dataset's listing: the objects under a URI, listed once (recursively, in parallel, sorted, with the
sizes the listing carries), filtered by a glob, kept compactly and shared with DataLoader workers.

`Listing` holds full URIs, sizes (-1 when unknown) and where each URI's key starts, so `keys()` follows
the original: paths relative to the root for file:// and direct://, full object keys for s3://, gs://
and az://, the URIs themselves for `from_uris`.
"""

from __future__ import annotations

import os
import re
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

from s3dlio_core import InvalidUriError, ObjectNotFoundError
from s3dlio_core.listing import glob_to_regex
from s3dlio_core.uri import parse_uri

from .source import StoreSource, one_store

__all__ = ["Listing", "list_dataset", "compile_glob"]

_PATH_SCHEMES = ("file", "direct")


class Listing:
    """The objects of one dataset, in dataset order."""

    __slots__ = ("_typical", "key_start", "mixed", "pattern", "sizes", "source_uri", "uris")

    def __init__(self, uris: list[str], sizes: Iterable[int] | None = None, *, key_start: int = 0,
                 source_uri: str | None = None, pattern: str | None = None, mixed: bool = False) -> None:
        self.uris = uris
        self.sizes = array("q", sizes) if sizes is not None else array("q", [-1]) * len(uris)
        if len(self.sizes) != len(uris):
            raise ValueError(f"{len(uris)} URIs but {len(self.sizes)} sizes")
        self.key_start = key_start
        self.source_uri = source_uri
        self.pattern = pattern
        self.mixed = mixed  # URIs of more than one store (from_uris)
        self._typical: int | None = None  # typical_size(), once known

    def __len__(self) -> int:
        return len(self.uris)

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._typical = None
        for k, v in state.items():
            object.__setattr__(self, k, v)

    def key(self, i: int) -> str:
        return self.uris[i][self.key_start:]

    def keys(self) -> list[str]:
        ks = self.key_start
        return [u[ks:] for u in self.uris] if ks else list(self.uris)

    def size(self, i: int) -> int | None:
        s = self.sizes[i]
        return None if s < 0 else s

    def typical_size(self) -> int | None:
        """The median of the first sizes known (to tune concurrency), or None. Computed once known (a
        loader asks for every batch: sorting 1,024 sizes each time cost a tenth of a file:// epoch)."""
        if self._typical is not None:
            return self._typical
        known = sorted(s for s in self.sizes[:1024] if s >= 0)
        if not known:
            return None
        self._typical = known[len(known) // 2]
        return self._typical

    @classmethod
    def from_uris(cls, uris: Sequence[str]) -> Listing:
        """A listing of exactly these URIs (no listing request); sizes are learnt when read."""
        if isinstance(uris, str):
            raise TypeError("from_uris needs a list of URIs, got a single str")
        uris = [u for u in uris]
        if not uris:
            raise InvalidUriError("uris list must be non-empty")
        for u in uris:
            if not isinstance(u, str):
                raise TypeError(f"from_uris needs URI strings, got {type(u).__name__}")
            parse_uri(u)  # a bad URI is refused now, naming it, not at the first read
        return cls(uris, mixed=not one_store(uris))


def compile_glob(pattern: str | None) -> re.Pattern[str] | None:
    """A dataset `pattern`: a glob on the key relative to the dataset URI. Without '/', it matches the
    last path segment at any depth ("*.npz"); with '/', the whole relative key ('*' stays within one
    level, '**' crosses levels)."""
    if pattern is None or pattern == "":
        return None
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be a glob string, got {type(pattern).__name__}")
    if "/" in pattern:
        return glob_to_regex(pattern)
    return re.compile(r"(?:.*/)?" + glob_to_regex(pattern).pattern, re.DOTALL)


def _bucket_base(u: Any) -> str:
    """The URI prefix object keys are relative to: 's3://b/', 's3://host:port/b/', 'gs://b/', and for
    az:// the container ('az://account/container/' in the account form)."""
    if u.scheme == "az":
        from s3dlio_core import store_for_uri

        loc = getattr(store_for_uri(u.uri)[0], "_loc", None)  # the Azure store knows which form it is
        if loc is not None:
            return loc(u).u.base
    return u.base


def list_dataset(uri: str, *, pattern: str | None = None, source: StoreSource | None = None) -> Listing:
    """List `uri` once: a prefix (or directory) gives every object under it, recursively, sorted; an
    object gives itself. `pattern` keeps the keys matching a glob (see `compile_glob`).

    Raises ObjectNotFoundError when a file:// or direct:// path does not exist, InvalidUriError for a
    bad URI, and what the store's listing raises.
    """
    if not isinstance(uri, str):
        raise TypeError(f"dataset URI must be a str, got {type(uri).__name__}")
    source = source or StoreSource()
    u = parse_uri(uri)
    rx = compile_glob(pattern)
    infos = source.list_objects(uri)
    if u.scheme in _PATH_SCHEMES:
        path = u.path
        if not infos and not os.path.exists(path):
            raise ObjectNotFoundError(f"Failed to create file system dataset: Path does not exist: {path} "
                                      f"({uri})", uri)
        root = uri if uri.endswith("/") or not os.path.isfile(path) else uri.rsplit("/", 1)[0]
        if not root.endswith("/"):
            root += "/"
        key_start = len(root)
    else:
        key_start = len(_bucket_base(u))
        root = uri if uri.endswith("/") else uri.rsplit("/", 1)[0] + "/"
    uris: list[str] = []
    sizes = array("q")
    rel_start = len(root)
    for info in infos:
        v = info.uri
        if v.endswith("/"):  # a "folder" marker object, not data
            continue
        if rx is not None:
            rel = v[rel_start:] if v.startswith(root) else v.rsplit("/", 1)[-1]
            if rx.match(rel) is None:
                continue
        uris.append(v)
        sizes.append(-1 if info.size is None else int(info.size))
    return Listing(uris, sizes, key_start=key_start, source_uri=uri, pattern=pattern)
