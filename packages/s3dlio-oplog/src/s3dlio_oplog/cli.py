"""`s3-cli oplog show|stats|plot|replay`: look at, draw and replay op-logs from the shell.

`main(argv)` takes the arguments after `oplog` and returns the exit status.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from typing import TextIO

from .format import format_ts
from .reader import OpLogRecord, read_op_log, summarize
from .replay import _as_dict, replay

__all__ = ["main"]


def _ts_arg(v: str) -> int:
    from .format import parse_ts

    return int(v) if v.isdigit() else parse_ts(v)


def _size_arg(v: str) -> tuple[int, int]:
    w, sep, h = v.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT in pixels, e.g. 1200x900 (got {v!r})")
    return int(w), int(h)


def _default_image(log: str) -> str:
    base = os.path.basename(log)
    for ext in (".zst", ".tsv", ".csv"):
        if base.endswith(ext):
            base = base[: -len(ext)]
    return (base or "oplog") + ".png"


def _plot(a: argparse.Namespace, out: TextIO) -> int:
    from .plot import DEFAULT_DPI, DEFAULT_SIZE, PlotUnavailableError, plot_op_log

    output = a.output or _default_image(a.paths[0])
    try:
        res = plot_op_log(a.paths, output, ops=a.ops, start_ns=a.since, end_ns=a.until,
                          errors=True if a.errors else (False if a.ok else None), bin_s=a.bin_s,
                          size=a.size or DEFAULT_SIZE, dpi=a.dpi or DEFAULT_DPI, title=a.title)
    except PlotUnavailableError as e:
        sys.stderr.write(f"s3-cli oplog plot: {e}\n")
        return 1
    out.write(f"wrote {res.path} ({res.width}x{res.height}): {res.rows} ops of {', '.join(res.ops)} over "
              f"{res.span_s:.3f} s in bins of {res.bin_s:g} s\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="s3-cli oplog", description="Show, summarise, draw and replay s3dlio op-logs.")
    sub = p.add_subparsers(dest="cmd", required=True)

    def filters(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("paths", nargs="+", metavar="path",
                        help="op-log file(s) (.tsv.zst, .tsv, .csv[.zst]); several are read one after another "
                             "(e.g. a run's log and its workers' <path>.<pid> logs)")
        sp.add_argument("--op", action="append", dest="ops", metavar="OP",
                        help="keep only this op (repeatable; e.g. GET, PUT)")
        sp.add_argument("--since", type=_ts_arg, help="rows starting at or after (RFC 3339 or ns)")
        sp.add_argument("--until", type=_ts_arg, help="rows starting before (RFC 3339 or ns)")
        g = sp.add_mutually_exclusive_group()
        g.add_argument("--errors", action="store_true", help="failed rows only")
        g.add_argument("--ok", action="store_true", help="successful rows only")

    sp = sub.add_parser("show", help="print rows")
    filters(sp)
    sp.add_argument("-n", "--limit", type=int, default=0, help="at most N rows (0 = all)")
    sp.add_argument("--json", action="store_true", help="one JSON object per row")
    sp = sub.add_parser("stats", help="ops, bytes and latency percentiles per op")
    filters(sp)
    sp.add_argument("--json", action="store_true", help="print the summary as JSON")
    sp = sub.add_parser("plot", help="draw throughput over time and latency percentiles per op (needs the "
                                     "'plot' extra: matplotlib)")
    filters(sp)
    sp.add_argument("-o", "--output", help="image to write; .png, .svg or .pdf (default: the first log's name "
                                           "with .png)")
    sp.add_argument("--bin", type=float, dest="bin_s", metavar="SECONDS",
                    help="width of a time bin (default: about 120 bins over the run)")
    sp.add_argument("--size", type=_size_arg, default=None, metavar="WxH",
                    help="image size in pixels (default 1200x900)")
    sp.add_argument("--dpi", type=int, default=None, help="dots per inch (default 100)")
    sp.add_argument("--title", help="title of the top panel (default: totals of the run)")
    sp = sub.add_parser("replay", help="re-issue the logged operations")
    sp.add_argument("path")
    sp.add_argument("--target", help="URI prefix to replay against (default: the recorded URIs)")
    sp.add_argument("--source", help="recorded prefix to replace (default: common prefix of the log)")
    sp.add_argument("--speed", type=float, default=1.0, help="timeline speed-up (default 1.0)")
    sp.add_argument("--fast", action="store_true", help="ignore the recorded timing")
    sp.add_argument("--op", action="append", dest="ops", metavar="OP", help="replay only this op")
    sp.add_argument("-j", "--max-in-flight", type=int, default=64)
    sp.add_argument("--stop-on-error", action="store_true")
    return p


def _filtered(a: argparse.Namespace) -> Iterator[OpLogRecord]:
    errors = True if a.errors else (False if a.ok else None)
    for path in a.paths:
        yield from read_op_log(path, ops=a.ops, start_ns=a.since, end_ns=a.until, errors=errors)


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.3f}"


def _opt_ms(v: dict, key: str) -> str:
    return _ms(v[key]) if key in v else "-"


def main(argv: list[str]) -> int:
    """Run `s3-cli oplog <show|stats|replay> ...`; returns the exit status."""
    try:
        a = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    out = sys.stdout
    try:
        if a.cmd == "show":
            for n, r in enumerate(_filtered(a), 1):
                if a.json:
                    out.write(json.dumps({
                        "idx": r.idx, "thread": r.thread, "op": r.op, "client_id": r.client_id,
                        "n_objects": r.n_objects, "bytes": r.bytes, "endpoint": r.endpoint, "file": r.file,
                        "error": r.error, "start_ns": r.start_ns, "first_byte_ns": r.first_byte_ns,
                        "end_ns": r.end_ns, "duration_ns": r.duration_ns}) + "\n")
                else:
                    out.write(f"{r.idx}\t{format_ts(r.start_ns)}\t{r.op}\t{r.bytes}\t{_ms(r.duration_ns)}ms\t"
                              f"{r.uri}\t{r.error}\n")
                if a.limit and n >= a.limit:
                    break
        elif a.cmd == "stats":
            s = summarize(_filtered(a))
            if a.json:
                out.write(json.dumps(s, indent=2) + "\n")
            else:
                out.write(f"{'op':<10} {'count':>9} {'errors':>7} {'bytes':>14} {'mean_ms':>9} {'p50_ms':>9} "
                          f"{'p90_ms':>9} {'p99_ms':>9} {'max_ms':>9} {'ttfb_p50':>9} {'ttfb_p99':>9}\n")
                for op, v in s.items():
                    out.write(f"{op:<10} {v['count']:>9} {v['errors']:>7} {v['bytes']:>14} {_ms(v['mean_ns']):>9} "
                              f"{_ms(v['p50_ns']):>9} {_ms(v['p90_ns']):>9} {_ms(v['p99_ns']):>9} "
                              f"{_ms(v['max_ns']):>9} {_opt_ms(v, 'ttfb_p50_ns'):>9} "
                              f"{_opt_ms(v, 'ttfb_p99_ns'):>9}\n")
                wall = s["TOTAL"]["wall_ns"]
                if wall:
                    out.write(f"wall {wall / 1e9:.3f}s, {s['TOTAL']['count'] / (wall / 1e9):.1f} ops/s, "
                              f"{s['TOTAL']['bytes'] / (wall / 1e9) / 1e6:.2f} MB/s\n")
        elif a.cmd == "plot":
            return _plot(a, out)
        else:
            res = replay(a.path, a.target, source=a.source, speed=None if a.fast else a.speed, ops=a.ops,
                         continue_on_error=not a.stop_on_error, max_in_flight=a.max_in_flight)
            out.write(json.dumps(_as_dict(res)) + "\n")
            return 1 if res.total_failed else 0
    except (OSError, ValueError, RuntimeError) as e:
        sys.stderr.write(f"s3-cli oplog {a.cmd}: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
