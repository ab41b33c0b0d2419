"""The store protocol: one abstract ObjectStore for every backend (the contract: PROTOCOL.md).

A backend implements the primitives (`_get`, `_get_range`, `_put`, `_list_pages` or `_list_entries`,
`_stat`, ...) on parsed URIs. The public methods here parse, pass the one instrumentation point and give
every store the same ranges (`get_suffix`, `get_ranges`, `get_range_into`), file-object reader
(`open_reader`), listing with metadata (`list_info`), bulk operations (`get_many`, `put_many`,
`stat_many`) and `*_async` twins, written once. A store overrides a method only where its backend can do
better.
"""

from __future__ import annotations

import builtins
import io
import os
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Hashable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from . import instrument as _ins
from .bytes_view import BytesView, as_buffer
from .concurrency import bounded_map, submit_async, validate_max_in_flight
from .errors import LengthMismatchError, UnsupportedOperationError, length_mismatch
from .listing import ObjectInfo, compile_pattern, filter_pattern, filter_pattern_info
from .paths import make_dirs
from .ranges import MAX_LENGTH, ByteRange, Range, as_range, coalesce, resolve
from .settings import Settings, settings
from .uri import ObjectUri, parse_uri

if TYPE_CHECKING:
    from .store_config import StoreConfig

__all__ = ["ObjectStore", "ObjectWriter", "Capabilities", "COPY_CHUNK", "READER_BUFFER", "RANGE_COALESCE"]

COPY_CHUNK = 8 << 20  # bytes per read when a stream is copied into a store
DOWNLOAD_CHUNK = 16 << 20  # bytes per ranged read when an object is copied to a local file
READER_BUFFER = 1 << 20  # open_reader's read-ahead: one range request per MiB of small reads
RANGE_COALESCE = 1 << 20  # get_ranges: ranges closer than this share one request
_ACTIVE = _ins.ACTIVE
_traced = _ins.traced
_traced_read = _ins.traced_read
_get_ident = _ins.get_ident
_time_ns = _ins.time_ns


class Capabilities:
    """What a store can do, as flags (callers check these instead of probing with try/except)."""

    __slots__ = ()
    ranges: ClassVar[bool] = True
    get_into: ClassVar[bool] = True
    head: ClassVar[bool] = True
    buckets: ClassVar[bool] = False
    multipart: ClassVar[bool] = False
    mmap: ClassVar[bool] = False  # map_object: objects are local files that can be memory-mapped
    directories: ClassVar[bool] = False  # real directories (file://, direct://)


class ObjectWriter(ABC):
    """A streaming writer for one object of unknown size.

    Nothing is visible under the object's name until `close()` commits it; `abort()` (or an exception
    inside a `with` block, or the writer being dropped uncommitted) leaves no object behind.
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.bytes_written = 0
        self.closed = False

    def write(self, data: Any) -> int:
        """Append bytes-like `data`; returns the number of bytes accepted."""
        if self.closed:
            raise ValueError(f"write to a closed writer for {self.uri}")
        mv = as_buffer(data)
        n = mv.nbytes
        if n:
            self._write(mv)
            self.bytes_written += n
        return n

    def write_borrowed(self, data: Any) -> int:
        """Append bytes-like `data` that the caller keeps alive and unchanged until `close()` or `abort()`
        returns (e.g. a tensor's storage during a checkpoint save): stores that upload in parts send whole
        parts straight from it instead of copying them into part buffers, so memory stays flat however
        many parts are in flight. Elsewhere the same as `write`. Returns the number of bytes accepted."""
        if self.closed:
            raise ValueError(f"write to a closed writer for {self.uri}")
        mv = as_buffer(data)
        n = mv.nbytes
        if n:
            self._write_borrowed(mv)
            self.bytes_written += n
        return n

    def _write_borrowed(self, mv: memoryview) -> None:
        """`write_borrowed`'s primitive; stores that can upload from the caller's buffer override it."""
        self._write(mv)

    def close(self) -> int:
        """Commit the object; returns its size. Calling it again is a no-op."""
        if not self.closed:
            self.closed = True
            try:
                if _ACTIVE:
                    _traced("PUT", self.uri, self._commit, nbytes=self.bytes_written)
                else:
                    self._commit()
            except BaseException:
                self._abort_quietly()
                raise
        return self.bytes_written

    def abort(self) -> None:
        """Discard everything written; no object appears."""
        if not self.closed:
            self.closed = True
            self._abort()

    # ---- the parts of the file-object interface that a write-only stream has (torch.save, zipfile) ----
    @property
    def name(self) -> str:
        return self.uri

    def tell(self) -> int:
        """Bytes written so far (the position of the next write)."""
        return self.bytes_written

    def flush(self) -> None:
        """Nothing is visible before `close()`, so there is nothing to make durable early: a no-op that
        file-object users (torch.save, io wrappers) may call. A closed writer raises ValueError."""
        if self.closed:
            raise ValueError(f"flush of a closed writer for {self.uri}")

    def writable(self) -> bool:
        return not self.closed

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def _abort_quietly(self) -> None:
        try:
            self._abort()
        except Exception:
            pass

    def __enter__(self) -> ObjectWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        if not getattr(self, "closed", True):
            self.closed = True
            self._abort_quietly()

    @abstractmethod
    def _write(self, mv: memoryview) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _abort(self) -> None: ...


class ObjectStore(ABC):
    """Base of every store. Public methods take URI strings; primitives take parsed `ObjectUri`s."""

    scheme: ClassVar[str] = ""
    capabilities: ClassVar[type[Capabilities]] = Capabilities
    #: this store's configuration (None: the process settings only); see `settings`
    config: StoreConfig | None = None
    _settings_cache: tuple[Settings, Settings] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # a store lists through _list_pages (URIs) or _list_entries (with metadata); the base derives the
        # other one from whichever the backend wrote, so a concrete store must write at least one
        if cls._list_pages is ObjectStore._list_pages and cls._list_entries is ObjectStore._list_entries \
                and not any(getattr(getattr(cls, n, None), "__isabstractmethod__", False) for n in dir(cls)):
            raise TypeError(f"{cls.__name__} must implement _list_pages or _list_entries")

    # ---- construction: one instance per store_key, made by the registry ----
    @classmethod
    def store_key(cls, u: ObjectUri) -> Hashable:
        """Which URIs share one store instance (e.g. one per S3 endpoint)."""
        return (cls.scheme, u.endpoint)

    @classmethod
    def from_uri(cls, u: ObjectUri) -> ObjectStore:
        return cls()

    @classmethod
    def from_config(cls, u: ObjectUri, config: StoreConfig | None) -> ObjectStore:
        """A new store for `u` that uses `config` (backends with endpoints or credentials in their config
        override this to build their client from it)."""
        store = cls.from_uri(u)
        store.config = config
        return store

    @property
    def settings(self) -> Settings:
        """The effective tunables: the process settings with this store's `config` laid over them."""
        base = settings()
        cfg = self.config
        if cfg is None:
            return base
        cached = self._settings_cache
        if cached is not None and cached[0] is base:
            return cached[1]
        eff = cfg.apply(base)
        self._settings_cache = (base, eff)
        return eff

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # ---- primitives a backend implements ----
    @abstractmethod
    def _get(self, u: ObjectUri) -> BytesView: ...

    @abstractmethod
    def _get_range(self, u: ObjectUri, offset: int, length: int | None) -> BytesView: ...

    @abstractmethod
    def _put(self, u: ObjectUri, data: memoryview) -> None: ...

    @abstractmethod
    def _open_writer(self, u: ObjectUri) -> ObjectWriter: ...

    def _list_pages(self, u: ObjectUri, recursive: bool) -> Iterator[list[str]]:
        """Yield pages of full URIs selected by `u` (the store's selection rules); directory entries of
        non-recursive listings end in '/'. Derived from `_list_entries` unless a backend writes it."""
        for page in self._list_entries(u, recursive):
            yield [e.uri for e in page]

    def _list_entries(self, u: ObjectUri, recursive: bool) -> Iterator[list[ObjectInfo]]:
        """Yield pages of `ObjectInfo` for the same selection as `_list_pages`, with the metadata the
        listing carries. Derived from `_list_pages` (no metadata) unless a backend writes it."""
        for page in self._list_pages(u, recursive):
            yield [ObjectInfo(x, is_dir=x.endswith("/")) for x in page]

    @abstractmethod
    def _stat(self, u: ObjectUri) -> dict[str, Any]: ...

    @abstractmethod
    def _delete(self, u: ObjectUri) -> None:
        """Delete exactly this object; a missing object is not an error."""

    @abstractmethod
    def _delete_recursive(self, u: ObjectUri) -> int:
        """Delete every object `u` selects recursively; returns how many."""

    def _get_into(self, u: ObjectUri, dst: memoryview) -> int:
        """Read the whole object into `dst`; stores with a readinto path override this."""
        data = self._get(u)
        n = len(data)
        if n > dst.nbytes:
            raise LengthMismatchError(
                f"object {u.uri} is {n} bytes but the destination holds {dst.nbytes}",
                u.uri, expected=dst.nbytes, actual=n)
        dst[:n] = data
        return n

    def _get_range_into(self, u: ObjectUri, offset: int, dst: memoryview) -> int:
        """Read up to `dst.nbytes` bytes from `offset` into `dst`; returns the count (short at the end of
        the object). Stores that can receive straight into `dst` override this."""
        data = self._get_range(u, offset, dst.nbytes)
        n = len(data)
        dst[:n] = data
        return n

    def _map_object(self, u: ObjectUri) -> Any:
        raise UnsupportedOperationError(f"{self.scheme}:// objects cannot be memory-mapped ({u.uri})", u.uri)

    def _get_suffix(self, u: ObjectUri, length: int) -> BytesView:
        """The last `length` bytes. Base: one stat, then a range; HTTP stores send `bytes=-N` instead."""
        size = self._stat(u)["size"]
        start = max(0, size - length)
        return self._get_range(u, start, size - start)

    def _get_ranges(self, u: ObjectUri, spans: list[tuple[int, int]], max_in_flight: int) -> list[BytesView]:
        """Fetch concrete [start, end) spans of one object, concurrently; results in input order."""
        uri = u.uri

        def one(span: tuple[int, int]) -> BytesView:
            start, end = span
            if _ACTIVE:
                return _traced_read("GET_RANGE", uri, self._get_range, u, start, end - start)
            return self._get_range(u, start, end - start)

        return bounded_map(one, spans, max_in_flight)

    def _put_stream(self, u: ObjectUri, stream: Any) -> int:
        """Copy a readable stream into the object through a writer (bounded memory)."""
        w = self._open_writer(u)
        try:
            buf = bytearray(COPY_CHUNK)
            mv = memoryview(buf)
            readinto = getattr(stream, "readinto", None)
            while True:
                if readinto is not None:
                    n = readinto(mv)
                    if not n:
                        break
                    w.write(mv[:n])
                else:
                    chunk = stream.read(COPY_CHUNK)
                    if not chunk:
                        break
                    w.write(chunk)
        except BaseException:
            w.abort()
            raise
        return w.close()

    def _download_to_file(self, u: ObjectUri, fd: int) -> int:
        """Copy the object into the open file `fd` in bounded chunks; returns bytes written.

        Stores with a faster path (kernel copy, streaming body) override this.
        """
        size = self._stat(u)["size"]
        if size <= DOWNLOAD_CHUNK:
            return _pwrite_all(fd, self._get(u), 0)
        done = 0
        while done < size:
            chunk = self._get_range(u, done, min(DOWNLOAD_CHUNK, size - done))
            if not chunk:
                break
            done += _pwrite_all(fd, chunk, done)
        return done

    def _list_buckets(self, u: ObjectUri) -> list[dict[str, Any]]:
        raise UnsupportedOperationError(f"listing buckets is not supported for {self.scheme}:// ({u.uri})",
                                        u.uri)

    def _mkdir(self, u: ObjectUri) -> None:
        """Object stores have no directories: a validated no-op."""

    def _create_bucket(self, u: ObjectUri) -> None:
        raise UnsupportedOperationError(f"{self.scheme}:// has no buckets to create ({u.uri})", u.uri)

    def _delete_bucket(self, u: ObjectUri) -> None:
        raise UnsupportedOperationError(f"{self.scheme}:// has no buckets to delete ({u.uri})", u.uri)

    # ---- public, instrumented operations ----
    def get(self, uri: str) -> BytesView:
        """The whole object."""
        u = parse_uri(uri)
        if not _ACTIVE:
            return self._get(u)
        ident = _get_ident()  # traced inline: the cheapest GET is where a hook costs the most
        start = _time_ns()
        try:
            data = self._get(u)
        except BaseException as e:
            _ins.read_failed("GET", uri, start, ident, e)
            raise
        _ins.read_done("GET", uri, data, start, ident)
        return data

    def get_range(self, uri: str, offset: int = 0, length: int | None = None) -> BytesView:
        """`length` bytes from `offset` (to the end when None); a range past the end is truncated, and a
        length too large for any object (e.g. 2**64 - 1) means "to the end"."""
        offset, length = _check_range(uri, offset, length)
        u = parse_uri(uri)
        if _ACTIVE:
            return _traced_read("GET_RANGE", uri, self._get_range, u, offset, length)
        return self._get_range(u, offset, length)

    def get_suffix(self, uri: str, length: int) -> BytesView:
        """The last `length` bytes of the object (all of it when it is shorter), in one request where the
        store can: a ZIP central directory or a Parquet footer without knowing the size first."""
        _check_range(uri, 0, length)
        u = parse_uri(uri)
        if length == 0:
            self._stat(u) if not _ACTIVE else _traced("HEAD", uri, self._stat, u, size_of=_stat_size)
            return BytesView()
        if _ACTIVE:
            return _traced_read("GET_RANGE", uri, self._get_suffix, u, length)
        return self._get_suffix(u, length)

    def map_object(self, uri: str) -> Any:
        """The whole object as a private, writable memory mapping (copy-on-write: the pages come
        straight from the page cache, populated before this returns, so no copy is made and nothing is
        read lazily later), where `capabilities.mmap` says the store has local files (file://);
        UnsupportedOperationError elsewhere. Writes to the mapping never reach the object. An empty
        object gives an empty BytesView."""
        u = parse_uri(uri)
        if not self.capabilities.mmap:
            return ObjectStore._map_object(self, u)
        if _ACTIVE:
            return _traced_read("GET", uri, self._map_object, u)
        return self._map_object(u)

    def get_range_into(self, uri: str, offset: int, dst: Any) -> int:
        """Read `len(dst)` bytes from `offset` straight into the caller's writable buffer; returns how
        many arrived (fewer at the end of the object, 0 past it)."""
        mv = _writable(dst, uri)
        offset, _ = _check_range(uri, offset, None)
        u = parse_uri(uri)
        if not mv.nbytes:
            return 0
        if _ACTIVE:
            return _traced("GET_RANGE", uri, self._get_range_into, u, offset, mv, size_of=int)
        return self._get_range_into(u, offset, mv)

    def get_ranges(self, uri: str, ranges: Sequence[Range | tuple[int, int | None]], *,
                   coalesce_gap: int = RANGE_COALESCE, max_in_flight: int = 16,
                   size: int | None = None) -> list[memoryview]:
        """Many ranges of one object, results in input order.

        Each range is a `ByteRange`, `OffsetRange`, `SuffixRange` or an `(offset, length)` tuple. Ranges
        that overlap or lie closer than `coalesce_gap` bytes are fetched with one request; at most
        `max_in_flight` requests run at once. Each result is a read-only memoryview over the buffer its
        request filled (no copy; `mv.obj` is that BytesView), truncated at the end of the object. Offset
        and suffix ranges need the object's size: pass `size` if known (e.g. from `list_info`), else one
        stat is made.
        """
        rs = [as_range(r) for r in ranges]
        if not rs:
            return []
        u = parse_uri(uri)
        if size is None and not all(type(r) is ByteRange for r in rs):
            size = self.stat(uri)["size"]
        # with only ByteRanges and no size, the store truncates each range at the end of the object
        bounds = ([(r.start, r.end) for r in rs] if size is None  # type: ignore[union-attr]
                  else [resolve(r, size) for r in rs])
        spans = coalesce(bounds, max(0, coalesce_gap))
        fetched = self._get_ranges(u, [(sp.start, sp.end) for sp in spans], max_in_flight)
        out: list[memoryview | None] = [None] * len(rs)
        for sp, buf in zip(spans, fetched, strict=True):
            mv = memoryview(buf).toreadonly()
            have = len(buf)
            for i in sp.members:
                s, e = bounds[i]
                a = min(s - sp.start, have)
                b = min(e - sp.start, have)
                out[i] = mv[a:b]
        return out  # type: ignore[return-value]

    def open_reader(self, uri: str, *, size: int | None = None, buffer_size: int = READER_BUFFER
                    ) -> io.BufferedReader:
        """A seekable, buffered, read-only file object over range reads of `uri` (for zipfile, h5py,
        pyarrow, torch.load). Large reads land straight in the caller's buffer; small ones are served from
        a `buffer_size` read-ahead. `size` (from a listing) saves the one stat made to learn it. The whole
        object is never read unless asked for (`read()` with no size reads the rest in one request)."""
        from .reader import RangeReader

        raw = RangeReader(self, uri, size)
        return io.BufferedReader(raw, buffer_size=max(1, buffer_size))

    def get_into(self, uri: str, dst: Any, *, expected_len: int | None = None) -> int:
        """Fill the caller's writable buffer with the object; returns its size.

        The object must be exactly `expected_len` bytes (default: len(dst)) or LengthMismatchError.
        """
        mv = _writable(dst, uri)
        want = mv.nbytes if expected_len is None else int(expected_len)
        if want > mv.nbytes:
            raise LengthMismatchError(
                f"expected_len {want} exceeds the destination's {mv.nbytes} bytes for {uri}", uri,
                expected=want, actual=None)
        u = parse_uri(uri)
        target = mv[:want]
        if _ACTIVE:
            n = _traced("GET", uri, self._get_into, u, target, size_of=None, nbytes=want)
        else:
            n = self._get_into(u, target)
        if n != want:
            raise length_mismatch(uri, want, n)
        return n

    def put(self, uri: str, data: Any) -> None:
        """Write one object from bytes-like `data` or a readable binary stream (streamed, not loaded)."""
        u = parse_uri(uri)
        if _is_stream(data):
            self._put_stream(u, data)  # the writer's commit records the PUT
            return
        mv = as_buffer(data)
        if _ACTIVE:
            _traced("PUT", uri, self._put, u, mv, nbytes=mv.nbytes)
        else:
            self._put(u, mv)

    def open_writer(self, uri: str) -> ObjectWriter:
        """A streaming writer; the object appears only when the writer is closed."""
        return self._open_writer(parse_uri(uri))

    def list_iter(self, uri: str, recursive: bool = False, pattern: str | None = None) -> Iterator[str]:
        """Stream the selected URIs page by page (see `list`)."""
        u = parse_uri(uri)
        rx = compile_pattern(pattern)
        for page in self._list_pages_traced(u, recursive):
            yield from filter_pattern(page, uri, rx)

    def _list_pages_traced(self, u: ObjectUri, recursive: bool) -> Iterator[list[str]]:
        pages = self._list_pages(u, recursive)
        return _ins.traced_pages("LIST", u.uri, pages) if _ACTIVE else pages

    def list(self, uri: str, recursive: bool = False, pattern: str | None = None) -> builtins.list[str]:
        """Full URIs selected by `uri`; directory entries end in '/' in non-recursive listings."""
        return list(self.list_iter(uri, recursive, pattern))

    def list_info_iter(self, uri: str, recursive: bool = False, pattern: str | None = None
                       ) -> Iterator[ObjectInfo]:
        """Stream `ObjectInfo`s of the selection page by page (see `list_info`)."""
        u = parse_uri(uri)
        rx = compile_pattern(pattern)
        pages = self._list_entries(u, recursive)
        if _ACTIVE:
            pages = _ins.traced_pages("LIST", uri, pages)
        for page in pages:
            yield from filter_pattern_info(page, uri, rx)

    def list_info(self, uri: str, recursive: bool = False, pattern: str | None = None) -> builtins.list[ObjectInfo]:
        """The selection of `list`, with each object's size, last-modified time and etag taken from the
        listing itself (no HEAD per object); directory entries have `is_dir` set and no size."""
        return list(self.list_info_iter(uri, recursive, pattern))

    def stat(self, uri: str) -> dict[str, Any]:
        """The 16-key metadata dict of one object."""
        u = parse_uri(uri)
        if _ACTIVE:
            return _traced("HEAD", uri, self._stat, u, size_of=_stat_size)
        return self._stat(u)

    def exists(self, uri: str) -> bool:
        """True iff `stat` succeeds; every failure is False."""
        try:
            self.stat(uri)
            return True
        except Exception:
            return False

    def delete(self, uri: str, recursive: bool = False) -> None:
        """Delete exactly `uri` (missing is fine), or with `recursive` everything it selects."""
        u = parse_uri(uri)
        if recursive:
            self._delete_recursive(u)
            return
        if _ACTIVE:
            _traced("DELETE", uri, self._delete, u, size_of=None, nbytes=0)
        else:
            self._delete(u)

    def mkdir(self, uri: str) -> None:
        """Create a directory (file://, direct://); on object stores, a validated no-op."""
        self._mkdir(parse_uri(uri))

    def download_to(self, uri: str, path: str) -> int:
        """Copy the object to the local file `path` with bounded memory; the file appears (renamed
        from a temporary name) only when complete. Returns the bytes written."""
        u = parse_uri(uri)
        parent = os.path.dirname(path)
        if parent:
            make_dirs(parent)
        tmp = os.path.join(parent, f".s3dlio-tmp-{os.getpid()}-{os.urandom(6).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            if _ACTIVE:
                n = _traced("GET", uri, self._download_to_file, u, fd, size_of=int)
            else:
                n = self._download_to_file(u, fd)
            os.close(fd)
            fd = -1
            os.replace(tmp, path)
            return n
        except BaseException:
            if fd >= 0:
                os.close(fd)
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def list_buckets(self, uri: str) -> builtins.list[dict[str, Any]]:
        """Buckets (containers, sub-directories) as dicts with keys name, uri, creation_date."""
        return self._list_buckets(parse_uri(uri))

    def create_bucket(self, uri: str) -> None:
        self._create_bucket(parse_uri(uri))

    def delete_bucket(self, uri: str) -> None:
        self._delete_bucket(parse_uri(uri))

    # ---- bulk operations (bounded, input order, first failure wins) ----
    def get_many(self, uris: Sequence[str], max_in_flight: int = 64) -> builtins.list[tuple[str, BytesView]]:
        """Fetch every URI with at most `max_in_flight` in flight; `(uri, data)` in input order."""
        get = self.get
        return bounded_map(lambda x: (x, get(x)), uris, max_in_flight)

    def get_many_into(self, items: Sequence[tuple[str, Any]], max_in_flight: int = 64) -> builtins.list[int]:
        """Fill each `(uri, dst)` writable buffer with its object, at most `max_in_flight` in flight; the
        sizes in input order. Every object must be exactly `len(dst)` bytes (LengthMismatchError naming
        it otherwise); the first failure wins. What a loader uses to land a batch in memory it allocated
        (one shared-memory block per DataLoader batch), with no buffer of the store's in between."""
        pairs = [(uri, _writable(dst, uri)) for uri, dst in items]
        if not pairs:
            return []
        validate_max_in_flight(max_in_flight)
        return self._get_many_into(pairs, max_in_flight)

    def _get_many_into(self, pairs: Sequence[tuple[str, memoryview]], max_in_flight: int) -> builtins.list[int]:
        """The validated bulk read (a backend with a bulk path of its own overrides this)."""
        get_into = self.get_into
        return bounded_map(lambda p: get_into(p[0], p[1]), pairs, max_in_flight)

    def put_many(self, items: Iterable[tuple[str, Any]], max_in_flight: int = 64) -> None:
        """Write every `(uri, data)` with at most `max_in_flight` in flight."""
        put = self.put
        bounded_map(lambda it: put(it[0], it[1]), list(items), max_in_flight)

    def stat_many(self, uris: Sequence[str], max_in_flight: int = 64) -> builtins.list[dict[str, Any]]:
        """Stat every URI, results in input order."""
        return bounded_map(self.stat, uris, max_in_flight)

    def delete_many(self, uris: Sequence[str], max_in_flight: int = 64) -> None:
        bounded_map(self.delete, uris, max_in_flight)

    # ---- async twins: awaitables that run the sync call on the shared async pool ----
    def get_async(self, uri: str) -> Awaitable[BytesView]:
        return submit_async(self.get, uri)

    def get_range_async(self, uri: str, offset: int = 0, length: int | None = None
                        ) -> Awaitable[BytesView]:
        return submit_async(self.get_range, uri, offset, length)

    def get_suffix_async(self, uri: str, length: int) -> Awaitable[BytesView]:
        return submit_async(self.get_suffix, uri, length)

    def get_ranges_async(self, uri: str, ranges: Sequence[Range | tuple[int, int | None]], **kw: Any
                         ) -> Awaitable[builtins.list[memoryview]]:
        return submit_async(self.get_ranges, uri, ranges, **kw)

    def list_info_async(self, uri: str, recursive: bool = False, pattern: str | None = None
                        ) -> Awaitable[builtins.list[ObjectInfo]]:
        return submit_async(self.list_info, uri, recursive, pattern)

    def get_into_async(self, uri: str, dst: Any, *, expected_len: int | None = None) -> Awaitable[int]:
        return submit_async(self.get_into, uri, dst, expected_len=expected_len)

    def put_async(self, uri: str, data: Any) -> Awaitable[None]:
        return submit_async(self.put, uri, data)

    def list_async(self, uri: str, recursive: bool = False, pattern: str | None = None
                   ) -> Awaitable[builtins.list[str]]:
        return submit_async(self.list, uri, recursive, pattern)

    def stat_async(self, uri: str) -> Awaitable[dict[str, Any]]:
        return submit_async(self.stat, uri)

    def exists_async(self, uri: str) -> Awaitable[bool]:
        return submit_async(self.exists, uri)

    def delete_async(self, uri: str, recursive: bool = False) -> Awaitable[None]:
        return submit_async(self.delete, uri, recursive)

    def mkdir_async(self, uri: str) -> Awaitable[None]:
        return submit_async(self.mkdir, uri)

    def get_many_async(self, uris: Sequence[str], max_in_flight: int = 64
                       ) -> Awaitable[builtins.list[tuple[str, BytesView]]]:
        return submit_async(self.get_many, uris, max_in_flight)

    def put_many_async(self, items: Iterable[tuple[str, Any]], max_in_flight: int = 64
                       ) -> Awaitable[None]:
        return submit_async(self.put_many, list(items), max_in_flight)

    def stat_many_async(self, uris: Sequence[str], max_in_flight: int = 64
                        ) -> Awaitable[builtins.list[dict[str, Any]]]:
        return submit_async(self.stat_many, uris, max_in_flight)


def _stat_size(meta: dict[str, Any]) -> int:
    return meta.get("size") or 0


def _pwrite_all(fd: int, data: Any, offset: int) -> int:
    mv = memoryview(data)
    w = 0
    while w < mv.nbytes:
        w += os.pwrite(fd, mv[w:], offset + w)
    return w


def _is_stream(data: Any) -> bool:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return False
    return isinstance(data, io.IOBase) or (
        callable(getattr(data, "read", None)) and not hasattr(data, "__buffer__")
        and not _has_buffer(data))


def _has_buffer(data: Any) -> bool:
    try:
        memoryview(data).release()
        return True
    except TypeError:
        return False


def _writable(dst: Any, uri: str) -> memoryview:
    try:
        mv = memoryview(dst)
    except TypeError:
        raise TypeError(f"destination for {uri} must be a writable buffer, got {type(dst).__name__}") from None
    if mv.readonly:
        raise ValueError(f"Buffer must be writable (destination for {uri})")
    if not mv.c_contiguous:
        raise ValueError(f"destination buffer for {uri} must be C-contiguous")
    return mv.cast("B") if (mv.ndim != 1 or mv.itemsize != 1) else mv


def _check_range(uri: str, offset: Any, length: Any) -> tuple[int, int | None]:
    """Validated (offset, length); a length no object can have (> MAX_LENGTH) becomes None (to the end)."""
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise TypeError(f"offset must be an int, got {type(offset).__name__} (for {uri})")
    if offset < 0:
        raise OverflowError(f"can't convert negative int to unsigned: offset {offset} (for {uri})")
    if length is not None:
        if isinstance(length, bool) or not isinstance(length, int):
            raise TypeError(f"length must be an int or None, got {type(length).__name__} (for {uri})")
        if length < 0:
            raise OverflowError(f"can't convert negative int to unsigned: length {length} (for {uri})")
        if length > MAX_LENGTH:
            length = None
    return offset, length

