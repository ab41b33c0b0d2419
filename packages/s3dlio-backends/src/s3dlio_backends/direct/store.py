"""The direct:// store: local files read and written with O_DIRECT (no page cache), file:// semantics.

* Reads land straight in the returned BytesView: it is allocated with room for alignment, the read goes
  into a page-aligned window inside it (offset and length rounded out to the device's logical block),
  and the surplus in front and behind is then cut off (front deletion only moves bytearray's start
  pointer, so nothing is copied).
* Writes go through page-aligned bounce buffers (pooled, two per writer: one filled while the other is
  written) in whole blocks; the unaligned tail is written as one
  padded block and the file is then truncated to its exact size. They stay atomic: temporary name +
  rename, as file:// does.
* Where the filesystem refuses O_DIRECT (EINVAL), I/O falls back to buffered reads and writes with one
  warning per process.
* Listings omit directories (the original's direct:// behaviour).
"""

from __future__ import annotations

import errno
import logging
import mmap
import os
import threading
from concurrent.futures import Future
from typing import Any

from s3dlio_core.bytes_view import BytesView
from s3dlio_core.concurrency import shared_executor
from s3dlio_core.errors import length_mismatch
from s3dlio_core.file_store import FileCapabilities, FileStore, FileWriter, os_error, read_new
from s3dlio_core.settings import settings
from s3dlio_core.store import ObjectStore
from s3dlio_core.uri import ObjectUri

from .alignment import PAGE, address_of, block_size_of_fd, round_down, round_up

__all__ = ["DirectStore", "DirectWriter", "O_DIRECT"]

log = logging.getLogger("s3dlio.direct")
O_DIRECT = getattr(os, "O_DIRECT", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_MAX_IO = 0x7FFFF000 // (1 << 20) * (1 << 20)  # per-call cap, kept MiB-aligned
_warned = False
_warn_lock = threading.Lock()


def _warn_fallback(path: str, e: OSError) -> None:
    global _warned
    with _warn_lock:
        if _warned:
            return
        _warned = True
    log.warning("direct://: the filesystem of %s refuses O_DIRECT (%s); using buffered I/O instead "
                "(warned once per process)", path, e.strerror or e)


def _open(path: str, flags: int, mode: int = 0o666) -> tuple[int, bool]:
    """Open with O_DIRECT when the filesystem allows it: (fd, direct?)."""
    if O_DIRECT:
        try:
            return os.open(path, flags | O_DIRECT, mode), True
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise
            _warn_fallback(path, e)
    return os.open(path, flags, mode), False


def _bounce_size() -> int:
    mb = settings().extra.get("S3DLIO_DIRECT_IO_BOUNCE_SIZE_MB", "")
    try:
        n = int(mb) << 20
    except ValueError:
        n = 0
    return n if n > 0 else 8 << 20


class _BouncePool:
    """Page-aligned bounce buffers kept for reuse (their pages stay mapped, so no faults per write).
    Per process: a forked child starts with an empty pool."""

    def __init__(self, keep: int = 8) -> None:
        self.keep = keep
        self.free: list[mmap.mmap] = []
        self.lock = threading.Lock()

    def take(self, size: int) -> mmap.mmap:
        with self.lock:
            while self.free:
                b = self.free.pop()
                if len(b) == size:
                    return b
                b.close()
        return mmap.mmap(-1, size)

    def give(self, b: mmap.mmap) -> None:
        with self.lock:
            if len(self.free) < self.keep:
                self.free.append(b)
                return
        b.close()

    def reset(self) -> None:
        self.free = []
        self.lock = threading.Lock()


_pool = _BouncePool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pool.reset)


class DirectWriter(FileWriter):
    """O_DIRECT writes to a temporary file through two aligned bounce buffers (one being filled while the
    other is written on the shared "parts" pool); renamed into place on close."""

    def __init__(self, uri: str, path: str) -> None:
        self._bufs: list[mmap.mmap] = []
        self._cur = 0
        self._fill = 0
        self._offset = 0  # file offset of the current buffer (a multiple of the block size)
        self._pending: list[Future[None] | None] = [None, None]
        super().__init__(uri, path)

    def _open_temp(self) -> None:
        """O_DIRECT where the filesystem takes it (buffered, with one warning, where it does not)."""
        self.fd, self.direct = _open(self.tmp, self.open_flags, 0o666)
        self._block = block_size_of_fd(self.fd) if self.direct else 1

    def _write(self, mv: memoryview) -> None:
        if not self.direct:
            return super()._write(mv)
        try:
            if not self._bufs:
                size = _bounce_size()
                self._bufs = [_pool.take(size), _pool.take(size)]
            cap = len(self._bufs[0])
            pos, n = 0, mv.nbytes
            while pos < n:
                buf = self._bufs[self._cur]
                take = min(cap - self._fill, n - pos)
                buf[self._fill: self._fill + take] = mv[pos: pos + take]
                self._fill += take
                pos += take
                if self._fill == cap:
                    self._submit(cap)
        except OSError as e:
            raise os_error(e, self.uri, "write") from None

    def _submit(self, nbytes: int) -> None:
        """Write the current buffer's first `nbytes` (a block multiple) in the background; switch buffers."""
        i = self._cur
        self._pending[i] = shared_executor("parts").submit(_pwrite_all, self.fd, self._bufs[i], nbytes,
                                                           self._offset)
        self._offset += nbytes
        self._fill = 0
        self._cur = 1 - i
        self._wait(self._cur)  # the buffer we fill next must be written out first

    def _wait(self, i: int) -> None:
        f = self._pending[i]
        if f is not None:
            self._pending[i] = None
            f.result()

    def _commit(self) -> None:
        try:
            if self.direct and self._bufs:
                tail = self._fill
                if tail:
                    padded = round_up(tail, self._block)
                    buf = self._bufs[self._cur]
                    buf[tail:padded] = bytes(padded - tail)
                    size = self._offset + tail
                    self._submit(padded)
                self._wait(0)
                self._wait(1)
                if tail:
                    os.ftruncate(self.fd, size)
        except OSError as e:
            raise os_error(e, self.uri, "write") from None
        self._release_bounce()
        super()._commit()

    def _abort(self) -> None:
        for i in (0, 1):
            try:
                self._wait(i)
            except Exception:
                pass
        self._release_bounce()
        super()._abort()

    def _release_bounce(self) -> None:
        bufs, self._bufs = self._bufs, []
        for b in bufs:
            _pool.give(b)


def _pwrite_all(fd: int, buf: mmap.mmap, nbytes: int, offset: int) -> None:
    view = memoryview(buf)
    try:
        done = 0
        while done < nbytes:
            done += os.pwrite(fd, view[done:nbytes], offset + done)
    finally:
        view.release()


class DirectCapabilities(FileCapabilities):
    mmap = False  # a mapping would go through the page cache that direct:// exists to bypass


class DirectStore(FileStore):
    """direct:// URIs: file:// semantics with O_DIRECT I/O (see the module docstring)."""

    capabilities = DirectCapabilities
    inline_cached_reads = False  # reads must bypass the page cache

    scheme = "direct"
    writer_class = DirectWriter
    list_directories = False

    # ---- reads ----
    def _read_span(self, u: ObjectUri, offset: int, length: int | None) -> BytesView:
        """Bytes [offset, offset+length) of the file (to its end when None), truncated at EOF."""
        try:
            fd, direct = _open(u.path, os.O_RDONLY | _O_CLOEXEC)
        except OSError as e:
            raise os_error(e, u.uri, "read") from None
        try:
            size = self._regular_size(fd, u)
            end = size if length is None else min(size, offset + length)
            n = max(0, end - offset)
            if n == 0:
                return BytesView()
            if direct:
                try:
                    return _direct_read(fd, offset, n)
                except OSError as e:
                    if e.errno != errno.EINVAL:
                        raise
                    _warn_fallback(u.path, e)
            return read_new(fd, n, offset)
        except OSError as e:
            raise os_error(e, u.uri, "read") from None
        finally:
            os.close(fd)

    def _get(self, u: ObjectUri) -> BytesView:
        return self._read_span(u, 0, None)

    def _get_range(self, u: ObjectUri, offset: int, length: int | None) -> BytesView:
        return self._read_span(u, offset, length)

    def _get_into(self, u: ObjectUri, dst: memoryview) -> int:
        v = self._read_span(u, 0, None)
        n = len(v)
        if n > dst.nbytes:
            raise length_mismatch(u.uri, dst.nbytes, n)
        dst[:n] = v
        return n

    # ---- paths that would bypass O_DIRECT bookkeeping: use the generic (writer / ranged read) ones ----
    def _put_stream(self, u: ObjectUri, stream: Any) -> int:
        return ObjectStore._put_stream(self, u, stream)

    def _download_to_file(self, u: ObjectUri, fd: int) -> int:
        return ObjectStore._download_to_file(self, u, fd)


def _direct_read(fd: int, offset: int, n: int) -> BytesView:
    """Read n bytes at `offset` with O_DIRECT into a fresh BytesView with no copy (see module doc)."""
    block = block_size_of_fd(fd)
    start = round_down(offset, block)
    span = round_up(offset + n, block) - start
    align = max(PAGE, block)
    v = BytesView.allocate(span + align)
    k = (-address_of(v)) % align
    mv = memoryview(v)
    try:
        got = _pread_aligned(fd, mv[k: k + span], start, block)
    finally:
        mv.release()
    lead = k + (offset - start)
    keep = max(0, min(n, got - (offset - start)))
    del v[:lead]  # moves the start pointer: no copy
    del v[keep:]
    return v


def _pread_aligned(fd: int, mv: memoryview, offset: int, block: int) -> int:
    """Fill `mv` from `offset` until full or EOF, every call aligned; returns bytes read."""
    got = 0
    total = mv.nbytes
    while got < total:
        want = min(total - got, _MAX_IO)
        r = os.preadv(fd, [mv[got: got + want]], offset + got)
        got += r
        if r < want or r % block:  # end of file
            break
    return got


