"""Reading op-logs: rows as typed records, filters, and a per-op summary.

Reads the way warp-replay reads a trace: zstd (any number of frames) or plain text, TSV or CSV, columns
located by header name (`op` or `operation`; `start`/`t_start_ns`; RFC 3339 or integer nanoseconds), in
constant memory. A log whose writer was killed is read up to its last complete frame and line.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from .format import parse_ts

__all__ = ["OpLogRecord", "read_op_log", "iter_lines", "summarize", "percentile"]

log = logging.getLogger("s3dlio.oplog")
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ALIASES = {
    "operation": "op", "t_start_ns": "start", "start_ns": "start", "t_end_ns": "end", "end_ns": "end",
    "size": "bytes", "key": "file", "path": "file", "uri": "file",
}


@dataclass(frozen=True, slots=True)
class OpLogRecord:
    """One row of an op-log; times are nanoseconds since the epoch (first_byte_ns None when empty)."""

    idx: int
    thread: str
    op: str
    client_id: str
    n_objects: int
    bytes: int
    endpoint: str
    file: str
    error: str
    start_ns: int
    first_byte_ns: int | None
    end_ns: int
    duration_ns: int

    @property
    def uri(self) -> str:
        """The full URI the operation addressed (endpoint scheme + file)."""
        scheme = self.endpoint.split("://", 1)[0] if "://" in self.endpoint else ""
        return f"{scheme}://{self.file}" if scheme else self.file

    @property
    def ok(self) -> bool:
        return not self.error


def _open_text(path: str) -> IO[str]:
    raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, closed by iter_lines
    head = raw.read(4)
    raw.seek(0)
    if head == _ZSTD_MAGIC or path.endswith(".zst"):
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
        return io.TextIOWrapper(io.BufferedReader(_Tolerant(reader, path)), encoding="utf-8",
                                errors="replace", newline="")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


class _Tolerant(io.RawIOBase):
    """Ends the stream quietly where a killed writer left a half-written frame."""

    def __init__(self, inner: Any, path: str) -> None:
        self.inner = inner
        self.path = path
        self.truncated = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.truncated:
            return 0
        try:
            data = self.inner.read(len(b))
        except Exception as e:  # zstandard.ZstdError: truncated input
            self.truncated = True
            log.info("op-log %s ends in an incomplete frame (%s); read up to the last complete one",
                        self.path, e)
            return 0
        n = len(data)
        b[:n] = data
        return n

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()


def iter_lines(path: str) -> Iterator[str]:
    """Complete text lines of an op-log (compressed or not), without line ends."""
    fh = _open_text(path)
    try:
        for line in fh:
            if not line.endswith("\n"):
                break  # the last line of a killed writer's file may be cut short
            yield line.rstrip("\r\n")
    finally:
        fh.close()


def _int(v: str, default: int = 0) -> int:
    v = v.strip()
    if not v:
        return default
    try:
        return int(v)
    except ValueError:
        return int(float(v))


def _time(v: str) -> int | None:
    v = v.strip()
    if not v:
        return None
    if v.isdigit():
        return int(v)
    return parse_ts(v)


def read_op_log(path: str, *, ops: Iterable[str] | None = None, start_ns: int | None = None,
                end_ns: int | None = None, errors: bool | None = None) -> Iterator[OpLogRecord]:
    """Stream the rows of an op-log as `OpLogRecord`s.

    Filters: `ops` (names, case-insensitive; HEAD and STAT are the same), rows that start in
    [`start_ns`, `end_ns`), and `errors` (True: failed rows only; False: successful rows only).
    """
    want = None if ops is None else {_canon_op(o) for o in ops}
    lines = iter_lines(path)
    header = next(lines, None)
    if header is None:
        return
    delim = "\t" if "\t" in header else ","
    names = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in _split(header, delim)]
    col = {n: i for i, n in enumerate(names)}
    if "op" not in col:
        raise ValueError(f"{path}: not an op-log (no 'op' or 'operation' column in the header)")

    def get(fields: list[str], name: str) -> str:
        i = col.get(name)
        return fields[i] if i is not None and i < len(fields) else ""

    for n, line in enumerate(lines):
        if not line:
            continue
        fields = _split(line, delim)
        op = get(fields, "op").strip().upper()
        if want is not None and _canon_op(op) not in want:
            continue
        err = get(fields, "error")
        if errors is not None and bool(err) != errors:
            continue
        try:
            start = _time(get(fields, "start")) or 0
            end_v = _time(get(fields, "end"))
            dur_s = get(fields, "duration_ns")
            dur = _int(dur_s) if dur_s.strip() else ((end_v - start) if end_v is not None else 0)
            end = end_v if end_v is not None else start + dur
            rec = OpLogRecord(
                idx=_int(get(fields, "idx"), n), thread=get(fields, "thread"), op=op,
                client_id=get(fields, "client_id"), n_objects=_int(get(fields, "n_objects"), 1),
                bytes=_int(get(fields, "bytes")), endpoint=get(fields, "endpoint"), file=get(fields, "file"),
                error=err, start_ns=start, first_byte_ns=_time(get(fields, "first_byte")), end_ns=end,
                duration_ns=dur)
        except ValueError as e:
            log.info("op-log %s: skipping unreadable row %d: %s", path, n + 1, e)
            continue
        if start_ns is not None and rec.start_ns < start_ns:
            continue
        if end_ns is not None and rec.start_ns >= end_ns:
            continue
        yield rec


def _split(line: str, delim: str) -> list[str]:
    if delim == "\t":
        return line.split("\t")
    return next(csv.reader([line]))


def _canon_op(op: str) -> str:
    op = op.strip().upper()
    return "HEAD" if op == "STAT" else op


def percentile(sorted_values: list[int], p: float) -> int:
    """The nearest-rank percentile `p` (0-100) of an ascending list (0 for an empty list)."""
    if not sorted_values:
        return 0
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def summarize(records: Iterable[OpLogRecord]) -> dict[str, dict[str, Any]]:
    """Per op: count, errors, bytes, objects, latency percentiles and, where the store reported a first
    byte, time-to-first-byte percentiles (ns); plus 'TOTAL' with the wall span.

    Latencies are kept per op to compute exact percentiles (8 bytes a row)."""
    from array import array

    per: dict[str, dict[str, Any]] = {}
    lat: dict[str, array] = {}
    ttfb: dict[str, array] = {}
    first_start: int | None = None
    last_end = 0
    for r in records:
        s = per.get(r.op)
        if s is None:
            s = per[r.op] = {"count": 0, "errors": 0, "bytes": 0, "n_objects": 0}
            lat[r.op] = array("q")
            ttfb[r.op] = array("q")
        s["count"] += 1
        s["bytes"] += r.bytes
        s["n_objects"] += r.n_objects
        if r.error:
            s["errors"] += 1
        lat[r.op].append(r.duration_ns)
        if r.first_byte_ns is not None and r.start_ns < r.first_byte_ns < r.end_ns:  # a reported first byte
            ttfb[r.op].append(r.first_byte_ns - r.start_ns)
        first_start = r.start_ns if first_start is None else min(first_start, r.start_ns)
        last_end = max(last_end, r.end_ns)
    out: dict[str, dict[str, Any]] = {}
    all_lat: list[int] = []
    for op in sorted(per):
        vals = sorted(lat[op])
        all_lat.extend(vals)
        out[op] = {**per[op], **_latency(vals)}
        if ttfb[op]:
            t = sorted(ttfb[op])
            out[op].update(ttfb_p50_ns=percentile(t, 50), ttfb_p99_ns=percentile(t, 99))
    all_lat.sort()
    total = {
        "count": sum(s["count"] for s in per.values()), "errors": sum(s["errors"] for s in per.values()),
        "bytes": sum(s["bytes"] for s in per.values()),
        "n_objects": sum(s["n_objects"] for s in per.values()), **_latency(all_lat),
        "wall_ns": (last_end - first_start) if first_start is not None else 0,
    }
    out["TOTAL"] = total
    return out


def _latency(vals: list[int]) -> dict[str, int]:
    return {
        "mean_ns": (sum(vals) // len(vals)) if vals else 0, "min_ns": vals[0] if vals else 0,
        "p50_ns": percentile(vals, 50), "p90_ns": percentile(vals, 90), "p99_ns": percentile(vals, 99),
        "max_ns": vals[-1] if vals else 0,
    }
