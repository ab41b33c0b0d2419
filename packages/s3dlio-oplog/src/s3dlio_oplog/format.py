"""The op-log file format: a zstd-compressed UTF-8 TSV with the original's 13 columns.

Rows are formatted here (in the writer process, never on the caller's thread). Timestamps are RFC 3339
UTC with nine fractional digits (`2026-11-21T07:27:58.563056017Z`).
"""

from __future__ import annotations

import calendar
import time

__all__ = [
    "COLUMNS",
    "HEADER",
    "RowFormatter",
    "format_ts",
    "parse_ts",
    "split_endpoint",
]

COLUMNS = ("idx", "thread", "op", "client_id", "n_objects", "bytes", "endpoint", "file", "error", "start",
           "first_byte", "end", "duration_ns")
HEADER = "\t".join(COLUMNS) + "\n"
_LOCAL = frozenset({"file", "direct"})
# ops whose first byte, when the store did not report one, is the start (writes) or the end (reads)
_FB_START = frozenset({"PUT"})
_FB_END = frozenset({"GET", "GET_RANGE"})
_NS = 1_000_000_000
_TS = "%s%09dZ"
_ROW = "%d\t%s\t%s\t\t%d\t%d\t%s\t%s\t%s\t%s%09dZ\t%s\t%s%09dZ\t%d\n"


def _second_prefix(sec: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(sec))


def format_ts(ns: int) -> str:
    """RFC 3339 UTC with nanoseconds for a `time.time_ns()` value."""
    sec, frac = divmod(ns, _NS)
    return f"{_second_prefix(sec)}{frac:09d}Z"


def parse_ts(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 timestamp (`Z` or `+HH:MM`; any fraction length)."""
    s = text.strip()
    if not s:
        raise ValueError("empty timestamp")
    offset = 0
    if s[-1] in "Zz":
        s = s[:-1]
    elif len(s) > 6 and s[-6] in "+-" and s[-3] == ":":
        sign = 1 if s[-6] == "+" else -1
        offset = sign * (int(s[-5:-3]) * 3600 + int(s[-2:]) * 60)
        s = s[:-6]
    frac_ns = 0
    if "." in s:
        s, frac = s.split(".", 1)
        frac_ns = int((frac + "000000000")[:9])
    tm = time.strptime(s.replace(" ", "T"), "%Y-%m-%dT%H:%M:%S")
    return (calendar.timegm(tm) - offset) * _NS + frac_ns


def split_endpoint(uri: str) -> tuple[str, str]:
    """(endpoint, file) of a URI the original's way: `file://`/`direct://` for local paths, else
    scheme + first segment (`s3://bucket`); file = the URI minus `scheme://`."""
    i = uri.find("://")
    if i < 0:
        return "", uri
    scheme = uri[:i]
    rest = uri[i + 3:]
    if scheme.lower() in _LOCAL:
        return scheme + "://", rest
    j = rest.find("/")
    return scheme + "://" + (rest if j < 0 else rest[:j]), rest




class RowFormatter:
    """Turns raw records into TSV rows, numbering them and counting what had to be cleaned or rejected."""

    def __init__(self) -> None:
        self.idx = 0
        self.written = 0
        self.rejected_unformattable = 0
        self.rejected_unsafe_field = 0
        self.normalized_error_text = 0
        self._sec = -1
        self._prefix = ""
        self._prefixes: dict[int, str] = {}
        self._threads: dict[int, str] = {}

    def _ts(self, ns: int) -> str:
        sec, frac = divmod(ns, _NS)
        if sec != self._sec:
            self._sec = sec
            self._prefix = _second_prefix(sec)
        return f"{self._prefix}{frac:09d}Z"

    def row(self, rec: tuple) -> str | None:
        """One TSV line for a record `(op, uri, bytes, start, first_byte, end, error, n_objects, thread)`,
        or None when it cannot be written safely (it still consumes an idx, leaving a gap)."""
        idx = self.idx
        self.idx = idx + 1
        try:
            op, uri, nbytes, start, fb, end, error, n_objects, thread = rec[:9]
            client_id = rec[9] if len(rec) > 9 else ""
            endpoint, path = split_endpoint(uri)
            if error:
                if "\t" in error or "\n" in error or "\r" in error:
                    error = error.replace("\t", " ").replace("\n", " ").replace("\r", " ")
                    self.normalized_error_text += 1
            else:
                error = ""
            sec, frac = divmod(start, _NS)
            if sec != self._sec:
                self._sec = sec
                self._prefix = _second_prefix(sec)
            t_start = f"{self._prefix}{frac:09d}Z"
            t_end = self._ts(end)
            if fb:
                first = self._ts(fb)
            elif op in _FB_END:
                first = t_end
            elif op in _FB_START:
                first = t_start
            else:
                first = ""
            line = (f"{idx}\t{thread}\t{op}\t{client_id}\t{n_objects:d}\t{nbytes:d}\t{endpoint}\t{path}\t"
                    f"{error}\t{t_start}\t{first}\t{t_end}\t{end - start:d}\n")
        except Exception:
            self.rejected_unformattable += 1
            return None
        if line.count("\t") != 12 or line.count("\n") != 1 or "\r" in line:
            self.rejected_unsafe_field += 1  # a TAB/LF/CR inside the URI, op or client id
            return None
        self.written += 1
        return line

    def rows(self, batch: list[tuple]) -> str:
        """The TSV lines of a whole batch. A fast path formats the usual records with one `%` per row;
        a batch with anything unusual (bad types, TAB/LF/CR in a field, errors to clean) goes row by row."""
        idx0 = self.idx
        try:
            text = self._fast(batch)
        except Exception:
            text = None
        if text is not None and text.count("\n") == len(batch) and text.count("\t") == 12 * len(batch) and (
                "\r" not in text):
            self.idx = idx0 + len(batch)
            self.written += len(batch)
            return text
        self.idx = idx0
        return "".join(line for line in map(self.row, batch) if line is not None)

    def _fast(self, batch: list[tuple]) -> str | None:
        prefixes = self._prefixes
        if len(prefixes) > 64:
            prefixes.clear()
        threads = self._threads
        if len(threads) > 4096:
            threads.clear()
        out = []
        append = out.append
        idx = self.idx
        for op, uri, nbytes, start, fb, end, error, n_objects, thread in batch:
            if error and ("\t" in error or "\n" in error or "\r" in error):
                return None
            ss, sf = divmod(start, _NS)
            es, ef = divmod(end, _NS)
            sp = prefixes.get(ss)
            if sp is None:
                sp = prefixes[ss] = _second_prefix(ss)
            ep = prefixes.get(es)
            if ep is None:
                ep = prefixes[es] = _second_prefix(es)
            th = threads.get(thread)
            if th is None:
                th = threads[thread] = str(int(thread))
            if uri.startswith("file://"):  # the common case, without a call
                endpoint = "file://"
                path = uri[7:]
            else:
                endpoint, path = split_endpoint(uri)
                if not endpoint:
                    return None  # no scheme: the general path formats it
            if fb:
                fs, ff = divmod(fb, _NS)
                first = _TS % (prefixes.get(fs) or _second_prefix(fs), ff)
            elif op in _FB_END:
                first = _TS % (ep, ef)
            elif op in _FB_START:
                first = _TS % (sp, sf)
            else:
                first = ""
            append(_ROW % (idx, th, op, n_objects, nbytes, endpoint, path, error or "", sp, sf, first, ep, ef,
                           end - start))
            idx += 1
        return "".join(out)

    def counters(self) -> dict[str, int]:
        return {"written": self.written, "rejected_unformattable": self.rejected_unformattable,
                "rejected_unsafe_field": self.rejected_unsafe_field,
                "normalized_error_text": self.normalized_error_text}
