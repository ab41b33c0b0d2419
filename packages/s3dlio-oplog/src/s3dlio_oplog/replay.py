"""Replaying an op-log against another URI prefix, with the recorded timing or as fast as possible.

Like the original's replay crate (and warp-replay): each operation is issued at
`(start - first_start) / speed` after the replay starts (absolute timeline, so a slow operation does not
delay the ones after it), with URIs moved from one prefix to another (`translate_uri`). PUTs write the
recorded number of bytes (zeros); GET_RANGE reads the recorded length from offset 0 (the log does not
record offsets). Memory stays bounded: rows are streamed and at most `max_in_flight` run at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from s3dlio_core import store_for_uri

from .reader import OpLogRecord, read_op_log

__all__ = ["translate_uri", "common_prefix", "replay", "ReplayResult", "REPLAYABLE_OPS"]

log = logging.getLogger("s3dlio.oplog")
REPLAYABLE_OPS = frozenset({"GET", "GET_RANGE", "PUT", "HEAD", "STAT", "LIST", "DELETE"})


def translate_uri(uri: str, old_prefix: str, new_prefix: str) -> str:
    """`uri` with `old_prefix` replaced by `new_prefix` (e.g. s3://old/data.bin, s3://old, az://new/c
    -> az://new/c/data.bin); a URI outside `old_prefix` is returned unchanged."""
    if not old_prefix or not uri.startswith(old_prefix):
        return uri
    rest = uri[len(old_prefix):]
    if new_prefix.endswith("/") and rest.startswith("/"):
        rest = rest[1:]
    elif not new_prefix.endswith("/") and rest and not rest.startswith("/") and old_prefix.endswith("/"):
        rest = "/" + rest
    return new_prefix + rest


def common_prefix(uris: Iterable[str]) -> str:
    """The longest prefix, ending in '/', shared by every URI (the recorded run's root)."""
    prefix: str | None = None
    for u in uris:
        if prefix is None:
            prefix = u[: u.rfind("/") + 1]
            continue
        n = 0
        for a, b in zip(prefix, u, strict=False):
            if a != b:
                break
            n += 1
        prefix = prefix[:n]
    if not prefix:
        return ""
    return prefix[: prefix.rfind("/") + 1]


@dataclass
class ReplayResult:
    """What a replay did: operations issued and failed per op, skipped rows, wall time, first errors."""

    issued: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    bytes: int = 0
    elapsed_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.issued.values())

    @property
    def total_failed(self) -> int:
        return sum(self.failed.values())


class _Zeros:
    """A growing buffer of zeros sliced (no copy) for replayed PUTs."""

    def __init__(self) -> None:
        self.buf = memoryview(bytes(0))
        self.lock = threading.Lock()

    def get(self, n: int) -> memoryview:
        if n > self.buf.nbytes:
            with self.lock:
                if n > self.buf.nbytes:
                    self.buf = memoryview(bytes(max(n, 2 * self.buf.nbytes)))
        return self.buf[:n]


def _execute(rec: OpLogRecord, uri: str, zeros: _Zeros) -> int:
    store, _ = store_for_uri(uri)
    op = rec.op
    if op == "GET":
        return len(store.get(uri))
    if op == "GET_RANGE":
        return len(store.get_range(uri, 0, rec.bytes))
    if op == "PUT":
        store.put(uri, zeros.get(rec.bytes))
        return rec.bytes
    if op in ("HEAD", "STAT"):
        store.stat(uri)
        return 0
    if op == "LIST":
        store.list(uri, recursive=True)
        return 0
    if op == "DELETE":
        store.delete(uri)
        return 0
    raise ValueError(f"cannot replay op {op}")


def replay(path: str, target: str | None = None, *, source: str | None = None, speed: float | None = 1.0,
           ops: Iterable[str] | None = None, continue_on_error: bool = True,
           max_in_flight: int = 64) -> ReplayResult:
    """Re-issue the operations of the op-log `path`.

    URIs under `source` (default: the common prefix of the log's URIs) move to `target` (default: the
    recorded URIs themselves). `speed` scales the recorded timeline (2.0 = twice as fast); None or 0
    issues every operation as soon as a slot is free. `ops` keeps only those op names. With
    `continue_on_error=False` the first failure stops the replay and is raised.
    """
    if max_in_flight < 1:
        raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
    if speed is not None and speed < 0:
        raise ValueError(f"speed must be > 0 (or None/0 for as fast as possible), got {speed}")
    if target is not None and source is None:
        source = common_prefix(r.uri for r in read_op_log(path, ops=ops))
    result = ReplayResult()
    lock = threading.Lock()
    slots = threading.BoundedSemaphore(max_in_flight)
    zeros = _Zeros()
    failure: list[BaseException] = []
    stop = threading.Event()

    def run(rec: OpLogRecord, uri: str) -> None:
        try:
            n = _execute(rec, uri, zeros)
            with lock:
                result.bytes += n
        except Exception as e:
            with lock:
                result.failed[rec.op] = result.failed.get(rec.op, 0) + 1
                if len(result.errors) < 20:
                    result.errors.append(f"{rec.op} {uri}: {e}")
                if not continue_on_error and not failure:
                    failure.append(e)
                    stop.set()
        finally:
            slots.release()

    t0 = time.monotonic()
    first_start: int | None = None
    with ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="s3dlio-replay") as pool:
        for rec in read_op_log(path, ops=ops):
            if stop.is_set():
                break
            if rec.op not in REPLAYABLE_OPS:
                result.skipped += 1
                continue
            uri = rec.uri if target is None else translate_uri(rec.uri, source or "", target)
            if speed:
                if first_start is None:
                    first_start = rec.start_ns
                due = t0 + (rec.start_ns - first_start) / 1e9 / speed
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            slots.acquire()
            result.issued[rec.op] = result.issued.get(rec.op, 0) + 1
            pool.submit(run, rec, uri)
    result.elapsed_s = time.monotonic() - t0
    if failure:
        raise failure[0]
    log.info("replayed %d ops (%d failed) from %s in %.3fs", result.total, result.total_failed, path,
             result.elapsed_s)
    return result


def _as_dict(r: ReplayResult) -> dict[str, Any]:
    return {"issued": r.issued, "failed": r.failed, "skipped": r.skipped, "bytes": r.bytes,
            "elapsed_s": round(r.elapsed_s, 6), "errors": r.errors}
