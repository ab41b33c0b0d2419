"""The file:// store: local (or network-mounted) files with object semantics.

* Writes go to a temporary name in the target directory and are renamed into place, so no reader ever sees
  a half-written object and a crash leaves none; parent directories are created.
* Reads land in the returned BytesView with readv/preadv (no intermediate copies).
* Listing follows the original: `file:///d` and `file:///d/` list the directory (sub-directories as
  entries ending in '/' unless recursive), a file path lists that file, a missing path lists nothing.
"""

from __future__ import annotations

import errno
import io
import itertools
import mmap
import os
import stat as _stat
from collections.abc import Iterator, Sequence
from typing import Any

from . import instrument as _ins
from .bytes_view import BytesView
from .concurrency import validate_max_in_flight
from .errors import (
    InvalidUriError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3dlioError,
    StorageIOError,
    length_mismatch,
)
from .listing import ObjectInfo
from .metadata import make_stat, rfc3339_ns
from .paths import make_dirs
from .store import Capabilities, ObjectStore, ObjectWriter
from .uri import ObjectUri, parse_uri

__all__ = ["FileStore", "FileWriter", "TEMP_PREFIX", "os_error", "read_new", "make_dirs"]

TEMP_PREFIX = ".s3dlio-tmp-"  # in-progress writes; never listed
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_MAX_IO = 0x7FFFF000  # Linux caps one read/write call at this many bytes
_PAGE = 1000  # entries per listing page
_RWF_NOWAIT = getattr(os, "RWF_NOWAIT", None)
_FADV_DONTNEED = getattr(os, "POSIX_FADV_DONTNEED", None)
INLINE_READ_MAX = 1 << 20  # get_many reads cached objects up to this size in the calling thread
_counter = itertools.count()


def os_error(e: OSError, uri: str, what: str) -> S3dlioError:
    """The typed error for an OSError raised while doing `what` on `uri`."""
    reason = e.strerror or str(e)
    if isinstance(e, FileNotFoundError):
        return ObjectNotFoundError(f"{what} failed: not found: {uri} ({reason})", uri)
    if isinstance(e, PermissionError):
        return PermissionDeniedError(f"{what} failed: permission denied: {uri} ({reason})", uri)
    return StorageIOError(f"{what} failed for {uri}: {reason} (errno {e.errno})", uri)


class FileCapabilities(Capabilities):
    head = True
    directories = True
    mmap = True


def _read_full(fd: int, mv: memoryview, offset: int | None) -> int:
    """Read into `mv` until full or EOF; returns bytes read. `offset` None = current position."""
    got = 0
    total = mv.nbytes
    first = True
    while got < total:
        chunk = mv[got: got + _MAX_IO] if total - got > _MAX_IO else mv[got:]
        n = os.readv(fd, [chunk]) if offset is None else os.preadv(fd, [chunk], offset + got)
        if first:
            first = False
            if n < total and _ins.ACTIVE:  # one read: first byte ~ end, which is the op-log's default
                _ins.mark_first_byte()
        if n == 0:
            break
        got += n
    return got


def read_new(fd: int, n: int, offset: int | None) -> BytesView:
    """A new BytesView of up to `n` bytes read from `fd` (at `offset`, or the current position when None);
    shorter when the file ends first."""
    v = BytesView.allocate(n)
    if n:
        mv = memoryview(v)
        try:
            got = _read_full(fd, mv, offset)
        finally:
            mv.release()  # a buffer with live exports cannot shrink
        if got < n:
            del v[got:]
    return v


def _write_full(fd: int, mv: memoryview) -> None:
    done = 0
    total = mv.nbytes
    while done < total:
        chunk = mv[done: done + _MAX_IO] if total - done > _MAX_IO else mv[done:]
        done += os.write(fd, chunk)


def _temp_path(path: str) -> str:
    d, _ = os.path.split(path)
    name = f"{TEMP_PREFIX}{os.getpid()}-{next(_counter)}-{os.urandom(4).hex()}"
    return os.path.join(d, name) if d else name


class FileWriter(ObjectWriter):
    """Writes to a temporary file beside the target; `close()` renames it into place."""

    open_flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC

    def __init__(self, uri: str, path: str) -> None:
        super().__init__(uri)
        self.closed = True  # until the temp file exists
        self.path = path
        self.fd = -1
        parent = os.path.dirname(path)
        try:
            if parent:
                make_dirs(parent)
            if os.path.isdir(path):
                raise IsADirectoryError(errno.EISDIR, "is a directory")
            self.tmp = _temp_path(path)
            self._open_temp()
        except OSError as e:
            raise os_error(e, uri, "write") from None
        self.closed = False

    def _open_temp(self) -> None:
        """Create the temporary file `self.tmp` and set `self.fd` (subclasses choose the flags)."""
        self.fd = os.open(self.tmp, self.open_flags, 0o666)

    def _write(self, mv: memoryview) -> None:
        try:
            _write_full(self.fd, mv)
        except OSError as e:
            raise os_error(e, self.uri, "write") from None

    def _commit(self) -> None:
        try:
            os.close(self.fd)
            self.fd = -1
            os.replace(self.tmp, self.path)
        except OSError as e:
            raise os_error(e, self.uri, "write") from None

    def _abort(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


class FileStore(ObjectStore):
    """file:// URIs. `direct://` (O_DIRECT) builds on this class in s3dlio-backends."""

    scheme = "file"
    capabilities = FileCapabilities
    writer_class: type[FileWriter] = FileWriter
    list_directories = True  # non-recursive listings show sub-directories as 'name/'
    # a local walk is faster than starting listing threads (2,000 files in 8 directories: 0.011 s serial,
    # 0.014-0.027 s split over 16 threads), so list_info_parallel lists a file:// prefix in one walk
    parallel_listing = False
    inline_cached_reads = True  # get_many may read small page-cached objects in the caller (not O_DIRECT)

    @classmethod
    def store_key(cls, u: ObjectUri) -> Any:
        return (cls.scheme,)

    # ---- reads ----
    def _close_read(self, fd: int) -> None:
        """Close a file we read; with `file_drop_cache` (S3DLIO_FILE_DROP_CACHE=1, or a StoreConfig) its
        pages leave the page cache first, so a benchmark's next epoch reads from the disk again."""
        try:
            if self.settings.file_drop_cache and _FADV_DONTNEED is not None:
                os.posix_fadvise(fd, 0, 0, _FADV_DONTNEED)
        except OSError:
            pass
        finally:
            os.close(fd)

    def drop_cache(self, uri: str) -> int:
        """Drop the page-cache pages of the file `uri`, or of every file under the directory `uri`
        (posix_fadvise DONTNEED; dirty pages are written first). Returns how many files it advised."""
        if _FADV_DONTNEED is None:  # pragma: no cover - not Linux
            return 0
        u = parse_uri(uri)
        paths = [u.path] if not os.path.isdir(u.path) else [
            x[len(u.written_scheme) + 3:] for x in self.list(uri if uri.endswith("/") else uri + "/", True)]
        n = 0
        for path in paths:
            try:
                fd = os.open(path, os.O_RDONLY | _O_CLOEXEC)
            except FileNotFoundError:
                continue
            except OSError as e:
                raise os_error(e, uri, "drop_cache") from None
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, _FADV_DONTNEED)
                n += 1
            finally:
                os.close(fd)
        return n

    def _open_read(self, u: ObjectUri) -> int:
        try:
            return os.open(u.path, os.O_RDONLY | _O_CLOEXEC)
        except OSError as e:
            raise os_error(e, u.uri, "read") from None

    def _regular_size(self, fd: int, u: ObjectUri) -> int:
        st = os.fstat(fd)
        if _stat.S_ISDIR(st.st_mode):
            raise ObjectNotFoundError(f"Path is not a file: {u.path} ({u.uri})", u.uri)
        return st.st_size

    def _map_object(self, u: ObjectUri) -> Any:
        """MAP_PRIVATE | MAP_POPULATE over the file (objects are replaced by rename, never rewritten in
        place, so a mapping keeps the bytes it was made over)."""
        fd = self._open_read(u)
        try:
            size = self._regular_size(fd, u)
            if size == 0:
                return BytesView()
            flags = mmap.MAP_PRIVATE | getattr(mmap, "MAP_POPULATE", 0)
            return mmap.mmap(fd, size, flags=flags, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as e:
            raise os_error(e, u.uri, "read") from None
        finally:
            os.close(fd)

    def _get(self, u: ObjectUri) -> BytesView:
        fd = self._open_read(u)
        try:
            return read_new(fd, self._regular_size(fd, u), None)
        except OSError as e:
            raise os_error(e, u.uri, "read") from None
        finally:
            self._close_read(fd)

    def _get_range(self, u: ObjectUri, offset: int, length: int | None) -> BytesView:
        fd = self._open_read(u)
        try:
            size = self._regular_size(fd, u)
            end = size if length is None else min(size, offset + length)
            return read_new(fd, max(0, end - offset), offset)
        except OSError as e:
            raise os_error(e, u.uri, "read") from None
        finally:
            self._close_read(fd)

    def _get_range_into(self, u: ObjectUri, offset: int, dst: memoryview) -> int:
        fd = self._open_read(u)
        try:
            self._regular_size(fd, u)
            return _read_full(fd, dst, offset)
        except OSError as e:
            raise os_error(e, u.uri, "read") from None
        finally:
            self._close_read(fd)

    def _get_suffix(self, u: ObjectUri, length: int) -> BytesView:
        fd = self._open_read(u)
        try:
            size = self._regular_size(fd, u)
            start = max(0, size - length)
            return read_new(fd, size - start, start)
        except OSError as e:
            raise os_error(e, u.uri, "read") from None
        finally:
            self._close_read(fd)

    def _get_into(self, u: ObjectUri, dst: memoryview) -> int:
        fd = self._open_read(u)
        try:
            size = self._regular_size(fd, u)
            if size > dst.nbytes:
                raise length_mismatch(u.uri, dst.nbytes, size)
            return _read_full(fd, dst[:size], 0)
        except OSError as e:
            raise os_error(e, u.uri, "read") from None
        finally:
            self._close_read(fd)

    def get_many(self, uris: Sequence[str], max_in_flight: int = 64) -> list[tuple[str, BytesView]]:
        """Like the base, with two file:// twists. Small objects already in the page cache are read by the
        calling thread itself (`preadv2(RWF_NOWAIT)` says whether a read would wait for the disk): handing
        a 4 KiB memory copy to a thread costs more than the copy. From the first object that is large or
        not cached on, the rest fan out, at most 2 x cores at once: a cached read is a CPU-bound copy, and
        more threads than cores only add contention."""
        validate_max_in_flight(max_in_flight)
        uris = list(uris)
        results: list[tuple[str, BytesView]] = []
        if self.inline_cached_reads and _RWF_NOWAIT is not None:
            for uri in uris:
                v = self._get_if_cached(uri)
                if not isinstance(v, BytesView):  # None: not cached (or large)
                    break
                results.append((uri, v))
        rest = uris[len(results):]
        if rest:
            results.extend(super().get_many(rest, min(max_in_flight, _read_fanout())))
        return results

    def _get_many_into(self, pairs: Sequence[tuple[str, memoryview]], max_in_flight: int) -> list[int]:
        """Like get_many: cached small objects are read by the calling thread, the rest fan out, at most
        2 x cores at once."""
        sizes: list[int] = []
        if self.inline_cached_reads and _RWF_NOWAIT is not None:
            for uri, dst in pairs:
                if self._get_if_cached(uri, dst) is None:
                    break
                sizes.append(dst.nbytes)
        rest = pairs[len(sizes):]
        if rest:
            sizes.extend(super()._get_many_into(rest, min(max_in_flight, _read_fanout())))
        return sizes

    def _get_if_cached(self, uri: str, dst: memoryview | None = None) -> BytesView | memoryview | None:
        """The whole object if it is small and entirely in the page cache, else None (nothing recorded).
        With `dst`, read into it when the object is exactly its size (then `dst` is returned)."""
        u = parse_uri(uri)
        traced = bool(_ins.ACTIVE)
        if traced:
            ident, start = _ins.get_ident(), _ins.time_ns()
        try:
            fd = self._open_read(u)
        except BaseException as e:
            if traced:
                _ins.read_failed("GET", uri, start, ident, e)
            raise
        try:
            size = self._regular_size(fd, u)
            if size > INLINE_READ_MAX or (dst is not None and size != dst.nbytes):
                return None  # (a size mismatch is raised, typed, by the fan-out path)
            v: BytesView | memoryview = BytesView.allocate(size) if dst is None else dst
            if size:
                mv = memoryview(v)
                try:
                    n = os.preadv(fd, [mv], 0, _RWF_NOWAIT)  # type: ignore[arg-type]  # checked by the caller
                except BlockingIOError:
                    return None  # would wait for the disk
                except OSError:
                    return None  # e.g. a filesystem without RWF_NOWAIT: the fan-out path reads it
                finally:
                    mv.release()
                if n != size:
                    return None
        except ObjectNotFoundError as e:
            if traced:
                _ins.read_failed("GET", uri, start, ident, e)
            raise
        finally:
            self._close_read(fd)
        if traced:
            _ins.read_done("GET", uri, v, start, ident)
        return v

    # ---- writes ----
    def _open_writer(self, u: ObjectUri) -> FileWriter:
        if u.path.endswith("/"):
            raise InvalidUriError(f"cannot write an object named like a directory: {u.uri}", u.uri)
        return self.writer_class(u.uri, u.path)

    def _put(self, u: ObjectUri, data: memoryview) -> None:
        w = self._open_writer(u)
        try:
            w._write(data)
            w.bytes_written = data.nbytes
        except BaseException:
            w.abort()
            raise
        w.closed = True
        try:
            w._commit()
        except BaseException:
            w._abort_quietly()
            raise

    def _put_stream(self, u: ObjectUri, stream: Any) -> int:
        """Copy a real file in the kernel (copy_file_range), anything else through the writer."""
        fileno = getattr(stream, "fileno", None)
        src_fd = -1
        if fileno is not None and hasattr(os, "copy_file_range"):
            try:
                src_fd = fileno()
                if not _stat.S_ISREG(os.fstat(src_fd).st_mode):
                    src_fd = -1
            except (OSError, ValueError, io.UnsupportedOperation):
                src_fd = -1
        if src_fd < 0:
            return super()._put_stream(u, stream)
        w = self._open_writer(u)
        try:
            if hasattr(stream, "flush"):
                stream.flush()
            pos = os.lseek(src_fd, 0, os.SEEK_CUR)
            total = 0
            while True:
                n = os.copy_file_range(src_fd, w.fd, 1 << 30, pos + total)
                if n == 0:
                    break
                total += n
            w.bytes_written = total
            os.lseek(src_fd, pos + total, os.SEEK_SET)
        except OSError as e:
            w.abort()
            if e.errno in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                return super()._put_stream(u, stream)
            raise os_error(e, u.uri, "write") from None
        except BaseException:
            w.abort()
            raise
        return w.close()

    # ---- metadata ----
    def _stat(self, u: ObjectUri) -> dict[str, Any]:
        try:
            st = os.stat(u.path)
        except FileNotFoundError:
            raise ObjectNotFoundError(f"File not found: {u.path} ({u.uri})", u.uri) from None
        except OSError as e:
            raise os_error(e, u.uri, "stat") from None
        if _stat.S_ISDIR(st.st_mode):
            raise ObjectNotFoundError(f"Path is not a file: {u.path} ({u.uri})", u.uri)
        return make_stat(st.st_size, rfc3339_ns(st.st_mtime_ns), f"file-{st.st_size}-{int(st.st_mtime)}",
                         storage_class="STANDARD")

    # ---- listing ----
    def _list_pages(self, u: ObjectUri, recursive: bool) -> Iterator[list[str]]:
        path = u.path
        prefix = f"{u.written_scheme}://"
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return
        except OSError as e:
            raise os_error(e, u.uri, "list") from None
        if not _stat.S_ISDIR(st.st_mode):
            if not path.endswith("/"):
                yield [prefix + path]
            return
        root = path if path.endswith("/") else path + "/"
        page: list[str] = []
        for p in (self._walk_files(root, u.uri) if recursive else self._one_level(root, u.uri)):
            page.append(prefix + p)
            if len(page) >= _PAGE:
                yield page
                page = []
        if page:
            yield page

    def _list_entries(self, u: ObjectUri, recursive: bool) -> Iterator[list[ObjectInfo]]:
        """The `_list_pages` selection with size, mtime (RFC 3339) and the stat etag of every file."""
        for page in self._list_pages(u, recursive):
            out: list[ObjectInfo] = []
            for uri in page:
                if uri.endswith("/"):
                    out.append(ObjectInfo(uri, is_dir=True))
                    continue
                try:
                    st = os.stat(uri[len(u.written_scheme) + 3:])
                except FileNotFoundError:
                    continue  # deleted while listing
                except OSError as e:
                    raise os_error(e, uri, "list") from None
                out.append(ObjectInfo(uri, st.st_size, rfc3339_ns(st.st_mtime_ns),
                                      f"file-{st.st_size}-{int(st.st_mtime)}"))
            yield out

    def _one_level(self, root: str, uri: str) -> Iterator[str]:
        try:
            with os.scandir(root) as it:
                entries = sorted(it, key=lambda ent: ent.name)
        except OSError as e:
            raise os_error(e, uri, "list") from None
        for ent in entries:
            if ent.name.startswith(TEMP_PREFIX):
                continue
            try:
                is_dir = ent.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if self.list_directories:
                    yield root + ent.name + "/"
            else:
                yield root + ent.name

    def _walk_files(self, root: str, uri: str) -> Iterator[str]:
        try:
            with os.scandir(root) as it:
                entries = sorted(it, key=lambda ent: ent.name)
        except FileNotFoundError:
            return
        except OSError as e:
            raise os_error(e, uri, "list") from None
        for ent in entries:
            if ent.name.startswith(TEMP_PREFIX):
                continue
            try:
                is_dir = ent.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                yield from self._walk_files(root + ent.name + "/", uri)
            else:
                yield root + ent.name

    # ---- deletes ----
    def _delete(self, u: ObjectUri) -> None:
        try:
            os.unlink(u.path)
        except FileNotFoundError:
            return
        except IsADirectoryError:
            raise self._is_dir_error(u) from None
        except PermissionError as e:
            if os.path.isdir(u.path):  # some systems say EPERM for unlink(dir)
                raise self._is_dir_error(u) from None
            raise os_error(e, u.uri, "delete") from None
        except OSError as e:
            raise os_error(e, u.uri, "delete") from None

    @staticmethod
    def _is_dir_error(u: ObjectUri) -> S3dlioError:
        return StorageIOError(
            f"{u.uri} is a directory; use -r / recursive=True to delete everything under it "
            "(nothing was deleted)", u.uri)

    def _delete_recursive(self, u: ObjectUri) -> int:
        """Delete the files `u` selects (a file, or everything under a directory), then the
        directories left empty under it, so the prefix lists nothing afterwards."""
        path = u.path
        if not os.path.isdir(path):
            if os.path.lexists(path):
                self.delete(u.uri)
                return 1
            return 0
        root = path if path.endswith("/") else path + "/"
        scheme = f"{u.written_scheme}://"
        if _ins.ACTIVE:
            files = _ins.traced("LIST", u.uri, lambda: list(self._walk_files(root, u.uri)), size_of=None,
                                nbytes=0, count_of=len)
        else:
            files = list(self._walk_files(root, u.uri))
        for f in files:
            self.delete(scheme + f)
        for dirpath, _dirs, _files in os.walk(root, topdown=False):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass  # not empty (e.g. a temp file of a writer in progress) or gone
        return len(files)

    def _download_to_file(self, u: ObjectUri, fd: int) -> int:
        src = self._open_read(u)
        try:
            size = self._regular_size(src, u)
            done = 0
            try:
                while done < size:
                    n = os.copy_file_range(src, fd, size - done, done, done)
                    if n == 0:
                        break
                    done += n
                return done
            except OSError as e:
                if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                    raise os_error(e, u.uri, "download") from None
            return super()._download_to_file(u, fd)
        finally:
            os.close(src)

    def _list_buckets(self, u: ObjectUri) -> list[dict[str, Any]]:
        root = u.path if u.path.endswith("/") else u.path + "/"
        return [{"name": p.rstrip("/").rsplit("/", 1)[-1], "uri": f"{u.written_scheme}://{p.rstrip('/')}",
                 "creation_date": None} for p in self._one_level(root, u.uri) if p.endswith("/")]

    def _mkdir(self, u: ObjectUri) -> None:
        try:
            make_dirs(u.path)
        except OSError as e:
            raise os_error(e, u.uri, "mkdir") from None

    def _create_bucket(self, u: ObjectUri) -> None:
        self._mkdir(u)

    def _delete_bucket(self, u: ObjectUri) -> None:
        try:
            os.rmdir(u.path)
        except FileNotFoundError:
            raise ObjectNotFoundError(f"delete_bucket failed: no such directory: {u.uri}", u.uri) from None
        except OSError as e:
            raise os_error(e, u.uri, "delete_bucket") from None


def _read_fanout() -> int:
    """Reads in flight at most for a bulk file:// read: 2 x cores (at least 4)."""
    return max(4, 2 * (os.cpu_count() or 1))
