"""The store protocol: one abstract ObjectStore for every backend.

A backend implements the primitives (`_get`, `_get_range`, `_put`, `_list_pages`, `_stat`, ...) on parsed
URIs. The public methods here parse, pass the one instrumentation point and give every store the same
bulk operations (`get_many`, `put_many`, `stat_many`) and `*_async` twins, written once. A store overrides
a public bulk method only where its backend can do better.
"""

from __future__ import annotations

import io
import os
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from . import instrument as _ins
from .bytes_view import BytesView, as_buffer
from .concurrency import bounded_map, submit_async
from .errors import LengthMismatchError, UnsupportedOperationError
from .listing import compile_pattern, filter_pattern
from .uri import ObjectUri, parse_uri

if TYPE_CHECKING:
    import asyncio

__all__ = ["ObjectStore", "ObjectWriter", "Capabilities", "COPY_CHUNK"]

COPY_CHUNK = 8 << 20  # bytes per read when a stream is copied into a store
DOWNLOAD_CHUNK = 16 << 20  # bytes per ranged read when an object is copied to a local file
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

    # ---- construction: one instance per store_key, made by the registry ----
    @classmethod
    def store_key(cls, u: ObjectUri) -> Hashable:
        """Which URIs share one store instance (e.g. one per S3 endpoint)."""
        return (cls.scheme, u.endpoint)

    @classmethod
    def from_uri(cls, u: ObjectUri) -> ObjectStore:
        return cls()

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

    @abstractmethod
    def _list_pages(self, u: ObjectUri, recursive: bool) -> Iterator[list[str]]:
        """Yield pages of full URIs selected by `u` (the store's selection rules)."""

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
        """`length` bytes from `offset` (to the end when None); a range past the end is truncated."""
        offset, length = _check_range(uri, offset, length)
        u = parse_uri(uri)
        if _ACTIVE:
            return _traced_read("GET_RANGE", uri, self._get_range, u, offset, length)
        return self._get_range(u, offset, length)

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
            raise LengthMismatchError(
                f"length mismatch (expected {want} bytes, got {n}): object {uri} is {n} bytes "
                f"but the destination holds {want}", uri, expected=want, actual=n)
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

    def list(self, uri: str, recursive: bool = False, pattern: str | None = None) -> list[str]:
        """Full URIs selected by `uri`; directory entries end in '/' in non-recursive listings."""
        return list(self.list_iter(uri, recursive, pattern))

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
            os.makedirs(parent, exist_ok=True)
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

    def list_buckets(self, uri: str) -> list[dict[str, Any]]:
        """Buckets (containers, sub-directories) as dicts with keys name, uri, creation_date."""
        return self._list_buckets(parse_uri(uri))

    def create_bucket(self, uri: str) -> None:
        self._create_bucket(parse_uri(uri))

    def delete_bucket(self, uri: str) -> None:
        self._delete_bucket(parse_uri(uri))

    # ---- bulk operations (bounded, input order, first failure wins) ----
    def get_many(self, uris: Sequence[str], max_in_flight: int = 64) -> list[tuple[str, BytesView]]:
        """Fetch every URI with at most `max_in_flight` in flight; `(uri, data)` in input order."""
        get = self.get
        return bounded_map(lambda x: (x, get(x)), uris, max_in_flight)

    def put_many(self, items: Iterable[tuple[str, Any]], max_in_flight: int = 64) -> None:
        """Write every `(uri, data)` with at most `max_in_flight` in flight."""
        put = self.put
        bounded_map(lambda it: put(it[0], it[1]), list(items), max_in_flight)

    def stat_many(self, uris: Sequence[str], max_in_flight: int = 64) -> list[dict[str, Any]]:
        """Stat every URI, results in input order."""
        return bounded_map(self.stat, uris, max_in_flight)

    def delete_many(self, uris: Sequence[str], max_in_flight: int = 64) -> None:
        bounded_map(self.delete, uris, max_in_flight)

    # ---- async twins: awaitables that run the sync call on the shared async pool ----
    def get_async(self, uri: str) -> asyncio.Future[BytesView]:
        return submit_async(self.get, uri)

    def get_range_async(self, uri: str, offset: int = 0, length: int | None = None
                        ) -> asyncio.Future[BytesView]:
        return submit_async(self.get_range, uri, offset, length)

    def get_into_async(self, uri: str, dst: Any, *, expected_len: int | None = None) -> asyncio.Future[int]:
        return submit_async(self.get_into, uri, dst, expected_len=expected_len)

    def put_async(self, uri: str, data: Any) -> asyncio.Future[None]:
        return submit_async(self.put, uri, data)

    def list_async(self, uri: str, recursive: bool = False, pattern: str | None = None
                   ) -> asyncio.Future[list[str]]:
        return submit_async(self.list, uri, recursive, pattern)

    def stat_async(self, uri: str) -> asyncio.Future[dict[str, Any]]:
        return submit_async(self.stat, uri)

    def exists_async(self, uri: str) -> asyncio.Future[bool]:
        return submit_async(self.exists, uri)

    def delete_async(self, uri: str, recursive: bool = False) -> asyncio.Future[None]:
        return submit_async(self.delete, uri, recursive)

    def mkdir_async(self, uri: str) -> asyncio.Future[None]:
        return submit_async(self.mkdir, uri)

    def get_many_async(self, uris: Sequence[str], max_in_flight: int = 64
                       ) -> asyncio.Future[list[tuple[str, BytesView]]]:
        return submit_async(self.get_many, uris, max_in_flight)

    def put_many_async(self, items: Iterable[tuple[str, Any]], max_in_flight: int = 64
                       ) -> asyncio.Future[None]:
        return submit_async(self.put_many, list(items), max_in_flight)

    def stat_many_async(self, uris: Sequence[str], max_in_flight: int = 64
                        ) -> asyncio.Future[list[dict[str, Any]]]:
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
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise TypeError(f"offset must be an int, got {type(offset).__name__} (for {uri})")
    if offset < 0:
        raise OverflowError(f"can't convert negative int to unsigned: offset {offset} (for {uri})")
    if length is not None:
        if isinstance(length, bool) or not isinstance(length, int):
            raise TypeError(f"length must be an int or None, got {type(length).__name__} (for {uri})")
        if length < 0:
            raise OverflowError(f"can't convert negative int to unsigned: length {length} (for {uri})")
    return offset, length

