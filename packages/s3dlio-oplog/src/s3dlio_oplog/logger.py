"""The op-log session: init_op_log / is_op_log_active / finalize_op_log / op_log_stats.

An observer of `s3dlio_core.instrument`. On the caller's thread it only appends the finished record to a
bounded deque (`S3DLIO_OPLOG_BUF` entries; when full the record is dropped and counted, or with
`S3DLIO_OPLOG_LOSSLESS=1` the caller waits). A drain thread of this process ships batches of raw records
through a pipe to the writer process (`writer_process.py`), which formats the TSV rows and compresses
them, so memory stays constant however long the run and the GIL stays with the I/O.

One session per process, like the original. Differences from the original, on purpose: the log is also
finalized at interpreter exit (atexit) if the program forgot; and a forked child (e.g. a DataLoader worker)
detaches from its parent's session, so it can never corrupt the parent's file, and continues the trace in
a file of its own, `<path>.<child pid>`, opened at its first storage operation (and finalized at its exit,
also for multiprocessing workers that end with os._exit).
"""

from __future__ import annotations

import atexit
import logging
import marshal
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from s3dlio_core import instrument as _ins
from s3dlio_core.errors import InvalidUriError, S3dlioError
from s3dlio_core.settings import settings

if TYPE_CHECKING:
    import subprocess

__all__ = ["init_op_log", "is_op_log_active", "finalize_op_log", "op_log_stats", "pause_op_log",
           "resume_op_log"]

log = logging.getLogger("s3dlio.oplog")
_DRAIN_IDLE_S = 0.05  # drain thread poll period while the buffer is short
_ROUND_LIMIT = 65536  # lossy: rows one drain round takes at most (more means the drain thread starved)
_DEFAULT_QUEUE = 8192  # entries, the documented default of the original (its source says 256)
_WRITER_WAIT_S = 30.0
_marshal_dumps = marshal.dumps


class _Session:
    """One op-log session: the buffer, counters, drain thread and writer process.

    Lossy (default): the observer is the buffer's own C-level `list.append`; the drain thread takes the
    buffer every `_DRAIN_IDLE_S` (at most `max(cap, _ROUND_LIMIT)` rows a round; more, from a starved
    drain thread, are dropped) and drops whole rounds while the writer is behind (its 1 MiB pipe full),
    so memory stays bounded. Lossless: a small Python observer wakes the drain thread when the buffer is
    half full and makes callers wait while it holds `cap` rows; the drain thread waits for the writer.
    """

    def __init__(self, path: str, cap: int, lossless: bool) -> None:
        self.path = path
        self.cap = cap
        self.lossless = lossless
        self.buf: list[tuple] = []
        self.dropped_full = 0
        self.rejected_closed = 0
        self.sent = 0
        self.writer_failed = False
        self.writer_stats: dict[str, Any] | None = None
        self.closed = False
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.half = max(1, cap // 2)
        self.round_limit = max(cap, _ROUND_LIMIT)
        self.proc: subprocess.Popen[bytes] | None = None
        self.pipe_fd = -1
        self.pending = b""  # bytes of a batch the pipe did not take yet (lossy mode)
        self.pending_rows = 0
        self.thread: threading.Thread | None = None
        self.warned = False
        self.pid = os.getpid()
        self.paused = False
        # one callable object: remove_observer matches it
        self.observer = self.observe_lossless if lossless else self.buf.append

    # ---- the caller's side ----
    def observe_lossless(self, rec: tuple) -> None:
        buf = self.buf
        if len(buf) >= self.half:
            self.wake.set()
        while len(buf) >= self.cap:
            if self.closed or self.writer_failed:
                self.rejected_closed += 1
                return
            time.sleep(0.0002)
        buf.append(rec)

    def _note_drop(self, n: int) -> None:
        self.dropped_full += n
        if not self.warned:
            self.warned = True
            log.warning("op-log queue full (%d entries, S3DLIO_OPLOG_BUF) or writer behind; dropping rows "
                        "(counted in op_log_stats()['dropped_full']; S3DLIO_OPLOG_LOSSLESS=1 waits instead)",
                        self.cap)

    # ---- the drain thread ----
    def _take(self) -> list[tuple]:
        buf = self.buf
        n = len(buf)
        if not n:
            return []
        batch = buf[:n]
        del buf[:n]  # appends that raced in after len() stay for the next round
        if n > self.round_limit and not self.lossless:
            self._note_drop(n - self.round_limit)
            batch = batch[:self.round_limit]
        return batch

    def _drain_once(self, final: bool = False) -> int:
        # lossless and final pushes block, so only a lossy round can find the writer still behind:
        # then this round's rows are dropped
        if self.pending and not self._push(final or self.lossless):
            batch = self._take()
            if batch:
                self._note_drop(len(batch))
            return 0
        batch = self._take()
        if not batch:
            return 0
        self.pending = _encode(batch)
        self.pending_rows = len(batch)
        self._push(final or self.lossless)
        return len(batch)

    def _push(self, block: bool) -> bool:
        """Write pending bytes; True when all went. Non-blocking unless `block`."""
        mv = memoryview(self.pending)
        while mv:
            if not block:
                try:
                    w = os.write(self.pipe_fd, mv)
                except BlockingIOError:
                    w = 0
                if not w:
                    self.pending = bytes(mv)
                    return False
            else:
                _wait_writable(self.pipe_fd)
                try:
                    w = os.write(self.pipe_fd, mv)
                except BlockingIOError:
                    continue
            mv = mv[w:]
        self.pending = b""
        self.sent += self.pending_rows
        self.pending_rows = 0
        return True

    def drain_loop(self) -> None:
        wake = self.wake
        try:
            while not self.stop.is_set():
                if self._drain_once() < self.half:
                    wake.wait(_DRAIN_IDLE_S)
                    wake.clear()
            while self.pending or self.buf:
                self._drain_once(final=True)
            return
        except Exception as e:  # the writer died (EPIPE) or the pipe broke
            self.writer_failed = True
            self.writer_stats = {"writer_error": f"{type(e).__name__}: {e}"}
            log.info("op-log writer for %s failed: %s", self.path, e)
        # keep the buffer empty (and the rows counted) until finalize: memory stays bounded
        self.rejected_closed += self.pending_rows
        self.pending, self.pending_rows = b"", 0
        while True:
            batch = self._take_all()
            self.rejected_closed += len(batch)
            if self.stop.is_set():
                self.rejected_closed += len(self._take_all())
                return
            wake.wait(_DRAIN_IDLE_S)
            wake.clear()

    def _take_all(self) -> list[tuple]:
        buf = self.buf
        n = len(buf)
        batch = buf[:n]
        del buf[:n]
        return batch

    def accepted_count(self) -> int:
        return self.sent + self.pending_rows + len(self.buf)


def _grow_pipe(fd: int) -> None:
    """Ask for a 1 MiB pipe (Linux), so a briefly slow writer does not cost rows."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (OSError, ImportError):
        pass


def _wait_writable(fd: int) -> None:
    import select

    select.select([], [fd], [], 1.0)


def _encode(batch: list[tuple]) -> bytes:
    """A length-prefixed batch for the writer: the plain tuples marshalled as they are (about 170 ns a
    row); a record of another type (an OpRecord handed to `record()`) is converted first."""
    try:
        payload = b"R" + _marshal_dumps(batch)
    except ValueError:  # unmarshallable: a tuple subclass or an odd value inside
        payload = b"R" + _marshal_dumps([_plain(r) for r in batch])
    return len(payload).to_bytes(4, "little") + payload


def _plain(rec: Any) -> tuple:
    try:
        return tuple(x if isinstance(x, (str, int, type(None))) else str(x) for x in rec)
    except TypeError:
        return (repr(rec),)


_state_lock = threading.Lock()
_session: _Session | None = None
_finalized_path: str | None = None
_fork_hook_registered = False


def _local_path(path: str) -> str:
    if not isinstance(path, str):
        raise TypeError(f"op-log path must be a str, got {type(path).__name__}")
    if "://" in path:
        if not path.startswith("file://"):
            raise InvalidUriError(
                f"op-log path must be a local path or a file:// URI, got {path!r}", path)
        path = path[len("file://"):]
    if not path:
        raise InvalidUriError("op-log path is empty", path)
    return path


def init_op_log(path: str) -> None:
    """Start logging every storage operation to the zstd-compressed TSV `path` (a local path or
    file:// URI whose directory exists). A second call while a session is active does nothing."""
    global _session, _fork_hook_registered
    with _state_lock:
        if _session is not None and not _session.closed:
            return
        if _finalized_path is not None:
            raise S3dlioError(
                f"op-log was already finalized and cannot be restarted; a process supports only one "
                f"op-log session, so {path!r} was not opened", path)
        local = _local_path(path)
        parent = os.path.dirname(os.path.abspath(local))
        if not os.path.isdir(parent):
            raise S3dlioError(f"cannot open op-log {path!r}: directory {parent!r} does not exist", path)
        cfg = settings()
        import subprocess

        try:
            out_fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as e:
            raise S3dlioError(f"cannot open op-log {path!r}: {e.strerror or e}", path) from None
        cap = cfg.oplog_buf if "S3DLIO_OPLOG_BUF" in cfg.extra else max(cfg.oplog_buf, _DEFAULT_QUEUE)
        s = _Session(local, max(1, cap), cfg.oplog_lossless)
        try:
            s.proc = subprocess.Popen(
                [sys.executable, "-m", "s3dlio_oplog.writer_process", str(out_fd), str(cfg.oplog_level),
                 str(cfg.oplog_wbufcap)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(out_fd,), close_fds=True,
                start_new_session=True)
        except OSError as e:
            raise S3dlioError(f"cannot start the op-log writer for {path!r}: {e}", path) from None
        finally:
            os.close(out_fd)
        assert s.proc.stdin is not None
        s.pipe_fd = s.proc.stdin.fileno()
        os.set_blocking(s.pipe_fd, False)
        _grow_pipe(s.pipe_fd)
        s.thread = threading.Thread(target=s.drain_loop, name="s3dlio-oplog-drain", daemon=True)
        s.thread.start()
        _session = s
        if not _fork_hook_registered and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_detach_in_child)
            _fork_hook_registered = True
        atexit.register(finalize_op_log)
        _ins.add_observer(s.observer, raw=True)
    log.debug("op-log started: %s", local)


def pause_op_log() -> None:
    """Stop recording (operations cost nothing again) without ending the session; `resume_op_log()`
    continues into the same file. E.g. to leave a warm-up phase out of a trace."""
    with _state_lock:
        s = _session
        if s is not None and not s.closed and s.pid == os.getpid() and not s.paused:
            _ins.remove_observer(s.observer)
            s.paused = True


def resume_op_log() -> None:
    """Record again after `pause_op_log()`."""
    with _state_lock:
        s = _session
        if s is not None and not s.closed and s.pid == os.getpid() and s.paused:
            _ins.add_observer(s.observer, raw=True)
            s.paused = False


def is_op_log_active() -> bool:
    """True between a successful init_op_log() and finalize_op_log() (always False in a forked child)."""
    s = _session
    return s is not None and not s.closed and s.pid == os.getpid()


def finalize_op_log() -> None:
    """Write every queued row, end the zstd stream and close the file. Idempotent."""
    global _session, _finalized_path
    with _state_lock:
        s = _session
        if s is None or s.closed or s.pid != os.getpid():
            return
        _ins.remove_observer(s.observer)
        s.stop.set()
        s.wake.set()
        if s.thread is not None:
            s.thread.join()
        s.closed = True
        proc = s.proc
        if proc is not None:
            import json
            import subprocess

            try:
                out, _ = proc.communicate(timeout=_WRITER_WAIT_S)
                line = out.decode("utf-8", "replace").strip().splitlines()
                if line:
                    stats = json.loads(line[-1])
                    if s.writer_stats and s.writer_stats.get("writer_error"):
                        stats["writer_error"] = stats.get("writer_error") or s.writer_stats["writer_error"]
                    s.writer_stats = stats
                if proc.returncode not in (0, None) and not (s.writer_stats or {}).get("writer_error"):
                    s.writer_stats = {**(s.writer_stats or {}),
                                      "writer_error": f"writer exited with status {proc.returncode}"}
            except (subprocess.TimeoutExpired, ValueError, OSError) as e:
                proc.kill()
                s.writer_stats = {**(s.writer_stats or {}), "writer_error": f"{type(e).__name__}: {e}"}
            if (s.writer_stats or {}).get("writer_error"):
                s.writer_failed = True
        _finalized_path = s.path
        try:
            atexit.unregister(finalize_op_log)
        except Exception:
            pass
    log.debug("op-log finalized: %s", s.path)


def op_log_stats() -> dict[str, Any] | None:
    """Counters of the session (None before init). No row was lost iff accepted == written, every loss
    counter is 0 and writer_error is None. While active, `written` counts rows handed to the writer."""
    s = _session
    if s is None:
        return None
    ws = s.writer_stats or {}
    return {
        "accepted": s.accepted_count(),
        "dropped_full": s.dropped_full,
        "rejected_closed": s.rejected_closed,
        "writer_failed": s.writer_failed,
        "lossless": s.lossless,
        "written": ws.get("written", s.sent) if s.closed else s.sent,
        "writer_error": ws.get("writer_error"),
        "rejected_unformattable": ws.get("rejected_unformattable", 0),
        "rejected_unsafe_field": ws.get("rejected_unsafe_field", 0),
        "normalized_error_text": ws.get("normalized_error_text", 0),
    }


def _detach_in_child() -> None:
    """In a forked child: let go of the parent's session (its observer, buffer and pipe) without touching
    the parent's file, and continue the trace in a file of the child's own, `<path>.<pid>`, opened (with a
    writer process of its own) at the child's first storage operation."""
    global _session, _state_lock, _child_lock
    _state_lock = threading.Lock()
    _child_lock = threading.Lock()
    s = _session
    if s is None or s.closed:
        return
    _session = None
    try:
        _ins.remove_observer(s.observer)
    except Exception:
        pass
    proc = s.proc
    for f in (proc.stdin, proc.stdout) if proc is not None else ():
        try:
            if f is not None:
                f.close()  # the child's copies of the parent's pipe ends
        except OSError:
            pass
    s.proc = None
    s.buf = []
    _ins.add_observer(_ChildStart(f"{s.path}.{os.getpid()}"), raw=True)


_child_lock = threading.Lock()


class _ChildStart:
    """The raw observer a forked child starts with: the first record opens the child's own log."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self, rec: tuple) -> None:
        with _child_lock:
            _ins.remove_observer(self)
            s = _session
            if s is None or s.closed:
                try:
                    init_op_log(self.path)
                except Exception as e:  # never break the child's I/O over its trace
                    log.info("op-log: cannot open %s in forked child: %s", self.path, e)
                    return
                _finalize_with_multiprocessing()
            s = _session
        if s is not None and not s.closed:
            s.observer(rec)


def _finalize_with_multiprocessing() -> None:
    """multiprocessing workers end with os._exit (no atexit): finalize through its exit hook instead."""
    import sys as _sys

    mp_util = _sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        try:
            mp_util.Finalize(None, finalize_op_log, exitpriority=100)
        except Exception:
            pass
