"""Listing rules shared by every store: what a listed URI selects, and the `pattern` filter.

Object stores (S3, GCS, Azure) select keys the original's "exact URI selection" way (see `plan_listing`);
`pattern` is a regex searched in each result's path relative to the listed URI.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from .errors import InvalidUriError

__all__ = ["ListPlan", "plan_listing", "glob_to_regex", "compile_pattern", "filter_pattern", "has_glob",
           "ListedObject", "ObjectInfo", "filter_pattern_info"]


class ListedObject(NamedTuple):
    """One object of a listing page as a bucket store's backend reports it (key relative to the bucket;
    `last_modified` as RFC 3339 text like stat's; None where the service said nothing)."""

    key: str
    size: int | None = None
    last_modified: str | None = None
    etag: str | None = None


class ObjectInfo(NamedTuple):
    """One listed entry with the metadata the listing itself carried (no HEAD per object).

    `uri` is the full URI; directory entries (non-recursive listings) have `is_dir` True and size None.
    """

    uri: str
    size: int | None = None
    last_modified: str | None = None
    etag: str | None = None
    is_dir: bool = False

_GLOB_CHARS = ("*", "?")


def has_glob(key: str) -> bool:
    return any(c in key for c in _GLOB_CHARS)


def glob_to_regex(glob: str) -> re.Pattern[str]:
    """`*` matches within one path level, `**` crosses '/', `?` is one non-'/' character."""
    out = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            if glob.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ListPlan:
    """How to list `key`: the literal prefix to ask the server for, whether to group by '/', and a
    predicate that keeps the right objects (and, with a delimiter, the right directory entries)."""

    prefix: str
    delimiter: str | None
    keep_object: Callable[[str], bool]
    keep_dir: Callable[[str], bool]


def _true(_: str) -> bool:
    return True


def _false(_: str) -> bool:
    return False


def plan_listing(key: str, recursive: bool) -> ListPlan:
    """The selection rules of the original (0.9.126+), for a key relative to its bucket.

    * `dir/` (or ''): everything under it; one level (with `sub/` entries) unless recursive.
    * `foo` (no trailing '/', no glob): the object `foo` itself plus what is under `foo/` (one level:
      the entry `foo/`), never `foobar` or `foo.bak`.
    * a glob (`foo*`, `dir/*.bin`, `dir/**`): objects whose whole key matches; `*` stays in one level.
    """
    if has_glob(key):
        first = min(key.index(c) for c in _GLOB_CHARS if c in key)
        rx = glob_to_regex(key)
        return ListPlan(key[:first], None, lambda k: rx.match(k) is not None, _false)
    if key == "" or key.endswith("/"):
        if recursive:
            return ListPlan(key, None, _true, _false)
        return ListPlan(key, "/", _true, _true)
    exact, under = key, key + "/"
    if recursive:
        return ListPlan(key, None, lambda k: k == exact or k.startswith(under), _false)
    return ListPlan(key, "/", lambda k: k == exact, lambda p: p == under)


def compile_pattern(pattern: str | None) -> re.Pattern[str] | None:
    """Compile a list `pattern`; a bad one raises InvalidUriError naming the pattern."""
    if pattern is None or pattern == "":
        return None
    try:
        return re.compile(pattern)
    except re.error as e:
        raise InvalidUriError(f"Invalid regex pattern: {pattern!r}: regex parse error: {e}") from None


def _relative_matcher(listed_uri: str, rx: re.Pattern[str]) -> Callable[[str], bool]:
    """Does a listed URI's path relative to `listed_uri` (with '/' appended) match `rx` (re.search)?"""
    base = listed_uri if listed_uri.endswith("/") else listed_uri + "/"
    parent = listed_uri.rsplit("/", 1)[0] + "/"

    def match(u: str) -> bool:
        if u.startswith(base):
            rel = u[len(base):]
        elif u.startswith(parent):
            rel = u[len(parent):]
        else:
            rel = u
        return rx.search(rel) is not None

    return match


def filter_pattern(uris: Iterable[str], listed_uri: str, rx: re.Pattern[str] | None) -> Iterator[str]:
    """Keep the URIs whose path relative to `listed_uri` (with '/' appended) matches `rx` (re.search)."""
    if rx is None:
        yield from uris
        return
    match = _relative_matcher(listed_uri, rx)
    for u in uris:
        if match(u):
            yield u


def filter_pattern_info(infos: Iterable[ObjectInfo], listed_uri: str, rx: re.Pattern[str] | None
                        ) -> Iterator[ObjectInfo]:
    """`filter_pattern` for listing entries with metadata."""
    if rx is None:
        yield from infos
        return
    match = _relative_matcher(listed_uri, rx)
    for info in infos:
        if match(info.uri):
            yield info
