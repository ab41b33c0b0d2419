"""Pictures of an op-log: throughput and operation rate over time, and latency percentiles per operation.

`plot_op_log(paths, output)` reads one or more op-logs (a run's log and its workers' `<path>.<pid>` logs)
in one streaming pass and writes one image (PNG, SVG or PDF by the output's extension) with three panels:

1. throughput (MB/s) over time per op and in total, each operation's bytes spread evenly over its own
   [start, end] (a 2-second GET adds to every bin it spans, not only to the one it ended in);
2. operations completed per second over time, per op;
3. latency percentiles per op (p50, p90, p99 and the maximum; log scale, in ms), with time to first byte
   (p50) where the store reported one, and each op's count and error count.

Drawing uses matplotlib's object API with the Agg renderer: no display is needed and the caller's pyplot
backend is left alone. matplotlib is an optional extra: `pip install 's3dlio-oplog[plot]'` (or
`'s3dlio[plot]'`); without it, `plot_op_log` raises `PlotUnavailableError` (an ImportError) that says so.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .reader import OpLogRecord, read_op_log, summarize

__all__ = ["plot_op_log", "PlotResult", "PlotUnavailableError", "DEFAULT_SIZE", "DEFAULT_DPI"]

DEFAULT_SIZE = (1200, 900)  # pixels
DEFAULT_DPI = 100
_TARGET_BINS = 120
_NICE = (1, 2, 5)


class PlotUnavailableError(ImportError):
    """matplotlib (the `plot` extra) is not installed."""


@dataclass(frozen=True, slots=True)
class PlotResult:
    """What was drawn: the image path and size, and the rows, ops and time span it covers."""

    path: str
    width: int
    height: int
    rows: int
    ops: tuple[str, ...]
    span_s: float
    bin_s: float


def _matplotlib() -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise PlotUnavailableError(
            "op-log plots need matplotlib: pip install 's3dlio-oplog[plot]' (or 's3dlio[plot]')") from e
    return Figure, FigureCanvasAgg


def _nice_bin(span_s: float) -> float:
    """A 1-2-5 bin width giving about _TARGET_BINS bins over `span_s` (at least 1 ms)."""
    raw = max(span_s / _TARGET_BINS, 1e-3)
    exp = math.floor(math.log10(raw))
    for m in _NICE:
        if m * 10**exp >= raw:
            return m * 10**exp
    return 10 ** (exp + 1)


class _Collector:
    """Per op, the start, end and bytes of every row (compact arrays: 24 bytes a row), gathered while the
    rows stream past on their way into `summarize`."""

    def __init__(self) -> None:
        self.start: dict[str, array] = {}
        self.end: dict[str, array] = {}
        self.nbytes: dict[str, array] = {}
        self.t0: int | None = None
        self.t1 = 0
        self.rows = 0

    def feed(self, records: Iterable[OpLogRecord]) -> Iterator[OpLogRecord]:
        for r in records:
            s = self.start.get(r.op)
            if s is None:
                s = self.start[r.op] = array("q")
                self.end[r.op] = array("q")
                self.nbytes[r.op] = array("q")
            s.append(r.start_ns)
            self.end[r.op].append(r.end_ns)
            self.nbytes[r.op].append(r.bytes if not r.error else 0)
            self.t0 = r.start_ns if self.t0 is None else min(self.t0, r.start_ns)
            self.t1 = max(self.t1, r.end_ns)
            self.rows += 1
            yield r


def _spread(np: Any, start: Any, end: Any, weight: Any, edges: Any) -> Any:
    """Per bin of the equal-width `edges`, the part of each row's `weight` that falls in it when spread
    evenly over the row's [start, end]; a row inside one bin (most rows) adds all of it there.

    Exact, and bounded: the rows that span several bins add one term per bin they span, and those terms
    number about (concurrency x bins) however many rows the log has."""
    n = len(edges) - 1
    width = float(edges[1] - edges[0])
    i0 = np.clip(np.floor(start / width).astype(np.int64), 0, n - 1)
    i1 = np.clip(np.floor(end / width).astype(np.int64), 0, n - 1)
    out = np.zeros(n, dtype=np.float64)
    one = i0 == i1
    np.add.at(out, i0[one], weight[one])
    many = ~one
    if many.any():
        s, e, w, a, b = start[many], end[many], weight[many], i0[many], i1[many]
        counts = b - a + 1
        row = np.repeat(np.arange(len(s)), counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        idx = a[row] + (np.arange(len(row)) - first)  # every bin each row spans
        lo = np.maximum(s[row], edges[idx])
        hi = np.minimum(e[row], edges[idx + 1])
        np.add.at(out, idx, w[row] * (hi - lo) / (e - s)[row])
    return out


def plot_op_log(paths: str | Sequence[str], output: str, *, ops: Iterable[str] | None = None,
                start_ns: int | None = None, end_ns: int | None = None, errors: bool | None = None,
                bin_s: float | None = None,
                size: tuple[int, int] = DEFAULT_SIZE, dpi: int = DEFAULT_DPI, title: str | None = None
                ) -> PlotResult:
    """Draw the op-log(s) at `paths` into the image `output` (format from its extension); returns what
    was drawn.

    `ops`, `start_ns`, `end_ns` and `errors` filter rows as `read_op_log` does; `bin_s` is the width of a time bin in
    seconds (default: about 120 bins over the run); `size` is the image size in pixels at `dpi`.
    Raises PlotUnavailableError without matplotlib, ValueError for bad arguments or a log with no rows,
    OSError if a log cannot be read or the image cannot be written.
    """
    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        raise ValueError("plot_op_log needs at least one op-log path")
    w, h = (int(size[0]), int(size[1]))
    if w < 200 or h < 200:
        raise ValueError(f"image size {w}x{h} is too small to draw on (at least 200x200 pixels)")
    if dpi < 10:
        raise ValueError(f"dpi must be at least 10, got {dpi}")
    if bin_s is not None and not bin_s > 0:
        raise ValueError(f"bin width must be > 0 seconds, got {bin_s}")
    Figure, FigureCanvasAgg = _matplotlib()
    import numpy as np

    col = _Collector()

    def rows() -> Iterator[OpLogRecord]:
        for p in paths:
            yield from read_op_log(p, ops=ops, start_ns=start_ns, end_ns=end_ns, errors=errors)

    stats = summarize(col.feed(rows()))
    if not col.rows or col.t0 is None:
        raise ValueError(f"no op-log rows to plot in {', '.join(paths)}")
    t0 = col.t0
    span = max((col.t1 - t0) / 1e9, 1e-3)
    width_s = bin_s or _nice_bin(span)
    nbins = max(1, math.ceil(span / width_s))
    edges = np.arange(nbins + 1, dtype=np.float64) * width_s
    centers = (edges[:-1] + edges[1:]) / 2
    names = sorted(col.start)

    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax_tp, ax_rate, ax_lat = fig.subplots(3, 1, gridspec_kw={"height_ratios": [3, 2, 3]})
    colors = {op: f"C{i % 10}" for i, op in enumerate(names)}
    total_mb = np.zeros(nbins)
    for op in names:
        s = (np.frombuffer(col.start[op], dtype=np.int64) - t0) / 1e9
        e = (np.frombuffer(col.end[op], dtype=np.int64) - t0) / 1e9
        b = np.frombuffer(col.nbytes[op], dtype=np.int64).astype(np.float64)
        done, _ = np.histogram(e, bins=edges)
        ax_rate.plot(centers, done / width_s, color=colors[op], label=op, linewidth=1.2)
        if b.any():
            mbps = _spread(np, s, e, b, edges) / width_s / 1e6
            total_mb += mbps
            ax_tp.plot(centers, mbps, color=colors[op], label=op, linewidth=1.2)
    if sum(1 for op in names if stats[op]["bytes"]) > 1:
        ax_tp.plot(centers, total_mb, color="black", label="total", linewidth=1.6, linestyle="--")
    total = stats["TOTAL"]
    wall = max(total["wall_ns"] / 1e9, 1e-9)
    ax_tp.set_title(title or f"{total['count']:,} ops, {total['bytes'] / 1e6:,.1f} MB in {wall:.2f} s "
                             f"({total['bytes'] / wall / 1e6:,.1f} MB/s, {total['count'] / wall:,.0f} ops/s)",
                    fontsize=11)
    ax_tp.set_ylabel("throughput (MB/s)")
    ax_rate.set_ylabel("ops/s")
    ax_rate.set_xlabel(f"time since first operation (s); bins of {width_s:g} s")
    for ax in (ax_tp, ax_rate):
        ax.set_xlim(0, edges[-1])
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize=8, ncol=min(6, len(names) + 1))
    if not any(stats[op]["bytes"] for op in names):
        ax_tp.text(0.5, 0.5, "no bytes transferred", ha="center", va="center", transform=ax_tp.transAxes)

    _latency_panel(np, ax_lat, names, stats, colors)
    fig.tight_layout()
    fig.savefig(output, dpi=dpi)
    return PlotResult(output, w, h, col.rows, tuple(names), span, width_s)


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}" + ("" if n == 1 else "s")


def _latency_panel(np: Any, ax: Any, names: list[str], stats: dict[str, dict[str, Any]],
                   colors: dict[str, str]) -> None:
    """Grouped bars of p50 / p90 / p99 / max latency per op (ms, log scale), TTFB p50 as a marker."""
    keys = (("p50_ns", "p50", 1.0), ("p90_ns", "p90", 0.75), ("p99_ns", "p99", 0.5), ("max_ns", "max", 0.25))
    x = np.arange(len(names))
    width = 0.8 / len(keys)
    floor = 1e-3  # ms: a log axis cannot show 0
    for j, (key, label, alpha) in enumerate(keys):
        vals = [max(stats[op][key] / 1e6, floor) for op in names]
        ax.bar(x + (j - (len(keys) - 1) / 2) * width, vals, width, label=label, color="C0", alpha=alpha,
               edgecolor="C0")
    ttfb = [(i, stats[op]["ttfb_p50_ns"] / 1e6) for i, op in enumerate(names) if "ttfb_p50_ns" in stats[op]]
    if ttfb:
        ax.scatter([i for i, _ in ttfb], [max(v, floor) for _, v in ttfb], marker="D", color="C3", zorder=3,
                   label="TTFB p50")
    ax.set_yscale("log")
    top = max(max(stats[op]["max_ns"] for op in names) / 1e6, floor)
    ax.set_ylim(top=top * 8)  # headroom above the tallest bar for the legend
    ax.set_ylabel("latency (ms)")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{op}\n{_count(stats[op]['count'], 'op')}"
                        + (f", {_count(stats[op]['errors'], 'error')}" if stats[op]["errors"] else "")
                        for op in names], fontsize=9)
    for tick, op in zip(ax.get_xticklabels(), names, strict=True):
        tick.set_color(colors[op])
    ax.grid(True, axis="y", alpha=0.3, which="both")
    ax.legend(loc="upper right", fontsize=8, ncol=5)
    ax.set_title("latency percentiles per operation", fontsize=10)
