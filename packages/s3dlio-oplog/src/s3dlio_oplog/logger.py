"""The op-log session: init_op_log / is_op_log_active / finalize_op_log / op_log_stats.

An observer of `s3dlio_core.instrument`. On the caller's thread it only appends the finished record to a
bounded deque (`S3DLIO_OPLOG_BUF` entries; when full the record is dropped and counted, or with
`S3DLIO_OPLOG_LOSSLESS=1` the caller waits). A drain thread of this process ships batches of raw records
through a pipe to the writer process (`writer_process.py`), which formats the TSV rows and compresses
them, so memory stays constant however long the run and the GIL stays with the I/O.

One session per process, like the original. Differences from the original, on purpose: the log is also
finalized at interpreter exit (atexit) if the program forgot; and a forked child (e.g. a DataLoader worker)
detaches from its parent's session and logs nothing, so it can never corrupt the parent's file (its
`is_op_log_active()` is False).
"""

from __future__ import annotations

import atexit
import logging
import marshal
import os
import sys
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from s3dlio_core import instrument as _ins
from s3dlio_core.errors import InvalidUriError, S3dlioError
from s3dlio_core.settings import settings

if TYPE_CHECKING:
    import subprocess

__all__ = ["init_op_log", "is_op_log_active", "finalize_op_log", "op_log_stats"]

log = logging.getLogger("s3dlio.oplog")
_DRAIN_IDLE_S = 0.005  # drain thread poll period while the queue is short
_DEFAULT_QUEUE = 8192  # entries, the documented default of the original (its source says 256)
_WRITER_WAIT_S = 30.0
_marshal_dumps = marshal.dumps


class _Session:
    """One op-log session: the queue, counters, drain thread and writer process."""

    def __init__(self, path: str, cap: int, lossless: bool) -> None:
        self.path = path
        self.cap = cap
        self.lossless = lossless
        self.q: deque[tuple] = deque()
        self.accepted = 0
        self.dropped_full = 0
        self.rejected_closed = 0
        self.sent = 0
        self.writer_failed = False
        self.writer_stats: dict[str, Any] | None = None
        self.closed = False
        self.stop = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = None
        self.pipe_fd = -1
        self.thread: threading.Thread | None = None
        self.warned = False
        self.pid = os.getpid()
        self.observer = self.observe  # one bound method: remove_observer matches by identity

    # ---- the caller's side: kept to a few bytecodes ----
    def observe(self, rec: tuple) -> None:
        q = self.q
        if len(q) < self.cap:
            q.append(rec)
            return
        self._full(rec)

    def _full(self, rec: tuple) -> None:
        if self.closed or self.writer_failed:
            self.rejected_closed += 1
            return
        if self.lossless:
            while len(self.q) >= self.cap and not (self.closed or self.writer_failed):
                time.sleep(0.0002)
            if self.closed or self.writer_failed:
                self.rejected_closed += 1
                return
            self.q.append(rec)
            return
        self.dropped_full += 1
        if not self.warned:
            self.warned = True
            print(f"s3dlio op-log: queue full ({self.cap} entries, S3DLIO_OPLOG_BUF); dropping rows "
                  "(set S3DLIO_OPLOG_LOSSLESS=1 to wait instead)", file=sys.stderr)

    # ---- the drain thread ----
    def _drain_once(self) -> int:
        q = self.q
        n = len(q)
        if not n:
            return 0
        popleft = q.popleft
        batch = [tuple(popleft()) for _ in range(n)]
        payload = _marshal_dumps(batch)
        data = len(payload).to_bytes(4, "little") + payload
        mv = memoryview(data)
        while mv:
            w = os.write(self.pipe_fd, mv)
            mv = mv[w:]
        self.sent += n
        return n

    def drain_loop(self) -> None:
        try:
            while not self.stop.is_set():
                if self._drain_once() < self.cap // 4:
                    time.sleep(_DRAIN_IDLE_S)
            self._drain_once()
        except Exception as e:  # the writer died (EPIPE) or the pipe broke
            self.writer_failed = True
            self.writer_stats = {"writer_error": f"{type(e).__name__}: {e}"}
            log.warning("op-log writer for %s failed: %s", self.path, e)
            self.q.clear()

    def accepted_count(self) -> int:
        return self.sent + len(self.q)


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
        s.thread = threading.Thread(target=s.drain_loop, name="s3dlio-oplog-drain", daemon=True)
        s.thread.start()
        _session = s
        if not _fork_hook_registered and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_detach_in_child)
            _fork_hook_registered = True
        atexit.register(finalize_op_log)
        _ins.add_observer(s.observer)
    log.debug("op-log started: %s", local)


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
    """In a forked child: stop observing and let go of the parent's pipe; the child logs nothing."""
    global _session, _state_lock
    _state_lock = threading.Lock()
    s = _session
    if s is None or s.closed:
        return
    try:
        _ins.remove_observer(s.observer)
    except Exception:
        pass
    if s.pipe_fd >= 0:
        try:
            os.close(s.pipe_fd)
        except OSError:
            pass
    _session = None
