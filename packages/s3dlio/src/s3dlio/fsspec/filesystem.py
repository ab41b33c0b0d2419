"""S3dlioFileSystem: an fsspec filesystem over every s3dlio store, mapped one to one onto the store protocol.

| fsspec                          | store protocol (packages/s3dlio-core/PROTOCOL.md)                      |
|---------------------------------|------------------------------------------------------------------------|
| ls, find, glob, du, walk        | `list_info` (sizes, mtimes and etags from the listing; no HEAD per entry) |
| info, size, isfile, modified    | `stat` (one HEAD), then one listing page for a directory              |
| cat_file                        | `get`, `get_range`, `get_suffix` (negative start: one request)         |
| cat_ranges                      | `get_ranges` (nearby ranges coalesced, one request per span)           |
| cat (many paths), pipe (dict)   | bounded fan-out of `get` / `put`                                       |
| pipe_file, put_file             | `put` (a local file is streamed, not loaded)                           |
| open("rb")                      | `open_reader` (seekable, buffered, range reads)                        |
| open("wb"), open("xb")          | `open_writer` (streaming; nothing visible until close)                 |
| get_file                        | `download_to` (temporary name, renamed when complete)                  |
| cp_file                         | `open_reader` streamed into `put` (also across stores)                 |
| rm                              | `delete`, `delete(recursive=True)` (batched deletes)                   |
| mkdir, makedirs, rmdir          | `mkdir` / `create_bucket` / `delete_bucket`                            |

Object stores have no directories: a "directory" is a prefix that has objects under it, `mkdir` of a
prefix does nothing (of a bucket: creates it), and an empty directory cannot exist (a zero-byte marker
object named `dir/`, as other tools write, is honoured when listing). file:// and direct:// have real
directories and behave like fsspec's local filesystem.

Results of `cat_file` are the store's zero-copy BytesView (a bytearray subclass: it compares equal to
bytes and works wherever bytes-like data does); `cat_ranges` returns that buffer itself where a range was
fetched on its own, else a bytes copy of just the requested slice. Multi-file `get`, `put` and `copy`
expand their paths as fsspec does and then transfer with bounded concurrency (`max_in_flight`).

Errors: a missing path raises FileNotFoundError (s3dlio's ObjectNotFoundError is one), reading a
directory IsADirectoryError, `open(..., "xb")` and `pipe_file(..., mode="create")` on an existing object
FileExistsError, append modes NotImplementedError, an I/O failure an OSError that is still the s3dlio
StorageIOError / ThrottledError it was. "Exclusive" creation is a check before the write, not an atomic
conditional put.
"""

from __future__ import annotations

import errno
import os
import stat as _stat
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from glob import has_magic
from typing import Any

from fsspec.callbacks import DEFAULT_CALLBACK
from fsspec.spec import AbstractFileSystem
from fsspec.utils import isfilelike
from s3dlio_core.bytes_view import BytesView
from s3dlio_core.concurrency import bounded_map, validate_max_in_flight
from s3dlio_core.errors import InvalidUriError, ObjectNotFoundError, UnsupportedOperationError
from s3dlio_core.listing import ObjectInfo
from s3dlio_core.ranges import ByteRange, OffsetRange, Range, SuffixRange
from s3dlio_core.registry import store_for_uri
from s3dlio_core.store import RANGE_COALESCE, READER_BUFFER, ObjectStore
from s3dlio_core.uri import parse_uri

from s3dlio._api_core import list_containers

from .errors import translated
from .files import DeferredWriter, TextWriter
from .paths import PATH_SCHEMES, PROTOCOL, split_scheme, strip_protocol, to_path, to_uri

__all__ = ["S3dlioFileSystem"]

_COPY_BUFFER = 8 << 20  # bytes per read when an object is streamed into a caller's file object
# options fsspec itself passes to (or strips from) every filesystem; accepted and left to fsspec
_FSSPEC_OPTIONS = frozenset({"use_listings_cache", "listings_expiry_time", "max_paths", "asynchronous", "loop",
                             "skip_instance_cache"})


def _mtime(text: str | None) -> datetime | None:
    """A timezone-aware datetime of an RFC 3339 timestamp (any fraction length), None if absent."""
    if not text:
        return None
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dot = s.find(".")
    if dot > 0:  # fromisoformat takes at most 6 fractional digits
        end = dot + 1
        while end < len(s) and s[end].isdigit():
            end += 1
        s = s[:dot + 1] + s[dot + 1:end][:6].ljust(6, "0") + s[end:]
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _file_entry(name: str, size: int | None, last_modified: str | None, etag: str | None,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name, "size": size, "type": "file"}
    if last_modified:
        d["last_modified"] = last_modified
        mt = _mtime(last_modified)
        if mt is not None:
            d["mtime"] = mt
    if etag:
        d["etag"] = etag
    if extra:
        d.update(extra)
    return d


def _dir_entry(name: str, mtime: datetime | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name, "size": 0, "type": "directory"}
    if mtime is not None:
        d["mtime"] = mtime
    return d


_STAT_EXTRA = ("content_type", "storage_class", "version_id", "metadata")


class S3dlioFileSystem(AbstractFileSystem):
    """fsspec filesystem for every s3dlio URI (`s3dlio://s3/bucket/key`, or the s3dlio URI itself).

    Options (storage_options): `max_in_flight` (concurrent requests of bulk calls, default 64),
    `coalesce_gap` (bytes between ranges that `cat_ranges` fetches as one request, default 1 MiB) and
    `block_size` (read-ahead of files opened for reading, default 1 MiB). Endpoints and credentials come
    from the environment as for every s3dlio call (AWS_ENDPOINT_URL, ...), or from the URI
    (`s3/host:port/bucket/key`). Anything else is a TypeError, so a misspelt option is not ignored.
    """

    protocol = PROTOCOL
    root_marker = ""
    sep = "/"
    async_impl = False

    def __init__(self, *args: Any, max_in_flight: int = 64, coalesce_gap: int = RANGE_COALESCE,
                 block_size: int = READER_BUFFER, **storage_options: Any) -> None:
        unknown = sorted(set(storage_options) - _FSSPEC_OPTIONS)
        if args or unknown:
            what = ", ".join([*(repr(a) for a in args), *unknown])
            raise TypeError(f"S3dlioFileSystem got unexpected option(s) {what}; it takes max_in_flight, "
                            "coalesce_gap and block_size (endpoints and credentials come from the "
                            "environment or the URI)")
        super().__init__(**storage_options)
        self.max_in_flight = validate_max_in_flight(max_in_flight)
        if isinstance(coalesce_gap, bool) or not isinstance(coalesce_gap, int) or coalesce_gap < 0:
            raise ValueError(f"coalesce_gap must be an int >= 0, got {coalesce_gap!r}")
        if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
            raise ValueError(f"block_size must be an int >= 1, got {block_size!r}")
        self.coalesce_gap = coalesce_gap
        self.blocksize = block_size
        self._plan = threading.local()  # see _planned: multi-file transfers collected, then fanned out

    # ------------------------------------------------------------------ paths
    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        return strip_protocol(os.fspath(path) if not isinstance(path, str) else path)

    @property
    def fsid(self) -> str:
        return PROTOCOL

    @staticmethod
    def _target(path: str, *, directory: bool = False) -> tuple[ObjectStore, str]:
        """(store, URI) of an already stripped path."""
        uri = to_uri(path, directory=directory)
        store, _ = store_for_uri(uri)
        return store, uri

    @staticmethod
    def _local(store: ObjectStore) -> bool:
        return bool(store.capabilities.directories)

    @staticmethod
    def _is_bucket_root(path: str) -> bool:
        """True for `scheme/bucket` (a bucket store's bucket, not a key in it)."""
        _, canon, rest = split_scheme(path)
        if canon in PATH_SCHEMES or not rest:
            return False
        return not parse_uri(to_uri(path)).key

    @staticmethod
    def _entry_of(info: ObjectInfo) -> dict[str, Any]:
        name = to_path(info.uri)
        if info.is_dir:
            return _dir_entry(name)
        return _file_entry(name, info.size, info.last_modified, info.etag)

    def _with_sizes(self, entries: Any) -> Any:
        """Give file entries whose listing carried no size (a backend whose listing pages have no metadata)
        their size and mtime from a stat, with bounded concurrency. Listings with metadata (memory://,
        file://, and S3/GCS/Azure where the backend reports it) never need one."""
        missing = [e for e in entries if e["type"] == "file" and e.get("size") is None]
        if missing:
            def fill(e: dict[str, Any]) -> None:
                store, uri = self._target(e["name"])
                try:
                    e.update(self._stat_entry(e["name"], store, uri))
                except ObjectNotFoundError:
                    pass  # deleted since it was listed

            bounded_map(fill, missing, self.max_in_flight)
        return entries

    def _stat_entry(self, path: str, store: ObjectStore, uri: str) -> dict[str, Any]:
        st = store.stat(uri)
        extra = {k: st[k] for k in _STAT_EXTRA if st.get(k)}
        return _file_entry(path, st.get("size"), st.get("last_modified"), st.get("etag"), extra)

    @staticmethod
    def _local_dir(store: ObjectStore, uri: str) -> os.stat_result | None:
        """The stat of a file:// / direct:// directory, None if the path is not one."""
        try:
            st = os.stat(parse_uri(uri).path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return st if _stat.S_ISDIR(st.st_mode) else None

    def _bucket_exists(self, store: ObjectStore, path: str) -> bool:
        uri = to_uri(path, directory=True)
        try:
            if self._has_objects(store, path):
                return True
        except ObjectNotFoundError:
            return False
        try:  # an empty bucket lists nothing: ask the bucket listing
            bucket = parse_uri(uri).bucket
            return any(b.get("name") == bucket for b in store.list_buckets(uri))
        except (UnsupportedOperationError, PermissionError):
            return True  # the listing succeeded, so the bucket is there

    @staticmethod
    def _has_objects(store: ObjectStore, path: str) -> bool:
        """Whether any object lies under `path/` (a directory on an object store). A flat listing, not a
        delimited one: some servers (SeaweedFS) keep reporting a prefix as a 'directory' after its last
        object is gone."""
        return next(iter(store.list_info_iter(to_uri(path, directory=True), recursive=True)), None) is not None

    def _missing(self, path: str, err: BaseException | None = None) -> OSError:
        """FileNotFoundError for `path`, or IsADirectoryError when it names a directory."""
        if self._isdir(path):
            return IsADirectoryError(errno.EISDIR, "is a directory (not a file)", path)
        if isinstance(err, FileNotFoundError):
            return err
        return FileNotFoundError(errno.ENOENT, "no such file or directory", path)

    # ------------------------------------------------------------------ listing and metadata
    @translated
    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """One level under `path` (or `[path]` itself when it is a file), from one listing."""
        path = self._strip_protocol(path)
        if not path:
            raise InvalidUriError("ls of the filesystem root: name a scheme, e.g. 's3', 'memory/bucket' or "
                                  "'file/tmp'", path)
        written, canon, rest = split_scheme(path)
        if not rest and canon not in PATH_SCHEMES:  # scheme root: the buckets
            out = [_dir_entry(to_path(b["uri"]), _mtime(b.get("creation_date")))
                   for b in list_containers(f"{written}://")]
            return out if detail else [e["name"] for e in out]
        if canon in PATH_SCHEMES:
            store, uri = self._target(path)
            if getattr(store, "list_directories", True):
                entries = [self._entry_of(i) for i in store.list_info_iter(uri)]
            else:  # direct:// lists files only (as the original does): the same directory through file://
                entries = [self._entry_of(i) for i in self._target("file/" + rest)[0].list_info_iter(
                    "file:///" + rest)]
                for e in entries:
                    e["name"] = written + e["name"][4:]
            if not entries and self._local_dir(store, uri) is None:
                raise FileNotFoundError(errno.ENOENT, "no such file or directory", path)
            return self._with_sizes(entries) if detail else [e["name"] for e in entries]
        store, uri = self._target(path, directory=True)
        entries = []
        marker = False
        for info in store.list_info_iter(uri):
            e = self._entry_of(info)
            if e["name"] == path:  # a zero-byte 'dir/' marker object: the directory itself
                marker = True
                continue
            entries.append(e)
        if not entries and not marker:
            file_uri = to_uri(path)
            try:
                entries = [self._stat_entry(path, store, file_uri)]
            except ObjectNotFoundError:
                if not (self._is_bucket_root(path) and self._bucket_exists(store, path)):
                    raise FileNotFoundError(errno.ENOENT, "no such file or directory", path) from None
        return self._with_sizes(entries) if detail else [e["name"] for e in entries]

    @translated
    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """A file's entry from one stat, else a directory's from one listing page; FileNotFoundError."""
        path = self._strip_protocol(path)
        if not path:
            return _dir_entry("")
        _written, _canon, rest = split_scheme(path)
        if not rest:
            return _dir_entry(path)
        store, uri = self._target(path)
        if self._is_bucket_root(path):
            if self._bucket_exists(store, path):
                return _dir_entry(path)
            raise FileNotFoundError(errno.ENOENT, "no such bucket", path)
        try:
            return self._stat_entry(path, store, uri)
        except ObjectNotFoundError as e:
            missing = e
        if self._local(store):
            st = self._local_dir(store, uri)
            if st is not None:
                return _dir_entry(path, datetime.fromtimestamp(st.st_mtime, tz=UTC))
        elif self._has_objects(store, path):
            return _dir_entry(path)
        raise missing

    def _isdir(self, path: str) -> bool:
        _written, _canon, rest = split_scheme(path)
        if not rest:
            return True
        store, uri = self._target(path)
        if self._local(store):
            return self._local_dir(store, uri) is not None
        if self._is_bucket_root(path):
            return self._bucket_exists(store, path)
        return self._has_objects(store, path)

    @translated
    def isdir(self, path: str) -> bool:
        """Whether `path` is a directory (file stores: a real one; object stores: a prefix with objects)."""
        path = self._strip_protocol(path)
        if not path:
            return True
        try:
            return self._isdir(path)
        except (FileNotFoundError, InvalidUriError):
            return False

    @translated
    def isfile(self, path: str) -> bool:
        """Whether `path` is an object (one stat)."""
        path = self._strip_protocol(path)
        try:
            store, uri = self._target(path)
            store.stat(uri)
            return True
        except (FileNotFoundError, InvalidUriError):
            return False

    @translated
    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        """Every file under `path` (and with `withdirs` the directories, implied ones included) from one
        flat listing on object stores; `[path]` when it is a file."""
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        path = self._strip_protocol(path)
        if not path:
            raise InvalidUriError("find over the filesystem root: name a scheme and bucket or directory", path)
        _written, canon, rest = split_scheme(path)
        if canon in PATH_SCHEMES or not rest:  # real directories, or a scheme's buckets: walk with ls
            return super().find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        store, uri = self._target(path, directory=True)
        out: dict[str, dict[str, Any]] = {}
        seen_dirs: set[str] = set()
        base = len(path) + 1
        found = False
        for info in store.list_info_iter(uri, recursive=maxdepth != 1):
            found = True
            name = to_path(info.uri)
            if name == path:
                continue  # the directory's own marker object
            depth = name.count("/", base) + 1
            if info.is_dir or info.uri.endswith("/"):
                if withdirs and (maxdepth is None or depth <= maxdepth):
                    out[name] = _dir_entry(name)
                    seen_dirs.add(name)
                if not info.is_dir:  # a marker object deeper down: its parents are directories too
                    self._add_parents(out, seen_dirs, name, base, maxdepth, withdirs)
                continue
            if maxdepth is None or depth <= maxdepth:
                out[name] = self._entry_of(info)
            self._add_parents(out, seen_dirs, name, base, maxdepth, withdirs)
        if found or (self._is_bucket_root(path) and self._bucket_exists(store, path)):
            if withdirs:
                out[path] = _dir_entry(path)
        else:
            try:
                out[path] = self._stat_entry(path, store, to_uri(path))
            except ObjectNotFoundError:
                pass
        names = sorted(out)
        if not detail:
            return names
        self._with_sizes(out.values())
        return {n: out[n] for n in names}

    @staticmethod
    def _add_parents(out: dict[str, dict[str, Any]], seen: set[str], name: str, base: int,
                     maxdepth: int | None, withdirs: bool) -> None:
        """Record the directories between the listed root and `name` (the implied prefixes)."""
        if not withdirs:
            return
        d = name.rsplit("/", 1)[0]
        while len(d) >= base and d not in seen:
            seen.add(d)
            if maxdepth is None or d.count("/", base) + 1 <= maxdepth:
                out[d] = _dir_entry(d)
            d = d.rsplit("/", 1)[0]

    @translated
    def du(self, path: str, total: bool = True, maxdepth: int | None = None, withdirs: bool = False,
           **kwargs: Any) -> Any:
        """Bytes used under `path`, from the listing's sizes (no stat per file)."""
        found = self.find(path, maxdepth=maxdepth, withdirs=withdirs, detail=True, **kwargs)
        sizes = {name: (e.get("size") or 0) for name, e in found.items()}
        return sum(sizes.values()) if total else sizes

    @translated
    def modified(self, path: str) -> datetime:
        """Last-modified time (timezone-aware, UTC) from the store's metadata."""
        mt = self.info(path).get("mtime")
        if mt is None:
            raise UnsupportedOperationError(f"the store reports no modification time for {path}", path)
        return mt

    @translated
    def created(self, path: str) -> datetime:
        """Creation time. Objects are immutable, so an object's last-modified time is when it was created;
        file:// and direct:// files may change in place and Linux reports no birth time:
        NotImplementedError there."""
        p = self._strip_protocol(path)
        store, _ = self._target(p)
        if self._local(store):
            raise UnsupportedOperationError(f"local files have no recorded creation time ({p}); use modified()",
                                            p)
        return self.modified(p)

    # ------------------------------------------------------------------ reading
    @translated
    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> Any:
        """Bytes [start, end) of a file (negative values count from its end), in one request: a whole
        object is one GET, a negative start with no end one suffix request."""
        path = self._strip_protocol(path)
        store, uri = self._target(path)
        try:
            if end is None and not start:
                return store.get(uri)
            if end is None and start is not None and start < 0:
                return store.get_suffix(uri, -start)
            s = start or 0
            if s < 0 or (end is not None and end < 0):
                size = store.stat(uri)["size"]
                s = max(0, size + s) if s < 0 else s
                if end is not None and end < 0:
                    end = max(0, size + end)
            if end is None:
                return store.get_range(uri, s)
            if end <= s:
                store.stat(uri)  # an empty range of a missing file is still an error
                return BytesView()
            return store.get_range(uri, s, end - s)
        except ObjectNotFoundError as e:
            raise self._missing(path, e) from None

    @translated
    def cat_ranges(self, paths: list[str], starts: Any, ends: Any, max_gap: int | None = None,
                   on_error: str = "return", **kwargs: Any) -> list[Any]:
        """Many byte ranges, grouped per file into one `get_ranges` call each (ranges closer than
        `max_gap`, default the filesystem's `coalesce_gap`, share a request); files fan out in parallel."""
        if not isinstance(paths, list):
            raise TypeError(f"paths must be a list, got {type(paths).__name__}")
        n = len(paths)
        starts = starts if isinstance(starts, list) else [starts] * n
        ends = ends if isinstance(ends, list) else [ends] * n
        if len(starts) != n or len(ends) != n:
            raise ValueError(f"cat_ranges needs as many starts ({len(starts)}) and ends ({len(ends)}) as paths "
                             f"({n})")
        gap = self.coalesce_gap if max_gap is None else max_gap
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(paths):
            groups.setdefault(self._strip_protocol(p), []).append(i)
        out: list[Any] = [None] * n
        handed: set[int] = set()

        def fetch(item: tuple[str, list[int]]) -> None:
            path, idxs = item
            try:
                store, uri = self._target(path)
                ranges, size = self._ranges(store, uri, [(starts[i], ends[i]) for i in idxs])
                views = store.get_ranges(uri, ranges, coalesce_gap=gap, size=size)
            except Exception as e:
                if on_error != "return":
                    raise
                err = self._missing(path, e) if isinstance(e, ObjectNotFoundError) else e
                for i in idxs:
                    out[i] = err
                return
            for i, mv in zip(idxs, views, strict=True):
                out[i] = self._owned(mv, handed)

        items = list(groups.items())
        if len(items) == 1:
            fetch(items[0])
        else:
            bounded_map(fetch, items, self.max_in_flight)
        return out

    @staticmethod
    def _ranges(store: ObjectStore, uri: str, pairs: list[tuple[Any, Any]]) -> tuple[list[Range], int | None]:
        """Typed ranges for fsspec (start, end) pairs; the size is fetched once if a pair needs it."""
        size = None
        if any((s is not None and s < 0 and e is not None) or (e is not None and e < 0) for s, e in pairs):
            size = store.stat(uri)["size"]
        out: list[Range] = []
        for s, e in pairs:
            s = s or 0
            if e is None:
                out.append(SuffixRange(-s) if s < 0 else OffsetRange(s))
                continue
            if size is not None:
                s = max(0, size + s) if s < 0 else s
                e = max(0, size + e) if e < 0 else e
            out.append(ByteRange(s, max(s, e)))
        return out, size

    @staticmethod
    def _owned(mv: memoryview, handed: set[int]) -> Any:
        """The fetched buffer itself when the view covers all of it and it was not handed out yet (no
        copy), else a bytes copy of just the view."""
        obj = mv.obj
        if isinstance(obj, BytesView) and mv.nbytes == len(obj) and id(obj) not in handed:
            handed.add(id(obj))
            return obj
        return bytes(mv)

    @translated
    def cat(self, path: Any, recursive: bool = False, on_error: str = "raise", **kwargs: Any) -> Any:
        """The contents of one path (bytes-like), or a dict for several (globs, lists, recursive), fetched
        with at most `max_in_flight` requests at once."""
        paths = self.expand_path(path, recursive=recursive)
        if not (len(paths) > 1 or isinstance(path, list) or paths[0] != self._strip_protocol(path)):
            return self.cat_file(paths[0], **kwargs)

        def one(p: str) -> tuple[str, Any]:
            try:
                return p, self.cat_file(p, **kwargs)
            except Exception as e:
                if recursive and isinstance(e, IsADirectoryError):
                    return p, None  # a directory of the expansion: nothing to read
                if on_error == "raise":
                    raise
                return p, (None if on_error == "omit" else e)

        results = bounded_map(one, paths, self.max_in_flight)
        return {p: v for p, v in results if v is not None}

    def head(self, path: str, size: int = 1024) -> Any:
        """The first `size` bytes (one ranged request)."""
        return self.cat_file(path, 0, size)

    def tail(self, path: str, size: int = 1024) -> Any:
        """The last `size` bytes (one suffix request)."""
        return self.cat_file(path, -size) if size else BytesView()

    # ------------------------------------------------------------------ writing
    @translated
    def pipe_file(self, path: str, value: Any, mode: str = "overwrite", **kwargs: Any) -> None:
        """Write one object from bytes-like data (one PUT, or a multipart upload for large data).
        `mode="create"` refuses (FileExistsError) when the object exists: a check, then the write."""
        path = self._strip_protocol(path)
        if mode not in ("overwrite", "create"):
            raise ValueError(f"pipe_file mode must be 'overwrite' or 'create', got {mode!r}")
        store, uri = self._target(path)
        if mode == "create" and store.exists(uri):
            raise FileExistsError(errno.EEXIST, "object exists", path)
        store.put(uri, value)

    @translated
    def pipe(self, path: Any, value: Any = None, **kwargs: Any) -> None:
        """`pipe_file` for one path, or every `{path: data}` of a dict with bounded concurrency."""
        if isinstance(path, dict):
            items = [(self._strip_protocol(k), v) for k, v in path.items()]
            bounded_map(lambda kv: self.pipe_file(kv[0], kv[1], **kwargs), items, self.max_in_flight)
            return
        if isinstance(path, str):
            self.pipe_file(self._strip_protocol(path), value, **kwargs)
            return
        raise ValueError(f"path must be a str or a dict, got {type(path).__name__}")

    def open(self, path: str, mode: str = "rb", block_size: int | None = None, cache_options: Any = None,
             compression: str | None = None, **kwargs: Any) -> Any:
        """fsspec's `open`; text writes abort the object when the `with` block raises, as binary writes do."""
        if "b" not in mode and ("w" in mode or "x" in mode):
            text_kwargs = {k: kwargs.pop(k) for k in ("encoding", "errors", "newline") if k in kwargs}
            raw = self.open(path, mode.replace("t", "") + "b", block_size=block_size, cache_options=cache_options,
                            compression=compression, **kwargs)
            return TextWriter(raw, **text_kwargs)
        return super().open(path, mode, block_size=block_size, cache_options=cache_options,
                            compression=compression, **kwargs)

    @translated
    def _open(self, path: str, mode: str = "rb", block_size: int | None = None, autocommit: bool = True,
              cache_options: Any = None, **kwargs: Any) -> Any:
        """'rb': the store's seekable reader (pass `size=` from a listing to save its stat); 'wb': the
        streaming writer, committed on close (or at the end of `fs.transaction`); 'xb': the same after
        checking that nothing exists there."""
        path = self._strip_protocol(path)
        store, uri = self._target(path)
        if mode == "rb":
            try:
                f = store.open_reader(uri, size=kwargs.get("size"), buffer_size=block_size or self.blocksize)
            except ObjectNotFoundError as e:
                raise self._missing(path, e) from None
            f.size = f.raw.size  # what fsspec's get_file and dask read for progress and partitioning
            return f
        if mode in ("wb", "xb"):
            if mode == "xb" and store.exists(uri):
                raise FileExistsError(errno.EEXIST, "object exists", path)
            w = store.open_writer(uri)
            return w if autocommit else DeferredWriter(w)
        if "a" in mode or "+" in mode:
            raise UnsupportedOperationError(
                f"mode {mode!r} is not supported for {path}: objects cannot be appended to or updated in "
                "place (write a new object with 'wb')", uri)
        raise ValueError(f"invalid mode {mode!r} for {path} (use 'rb', 'wb' or 'xb', or their text forms)")

    @translated
    def touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        """Create an empty object (objects have no timestamps to update: truncate=False on an existing
        object is NotImplementedError)."""
        path = self._strip_protocol(path)
        store, uri = self._target(path)
        if truncate or not store.exists(uri):
            store.put(uri, b"")
            return
        raise UnsupportedOperationError(f"cannot update the timestamp of {path} without rewriting it", uri)

    # ------------------------------------------------------------------ directories
    @translated
    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """file:// / direct://: create the directory (FileExistsError if it exists, FileNotFoundError if
        its parent does not and `create_parents` is False). Object stores: a bucket path creates the
        bucket; a prefix needs nothing (it exists once an object is written under it)."""
        path = self._strip_protocol(path)
        _written, _canon, rest = split_scheme(path)
        store, uri = self._target(path)
        if self._local(store):
            local = parse_uri(uri).path
            if os.path.lexists(local):
                raise FileExistsError(errno.EEXIST, "exists", path)
            if not create_parents and not os.path.isdir(os.path.dirname(local.rstrip("/")) or "/"):
                raise FileNotFoundError(errno.ENOENT, "parent directory does not exist", self._parent(path))
            store.mkdir(uri)
            return
        if rest and self._is_bucket_root(path):
            store.create_bucket(uri)
            return
        store.mkdir(uri)

    @translated
    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """mkdir with parents; an existing directory is fine with `exist_ok` (object-store prefixes always
        are: there is nothing to create)."""
        path = self._strip_protocol(path)
        store, uri = self._target(path)
        if self._local(store):
            if self._local_dir(store, uri) is not None:
                if not exist_ok:
                    raise FileExistsError(errno.EEXIST, "directory exists", path)
                return
            store.mkdir(uri)
            return
        if self._is_bucket_root(path):
            if self._bucket_exists(store, path):
                if not exist_ok:
                    raise FileExistsError(errno.EEXIST, "bucket exists", path)
                return
            store.create_bucket(uri)
            return
        store.mkdir(uri)

    @translated
    def rmdir(self, path: str) -> None:
        """Remove an empty directory (file stores) or an empty bucket; on object stores an empty prefix
        has nothing to remove. A directory with entries raises OSError(ENOTEMPTY)."""
        path = self._strip_protocol(path)
        store, uri = self._target(path)
        if self._local(store) or self._is_bucket_root(path):
            store.delete_bucket(uri)  # file stores: os.rmdir; bucket stores: delete the (empty) bucket
            return
        if self._has_objects(store, path):
            raise OSError(errno.ENOTEMPTY, "directory not empty", path)

    # ------------------------------------------------------------------ deleting
    @translated
    def rm_file(self, path: str) -> None:
        """Delete exactly this object (a missing one is not an error)."""
        path = self._strip_protocol(path)
        store, uri = self._target(path)
        store.delete(uri)

    def _rm(self, path: str) -> None:
        self.rm_file(path)

    @translated
    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        """Delete a file, or with `recursive` a file or directory and everything under it (one listing and
        batched deletes on object stores). Globs and `maxdepth` expand first; a list of paths is deleted
        with bounded concurrency. A missing path raises FileNotFoundError, a directory without
        `recursive` IsADirectoryError."""
        paths = [self._strip_protocol(p) for p in (path if isinstance(path, list) else [path])]
        if maxdepth is not None or any(has_magic(p) for p in paths):
            self._rm_expanded(self.expand_path(path, recursive=recursive, maxdepth=maxdepth))
            return
        if isinstance(path, list) and not recursive:
            bounded_map(self.rm_file, paths, self.max_in_flight)
            return
        for p in paths:
            if recursive:
                self._rm_tree(p)
            else:
                self._rm_one(p)

    def _rm_one(self, path: str) -> None:
        store, uri = self._target(path)
        try:
            store.stat(uri)
        except ObjectNotFoundError as e:
            raise self._missing(path, e) from None
        store.delete(uri)

    def _rm_tree(self, path: str) -> None:
        _written, canon, rest = split_scheme(path)
        if not rest or (canon in PATH_SCHEMES and not rest.strip("/")):
            raise InvalidUriError(f"refusing to delete everything under {path!r}", path)
        store, uri = self._target(path)
        if self._local(store):
            local = parse_uri(uri).path
            if not os.path.lexists(local):
                raise FileNotFoundError(errno.ENOENT, "no such file or directory", path)
            store.delete(uri, recursive=True)
            return
        bucket = self._is_bucket_root(path)
        if bucket and not self._bucket_exists(store, path):
            raise FileNotFoundError(errno.ENOENT, "no such bucket", path)
        # `_delete_recursive` is what `delete(uri, recursive=True)` runs; called directly for its count
        n = store._delete_recursive(parse_uri(to_uri(path, directory=True)))
        if bucket:
            store.delete_bucket(uri)
            return
        if n:
            store.delete(uri)  # an object named like the directory goes too (missing is fine)
            return
        try:
            store.stat(uri)
        except ObjectNotFoundError:
            raise FileNotFoundError(errno.ENOENT, "no such file or directory", path) from None
        store.delete(uri)

    def _rm_expanded(self, paths: list[str]) -> None:
        """Delete the files of an expansion (bounded concurrency), then its local directories deepest first."""
        files: list[str] = []
        dirs: list[str] = []
        for p in paths:
            store, uri = self._target(p)
            if self._local(store) and self._local_dir(store, uri) is not None:
                dirs.append(p)
            else:
                files.append(p)
        bounded_map(self.rm_file, files, self.max_in_flight)
        for d in sorted(dirs, key=len, reverse=True):
            store, uri = self._target(d)
            try:
                store.delete_bucket(uri)  # os.rmdir
            except FileNotFoundError:
                pass

    # ------------------------------------------------------------------ transfers
    @translated
    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Copy one object, streamed through a bounded buffer (also from one store to another); a local
        directory is created at the destination."""
        if self._record("cp_file", (path1, path2), kwargs):
            return
        path1 = self._strip_protocol(path1)
        path2 = self._strip_protocol(path2)
        src, src_uri = self._target(path1)
        dst, dst_uri = self._target(path2)
        try:
            reader = src.open_reader(src_uri)
        except ObjectNotFoundError as e:
            if self._isdir(path1):
                if self._local(dst):
                    self.makedirs(path2, exist_ok=True)
                return
            raise self._missing(path1, e) from None
        with reader:
            dst.put(dst_uri, reader)

    @translated
    def get_file(self, rpath: str, lpath: Any, callback: Any = DEFAULT_CALLBACK, outfile: Any = None,
                 **kwargs: Any) -> None:
        """Download one object to a local path (written under a temporary name, renamed when complete) or
        into an open file object; a remote directory becomes a local one."""
        if self._record("get_file", (rpath, lpath), {"outfile": outfile, **kwargs}):
            return
        rpath = self._strip_protocol(rpath)
        store, uri = self._target(rpath)
        if outfile is None and isfilelike(lpath):
            outfile = lpath
        try:
            if outfile is not None:
                n = self._copy_into(store, uri, outfile, callback)
            else:
                n = store.download_to(uri, os.fspath(lpath))
                callback.set_size(n)
                callback.relative_update(n)
        except ObjectNotFoundError as e:
            if outfile is None and self._isdir(rpath):
                os.makedirs(lpath, exist_ok=True)
                return
            raise self._missing(rpath, e) from None

    def _copy_into(self, store: ObjectStore, uri: str, outfile: Any, callback: Any) -> int:
        with store.open_reader(uri, buffer_size=1) as f:
            callback.set_size(f.raw.size)
            buf = bytearray(min(_COPY_BUFFER, max(1, f.raw.size)))
            mv = memoryview(buf)
            done = 0
            while True:
                n = f.readinto(mv)
                if not n:
                    return done
                outfile.write(mv[:n])
                done += n
                callback.relative_update(n)

    @translated
    def put_file(self, lpath: Any, rpath: str, callback: Any = DEFAULT_CALLBACK, mode: str = "overwrite",
                 **kwargs: Any) -> None:
        """Upload one local file (streamed: a kernel copy into file://, multipart for large files on S3);
        a local directory becomes a directory (a no-op on object stores)."""
        if self._record("put_file", (lpath, rpath), {"mode": mode, **kwargs}):
            return
        rpath = self._strip_protocol(rpath)
        store, uri = self._target(rpath)
        if mode == "create" and store.exists(uri):
            raise FileExistsError(errno.EEXIST, "object exists", rpath)
        lpath = os.fspath(lpath)
        if os.path.isdir(lpath):
            self.makedirs(rpath, exist_ok=True)
            return
        with open(lpath, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            callback.set_size(size)
            store.put(uri, f)
            callback.relative_update(size)

    def get(self, rpath: Any, lpath: Any, recursive: bool = False, callback: Any = DEFAULT_CALLBACK,
            maxdepth: int | None = None, **kwargs: Any) -> None:
        """fsspec's `get` (same path rules), with the downloads run `max_in_flight` at a time."""
        plan = self._planned(super().get, rpath, lpath, recursive=recursive, maxdepth=maxdepth, **kwargs)
        self._run_plan(plan, self.get_file, callback, ignore_missing=False)

    def put(self, lpath: Any, rpath: Any, recursive: bool = False, callback: Any = DEFAULT_CALLBACK,
            maxdepth: int | None = None, **kwargs: Any) -> None:
        """fsspec's `put` (same path rules), with the uploads run `max_in_flight` at a time."""
        plan = self._planned(super().put, lpath, rpath, recursive=recursive, maxdepth=maxdepth, **kwargs)
        self._run_plan(plan, self.put_file, callback, ignore_missing=False)

    def copy(self, path1: Any, path2: Any, recursive: bool = False, maxdepth: int | None = None,
             on_error: str | None = None, **kwargs: Any) -> None:
        """fsspec's `copy` (same path rules and `on_error`), with the copies run `max_in_flight` at a time."""
        if on_error is None:
            on_error = "ignore" if recursive else "raise"
        plan = self._planned(super().copy, path1, path2, recursive=recursive, maxdepth=maxdepth,
                             on_error=on_error, **kwargs)
        self._run_plan(plan, self.cp_file, DEFAULT_CALLBACK, ignore_missing=on_error == "ignore")

    def _planned(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[tuple[tuple, dict]]:
        """Run fsspec's multi-file method `fn` with its per-file calls recorded instead of made, so its
        path expansion and destination rules stay fsspec's own; returns the recorded calls."""
        outer = getattr(self._plan, "calls", None)
        plan: list[tuple[tuple, dict]] = []
        self._plan.calls = plan
        try:
            fn(*args, **kwargs)
        finally:
            self._plan.calls = outer
        return plan

    def _record(self, name: str, args: tuple, kwargs: dict[str, Any]) -> bool:
        calls = getattr(self._plan, "calls", None)
        if calls is None:
            return False
        kwargs = {k: v for k, v in kwargs.items() if k != "callback" and v is not None}
        calls.append((args, kwargs))
        return True

    def _run_plan(self, plan: list[tuple[tuple, dict]], fn: Callable[..., Any], callback: Any,
                  ignore_missing: bool) -> None:
        if not plan:
            return
        callback.set_size(len(plan))
        lock = threading.Lock()

        def run(call: tuple[tuple, dict]) -> None:
            args, kwargs = call
            try:
                fn(*args, **kwargs)
            except FileNotFoundError:
                if not ignore_missing:
                    raise
            with lock:
                callback.relative_update(1)

        bounded_map(run, plan, self.max_in_flight)

