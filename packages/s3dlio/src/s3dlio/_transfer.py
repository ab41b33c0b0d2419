"""upload / download: local files to and from any store, streamed (never loaded whole), several in
flight. A file that fails is reported by name once the others have completed."""

from __future__ import annotations

import glob as _glob
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from s3dlio_core import S3dlioError, bounded_map, store_for_uri, validate_max_in_flight
from s3dlio_core.listing import compile_pattern, glob_to_regex
from s3dlio_core.paths import join_key, make_dirs

__all__ = ["upload", "download", "TransferError", "expand_local_patterns"]


class TransferError(S3dlioError):
    """Some files of an upload/download failed; `.failures` maps each path or URI to its error."""

    def __init__(self, message: str, failures: dict[str, BaseException]) -> None:
        super().__init__(message)
        self.failures = failures


def _looks_like_regex(p: str) -> bool:
    return any(c in p for c in "[]()+^$|\\{}")


def expand_local_patterns(patterns: Iterable[str]) -> list[str]:
    """Local files named by each pattern: a file, a directory (its top-level files), a glob or a regex."""
    out: list[str] = []
    seen: set[str] = set()

    def add(p: str) -> None:
        if p not in seen and os.path.isfile(p):
            seen.add(p)
            out.append(p)

    for pat in patterns:
        if pat.startswith("file://"):
            pat = pat[len("file://"):]
        if os.path.isdir(pat):
            for name in sorted(os.listdir(pat)):
                add(os.path.join(pat, name))
        elif os.path.isfile(pat):
            add(pat)
        elif any(c in pat for c in "*?[") and (matches := sorted(_glob.glob(pat))):
            for m in matches:
                add(m)
        elif _looks_like_regex(pat) or "*" in pat or "?" in pat:
            d, name = os.path.split(pat)
            try:
                rx = re.compile(name + r"\Z")
            except re.error:
                continue
            if os.path.isdir(d or "."):
                for n in sorted(os.listdir(d or ".")):
                    if rx.match(n):
                        add(os.path.join(d, n))
    return out


def _report(kind: str, failures: dict[str, BaseException], total: int) -> None:
    if failures:
        lines = "; ".join(f"{k}: {v}" for k, v in builtins_sorted(failures.items()))
        raise TransferError(f"{kind}: {len(failures)} of {total} file(s) failed: {lines}", failures)


def builtins_sorted(items: Iterable[Any]) -> list[Any]:
    return sorted(items, key=lambda kv: kv[0])


def upload(src_patterns: Sequence[str] | str | None = None, dest_prefix: str | None = None,
           max_in_flight: int = 32, create_bucket: bool = False, *, local_dir: str | None = None,
           remote_uri: str | None = None, pattern: str | None = None,
           progress: Callable[[int], object] | None = None) -> None:
    """Upload local files to `dest_prefix` + basename.

    Two calling forms: `upload(["/src/*.dat"], "s3://b/dst/")` (the original's) and
    `upload(local_dir="/src", remote_uri="s3://b/dst/", pattern="*.dat")` (the guide's).
    `progress(nbytes)` is called as each file completes.
    """
    if local_dir is not None:
        src_patterns = [os.path.join(local_dir, pattern or "*")]
    if dest_prefix is None:
        dest_prefix = remote_uri
    if src_patterns is None or dest_prefix is None:
        raise TypeError("upload() needs src_patterns and dest_prefix (or local_dir and remote_uri)")
    if isinstance(src_patterns, str):
        src_patterns = [src_patterns]
    validate_max_in_flight(max_in_flight)
    files = expand_local_patterns(src_patterns)
    if not files:
        raise S3dlioError(f"No files matched for upload: {list(src_patterns)}")
    base = dest_prefix if dest_prefix.endswith("/") else dest_prefix + "/"
    store, u = store_for_uri(base)
    if create_bucket and u.bucket:
        try:  # the store takes the bucket (az: account and container) from the prefix URI
            store.create_bucket(base)
        except Exception:
            pass
    failures: dict[str, BaseException] = {}

    def one(path: str) -> None:
        try:
            with open(path, "rb", buffering=0) as f:
                store.put(base + os.path.basename(path), f)
                if progress is not None:
                    progress(os.fstat(f.fileno()).st_size)
        except Exception as e:
            failures[path] = e

    bounded_map(one, files, max_in_flight)
    _report("upload", failures, len(files))


def download(src_uri: str | None = None, dest_dir: str | None = None, max_in_flight: int = 64,
             recursive: bool = True, *, remote_uri: str | None = None, local_dir: str | None = None,
             pattern: str | None = None, progress: Callable[[int], object] | None = None) -> None:
    """Download the objects under `src_uri` into `dest_dir`, keeping relative sub-paths.

    Two calling forms: `download("s3://b/src/", "/dl")` and
    `download(remote_uri="s3://b/src/", local_dir="/dl", pattern="*.dat")`; `pattern` is a glob on the
    object's name (or a regex when it is not a glob). `progress(nbytes)` is called as each object completes.
    """
    src_uri = src_uri if src_uri is not None else remote_uri
    dest_dir = dest_dir if dest_dir is not None else local_dir
    if src_uri is None or dest_dir is None:
        raise TypeError("download() needs src_uri and dest_dir (or remote_uri and local_dir)")
    validate_max_in_flight(max_in_flight)
    store, _ = store_for_uri(src_uri)
    objects = [o for o in store.list(src_uri, recursive=recursive) if not o.endswith("/")]
    if not objects and store.exists(src_uri):
        objects = [src_uri]
    if pattern:
        if any(c in pattern for c in "*?"):
            rx = glob_to_regex(pattern)
            objects = [o for o in objects if rx.match(o.rsplit("/", 1)[-1])]
        else:
            rxs = compile_pattern(pattern)
            objects = [o for o in objects if rxs is not None and rxs.search(o.rsplit("/", 1)[-1])]
    if not objects:
        raise S3dlioError(f"No objects matched for download: {src_uri}", src_uri)
    base = src_uri if src_uri.endswith("/") else src_uri.rsplit("/", 1)[0] + "/"
    make_dirs(dest_dir)
    failures: dict[str, BaseException] = {}

    def one(obj: str) -> None:
        rel = obj[len(base):] if obj.startswith(base) else obj.rsplit("/", 1)[-1]
        try:
            target = join_key(dest_dir, rel, obj)  # a key with '..' must not land outside dest_dir
            n = store.download_to(obj, target)
            if progress is not None:
                progress(n)
        except Exception as e:
            failures[obj] = e

    bounded_map(one, objects, max_in_flight)
    _report("download", failures, len(objects))
