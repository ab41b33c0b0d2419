"""Parquet on any store: the original 0.10.0 API (needs pyarrow: `pip install 's3dlio-ml[parquet]'`).

Generation (`generate_parquet_bytes`, `..._schema`, `generate_and_write_parquet*`): float32 columns of
random bits (`(name, n)`: n == 1 a `float` column, n > 1 a `fixed_size_list<float>[n]`), one row group of
`rows_per_rg` rows at a time, uncompressed, PLAIN, no statistics, as the original's files. The `_streaming`
form writes each row group through the store's streaming writer as soon as it is made (any scheme; the
original's takes s3:// only), so memory holds about one row group.

Row-group access (`parquet_get_rg`, `parquet_rg_row_offsets`, `PyParquetIndex`): the footer is read with
one suffix range of min(footer_cap, 64 KiB) bytes (a second one of its exact size only when the footer is
larger) and parsed once per process (`parquet_cache_*`); a row group then costs one ranged read of its column chunks (only those of
`col_indices`). `decode="arrow"` returns the row group as an Arrow IPC stream, "raw" (or "none") the
column-chunk bytes as stored.

`iter_parquet_row_groups` streams (file_uri, rg_idx, data) items of many files in completion order with
bounded concurrency: the building block of `create_async_loader(uri, {"format": "parquet", ...})`.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

from s3dlio_core import BytesView, ObjectStore, shared_executor
from s3dlio_core.errors import S3dlioError, UnsupportedOperationError

from ._store import resolve
from .errors import FormatError, TruncatedError

__all__ = ["generate_parquet_bytes", "generate_parquet_bytes_schema", "generate_and_write_parquet",
           "generate_and_write_parquet_schema", "generate_and_write_parquet_schema_streaming",
           "parquet_rg_row_offsets", "parquet_get_rg", "parquet_cache_len", "parquet_cache_invalidate",
           "parquet_cache_clear", "PyParquetIndex", "PyParquetItem", "iter_parquet_row_groups",
           "parquet_metadata", "ParquetFooter", "DEFAULT_FOOTER_CAP", "NotIndexedError", "OutOfRangeError"]

log = logging.getLogger("s3dlio.formats.parquet")

DEFAULT_FOOTER_CAP = 4 << 20
FIRST_FOOTER_READ = 64 << 10  # most footers fit; a larger one costs one more suffix read of its exact size
MAGIC = b"PAR1"
DECODES = ("arrow", "raw", "none")


class NotIndexedError(S3dlioError, KeyError):
    """A PyParquetIndex lookup for a file or row group that is not indexed."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class OutOfRangeError(S3dlioError, IndexError):
    """A row-group index or sample index past the end of its file."""


def _pa() -> tuple[Any, Any]:
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise UnsupportedOperationError(
            "Parquet needs pyarrow: pip install 's3dlio-ml[parquet]' (or 's3dlio[parquet]')") from None
    return pa, pq


# ---------------------------------------------------------------- generation
def _check_int(v: Any, name: str, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < low:
        raise ValueError(f"{name} must be >= {low}, got {v}")
    return v


def _check_columns(columns: Any) -> list[tuple[str, int]]:
    try:
        cols = [(str(c[0]), c[1]) for c in columns if len(c) == 2]
        ok = len(cols) == len(columns)
    except TypeError:
        ok = False
    if not ok or not cols:
        raise ValueError(f"columns must be a non-empty list of (name, num_float32_per_row) pairs, got "
                         f"{columns!r:.200}")
    for name, n in cols:
        _check_int(n, f"num_float32_per_row of column {name!r}", 1)
    return cols


class _Schema:
    """The Arrow schema of (name, n) columns and the per-row-group table builder."""

    def __init__(self, cols: list[tuple[str, int]]) -> None:
        pa, _ = _pa()
        self.pa = pa
        self.cols = cols
        fields = []
        for name, n in cols:
            t = pa.float32() if n == 1 else pa.list_(pa.field("element", pa.float32(), nullable=False), n)
            fields.append(pa.field(name, t, nullable=False))
        self.schema = pa.schema(fields)
        self.floats_per_row = sum(n for _, n in cols)

    def table(self, rows: int) -> Any:
        """A table of `rows` rows of fresh random float32 bits (generated in one buffer)."""
        import numpy as np

        from ..datagen import generate_into_buffer

        pa = self.pa
        buf = np.empty(rows * self.floats_per_row, dtype=np.float32)
        if buf.size:
            generate_into_buffer(buf)
        arrays, p = [], 0
        for _name, n in self.cols:
            vals = pa.array(buf[p:p + rows * n], type=pa.float32())
            p += rows * n
            arrays.append(vals if n == 1 else pa.FixedSizeListArray.from_arrays(vals, n))
        return pa.Table.from_arrays(arrays, schema=self.schema)


def _writer(pq: Any, sink: Any, schema: Any) -> Any:
    return pq.ParquetWriter(sink, schema, compression="NONE", use_dictionary=False, write_statistics=False,
                            version="1.0", data_page_version="1.0")


def _write_row_groups(sink: Any, cols: list[tuple[str, int]], rows_per_rg: int, num_row_groups: int) -> None:
    sch = _Schema(cols)
    _, pq = _pa()
    with _writer(pq, sink, sch.schema) as w:
        for _ in range(num_row_groups):
            w.write_table(sch.table(rows_per_rg), row_group_size=rows_per_rg)


def _bytes(cols: list[tuple[str, int]], rows_per_rg: int, num_row_groups: int) -> BytesView:
    pa, _ = _pa()
    sink = pa.BufferOutputStream()
    _write_row_groups(sink, cols, rows_per_rg, num_row_groups)
    return BytesView.wrap(memoryview(sink.getvalue()))


def generate_parquet_bytes(num_cols: int, rows_per_rg: int, num_row_groups: int) -> BytesView:
    """A Parquet file (BytesView) of `num_cols` float32 columns col0..colN-1 of random values, in
    `num_row_groups` row groups of `rows_per_rg` rows."""
    _check_int(num_cols, "num_cols", 1)
    cols = [(f"col{i}", 1) for i in range(num_cols)]
    return _bytes(cols, _check_int(rows_per_rg, "rows_per_rg", 1), _check_int(num_row_groups, "num_row_groups", 0))


def generate_parquet_bytes_schema(columns: Sequence[tuple[str, int]], rows_per_rg: int, num_row_groups: int
                                  ) -> BytesView:
    """A Parquet file (BytesView) of named columns: (name, 1) a float32 column, (name, n) a
    fixed_size_list<float32>[n] (an embedding) column."""
    return _bytes(_check_columns(columns), _check_int(rows_per_rg, "rows_per_rg", 1),
                  _check_int(num_row_groups, "num_row_groups", 0))


def generate_and_write_parquet(uri: str, num_cols: int, rows_per_rg: int, num_row_groups: int, *,
                               store: ObjectStore | None = None) -> None:
    """`generate_parquet_bytes(...)` written to `uri` (any scheme) with one put."""
    st, u = resolve(uri, store)
    st.put(u, generate_parquet_bytes(num_cols, rows_per_rg, num_row_groups))
    parquet_cache_invalidate(u)


def generate_and_write_parquet_schema(uri: str, columns: Sequence[tuple[str, int]], rows_per_rg: int,
                                      num_row_groups: int, *, store: ObjectStore | None = None) -> None:
    """`generate_parquet_bytes_schema(...)` written to `uri` (any scheme) with one put."""
    st, u = resolve(uri, store)
    st.put(u, generate_parquet_bytes_schema(columns, rows_per_rg, num_row_groups))
    parquet_cache_invalidate(u)


class _WriterFile:
    """The file interface pyarrow wants over an ObjectWriter (commit and abort stay with the caller)."""

    def __init__(self, w: Any) -> None:
        self._w = w
        self.closed = False

    def write(self, data: Any) -> int:
        return self._w.write(data)

    def tell(self) -> int:
        return self._w.tell()

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


def generate_and_write_parquet_schema_streaming(uri: str, columns: Sequence[tuple[str, int]],
                                                rows_per_rg: int, num_row_groups: int, *,
                                                store: ObjectStore | None = None) -> None:
    """Generate the file row group by row group and stream each one through the store's writer as it is
    made (S3: multipart parts), so memory holds about one row group; nothing is visible until the footer
    is written and the object committed, and a failure leaves no object."""
    cols = _check_columns(columns)
    rows = _check_int(rows_per_rg, "rows_per_rg", 1)
    n = _check_int(num_row_groups, "num_row_groups", 0)
    pa, _ = _pa()
    st, u = resolve(uri, store)
    with st.open_writer(u) as w:
        sink = pa.PythonFile(_WriterFile(w), mode="w")
        _write_row_groups(sink, cols, rows, n)
    parquet_cache_invalidate(u)


# ---------------------------------------------------------------- footers
@dataclass(frozen=True)
class ParquetFooter:
    """A file's parsed footer: pyarrow FileMetaData, row offsets and column-chunk byte ranges."""

    uri: str
    metadata: Any
    row_offsets: tuple[int, ...]  # len = row groups + 1
    chunks: tuple[tuple[tuple[int, int], ...], ...]  # [rg][leaf column] -> (offset, length)
    size_hint: int  # the file's size (exact when the suffix held the whole file, else a lower bound)

    @property
    def num_row_groups(self) -> int:
        return len(self.chunks)

    def span(self, rg: int, col_indices: Sequence[int] | None = None) -> tuple[int, int]:
        """(offset, length) of one contiguous range holding row group `rg`'s selected column chunks."""
        if not 0 <= rg < len(self.chunks):
            raise OutOfRangeError(f"rg_idx {rg} out of range for {self.uri!r} ({len(self.chunks)} row groups)",
                                  self.uri)
        cs = self.chunks[rg]
        sel = range(len(cs)) if col_indices is None else col_indices
        if not sel:
            raise ValueError("col_indices is empty")
        ranges = []
        for c in sel:
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < len(cs):
                raise OutOfRangeError(f"column index {c!r} out of range for {self.uri!r} ({len(cs)} columns)",
                                      self.uri)
            ranges.append(cs[c])
        start = min(o for o, _ in ranges)
        end = max(o + n for o, n in ranges)
        return start, end - start


def _read_footer(st: ObjectStore, uri: str, footer_cap: int) -> ParquetFooter:
    """Fetch and parse `uri`'s footer: one suffix range of min(footer_cap, 64 KiB) bytes, and a second
    one of exactly the footer's size when it is larger (so no more than the footer and 64 KiB is ever
    transferred for it). Raises FormatError when the object is not Parquet."""
    pa, pq = _pa()
    cap = max(8, min(int(footer_cap), FIRST_FOOTER_READ))
    tail = st.get_suffix(uri, cap)
    whole = len(tail) < cap
    if len(tail) < 8 or bytes(tail[-4:]) != MAGIC:
        raise FormatError(f"{uri!r} is not a valid Parquet file (bad magic bytes at its end)", uri)
    mlen = int.from_bytes(tail[-8:-4], "little")
    if mlen + 8 > len(tail):
        if whole:
            raise TruncatedError(f"{uri!r}: Parquet footer of {mlen} bytes is longer than the file "
                                 f"({len(tail)} bytes)", uri)
        log.debug("%s: footer of %d bytes exceeds the first %d-byte read; one more suffix read", uri, mlen, cap)
        tail = st.get_suffix(uri, mlen + 8)
        if len(tail) < mlen + 8:
            raise TruncatedError(f"{uri!r}: Parquet footer of {mlen} bytes is longer than the file", uri)
    footer = memoryview(tail)[len(tail) - mlen - 8:]
    try:
        md = pq.read_metadata(pa.BufferReader(pa.py_buffer(footer)))
    except (OSError, ValueError, pa.ArrowException) as e:
        raise FormatError(f"{uri!r}: unreadable Parquet footer ({e})", uri) from None
    offsets = [0]
    chunks = []
    top = 0
    for i in range(md.num_row_groups):
        rg = md.row_group(i)
        offsets.append(offsets[-1] + rg.num_rows)
        cols = []
        for j in range(rg.num_columns):
            c = rg.column(j)
            start = c.data_page_offset
            if c.has_dictionary_page and c.dictionary_page_offset is not None and c.dictionary_page_offset > 0:
                start = min(start, c.dictionary_page_offset)
            cols.append((start, c.total_compressed_size))
            top = max(top, start + c.total_compressed_size)
        chunks.append(tuple(cols))
    size = len(tail) if whole else max(top, 4) + mlen + 8
    return ParquetFooter(uri, md, tuple(offsets), tuple(chunks), size)


class _FooterCache:
    """The per-process footer cache (thread-safe; one fetch per file even under concurrent callers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._footers: dict[str, ParquetFooter] = {}
        self._loading: dict[str, threading.Lock] = {}

    def get(self, st: ObjectStore, uri: str, footer_cap: int) -> ParquetFooter:
        f = self._footers.get(uri)
        if f is not None:
            return f
        with self._lock:
            gate = self._loading.setdefault(uri, threading.Lock())
        with gate:
            f = self._footers.get(uri)
            if f is None:
                f = _read_footer(st, uri, footer_cap)
                with self._lock:
                    self._footers[uri] = f
                    self._loading.pop(uri, None)
        return f

    def peek(self, uri: str) -> ParquetFooter | None:
        return self._footers.get(uri)

    def __len__(self) -> int:
        return len(self._footers)

    def invalidate(self, uri: str) -> None:
        with self._lock:
            self._footers.pop(uri, None)

    def clear(self) -> None:
        with self._lock:
            self._footers.clear()


_cache = _FooterCache()


def parquet_metadata(uri: str, *, footer_cap: int = DEFAULT_FOOTER_CAP, store: ObjectStore | None = None
                     ) -> ParquetFooter:
    """The (cached) parsed footer of the Parquet object `uri`."""
    st, u = resolve(uri, store)
    return _cache.get(st, u, footer_cap)


def parquet_rg_row_offsets(uri: str, *, footer_cap: int = DEFAULT_FOOTER_CAP,
                           store: ObjectStore | None = None) -> list[int]:
    """Cumulative row offsets of the file's row groups: [0, rows of rg 0, ..., total rows] (length
    row groups + 1). The footer is fetched once per process (one suffix read) and cached."""
    return list(parquet_metadata(uri, footer_cap=footer_cap, store=store).row_offsets)


def parquet_cache_len() -> int:
    """Number of files in the process's Parquet footer cache."""
    return len(_cache)


def parquet_cache_invalidate(uri: str) -> None:
    """Drop one file's footer from the cache (after it was rewritten)."""
    _cache.invalidate(uri if "://" in uri else resolve(uri)[1])


def parquet_cache_clear() -> None:
    """Empty the footer cache."""
    _cache.clear()


# ---------------------------------------------------------------- row groups
class _SparseFile:
    """A read-only file for pyarrow over the byte ranges already fetched; any other read is fetched from
    the store (and logged), so decoding never needs the whole object."""

    def __init__(self, st: ObjectStore, uri: str, size: int, pieces: list[tuple[int, Any]]) -> None:
        self._st, self._uri, self._size = st, uri, size
        self._pieces = sorted(pieces, key=lambda p: p[0])
        self._starts = [p[0] for p in self._pieces]
        self._pos = 0
        self.closed = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = offset if whence == 0 else self._pos + offset if whence == 1 else self._size + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, n: int = -1) -> Any:
        if n is None or n < 0:
            n = max(0, self._size - self._pos)
        i = bisect.bisect_right(self._starts, self._pos) - 1
        if i >= 0:
            start, buf = self._pieces[i]
            rel = self._pos - start
            if rel + n <= len(buf):
                self._pos += n
                return memoryview(buf)[rel:rel + n]
        log.debug("%s: decode read outside the fetched ranges at %d (+%d)", self._uri, self._pos, n)
        data = self._st.get_range(self._uri, self._pos, n)
        self._pos += len(data)
        return data

    def close(self) -> None:
        self.closed = True


def _decode_arrow(st: ObjectStore, f: ParquetFooter, rg: int, cols: Sequence[int] | None, start: int,
                  buf: Any) -> BytesView:
    pa, pq = _pa()
    sparse = _SparseFile(st, f.uri, max(f.size_hint, start + len(buf)), [(start, buf)])
    pf = pq.ParquetFile(pa.PythonFile(sparse, mode="r"), metadata=f.metadata, pre_buffer=False)
    try:
        table = pf.reader.read_row_group(rg, column_indices=list(cols) if cols is not None else None,
                                         use_threads=False)
    except (OSError, ValueError, pa.ArrowException) as e:
        raise FormatError(f"{f.uri!r}: row group {rg} does not decode ({e})", f.uri, start) from None
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return BytesView.wrap(memoryview(sink.getvalue()))


def _check_decode(decode: str) -> str:
    d = str(decode).lower()
    if d not in DECODES:
        raise ValueError(f"decode must be one of {', '.join(DECODES)}, got {decode!r}")
    return d


def _fetch_rg(st: ObjectStore, f: ParquetFooter, rg: int, col_indices: Sequence[int] | None, decode: str
              ) -> BytesView:
    start, length = f.span(rg, col_indices)
    buf = st.get_range(f.uri, start, length)
    if len(buf) != length:
        raise TruncatedError(f"{f.uri!r}: row group {rg} needs bytes [{start}, {start + length}), the object "
                             f"ends after {start + len(buf)}", f.uri, start + len(buf))
    if decode == "arrow":
        return _decode_arrow(st, f, rg, col_indices, start, buf)
    return buf


def parquet_get_rg(uri: str, rg_idx: int, col_indices: Sequence[int] | None = None,
                   footer_cap: int = DEFAULT_FOOTER_CAP, decode: str = "arrow", *,
                   store: ObjectStore | None = None) -> BytesView:
    """One row group of a Parquet file: its footer from the process cache (one suffix read the first
    time), then one ranged read of that row group's column chunks (`col_indices`: those leaf columns
    only; None: all). decode="arrow": an Arrow IPC stream (`pa.ipc.open_stream(bytes(bv))`); "raw" or
    "none": the column-chunk bytes as stored. Raises OutOfRangeError for a bad index, FormatError for a
    file that is not Parquet."""
    d = _check_decode(decode)
    st, u = resolve(uri, store)
    f = _cache.get(st, u, footer_cap)
    return _fetch_rg(st, f, _check_int(rg_idx, "rg_idx", 0), col_indices, d)


# ---------------------------------------------------------------- the epoch-aware index
class PyParquetIndex:
    """Epoch-aware index of row-group byte ranges across files: (uri, rg) -> (offset, length), sample ->
    row group, and which row groups were fetched in which epoch (thread-safe).

    Footers are fetched `batch_size` at a time, concurrently (the process cache is used when it already
    holds them), and only the ranges are kept. With `col_indices`, a row group's range covers those
    columns' chunks."""

    def __init__(self, col_indices: Sequence[int] | None = None, footer_cap: int = DEFAULT_FOOTER_CAP) -> None:
        self.col_indices = None if col_indices is None else [int(c) for c in col_indices]
        self.footer_cap = _check_int(footer_cap, "footer_cap", 8)
        self._lock = threading.Lock()
        self._files: dict[str, tuple[tuple[int, ...], list[tuple[int, int]]]] = {}  # uri -> (offsets, ranges)
        self._epochs: dict[tuple[str, int], int | None] = {}

    def ensure_indexed(self, uris: Iterable[str], epoch: int = 1, batch_size: int = 16) -> None:
        """Index every URI not yet indexed (footers fetched `batch_size` at a time, concurrently)."""
        from s3dlio_core import bounded_map

        todo = [u for u in dict.fromkeys(uris) if u not in self._files]
        if not todo:
            return
        bs = _check_int(batch_size, "batch_size", 1)

        def one(uri: str) -> tuple[str, tuple[int, ...], list[tuple[int, int]]]:
            st, u = resolve(uri)
            f = _cache.peek(u) or _read_footer(st, u, self.footer_cap)
            return uri, f.row_offsets, [f.span(i, self.col_indices) for i in range(f.num_row_groups)]

        for i in range(0, len(todo), bs):
            for uri, offs, ranges in bounded_map(one, todo[i:i + bs], bs):
                with self._lock:
                    self._files[uri] = (offs, ranges)
                    for rg in range(len(ranges)):
                        self._epochs.setdefault((uri, rg), None)

    def _file(self, uri: str) -> tuple[tuple[int, ...], list[tuple[int, int]]]:
        f = self._files.get(uri)
        if f is None:
            raise NotIndexedError(f"URI not indexed: {uri}", uri)
        return f

    def rg_for_sample(self, uri: str, sample_idx: int) -> int:
        """The row group holding sample (row) `sample_idx` of `uri`."""
        offs, _ = self._file(uri)
        s = _check_int(sample_idx, "sample_idx", 0)
        if s >= offs[-1]:
            raise OutOfRangeError(f"sample {s} is past the end of {uri} ({offs[-1]} rows)", uri)
        return bisect.bisect_right(offs, s) - 1

    def rg_range(self, uri: str, rg_idx: int) -> tuple[int, int]:
        """(byte offset, byte length) of row group `rg_idx` of `uri`."""
        _, ranges = self._file(uri)
        if isinstance(rg_idx, bool) or not isinstance(rg_idx, int) or not 0 <= rg_idx < len(ranges):
            raise NotIndexedError(f"RG ({uri}, {rg_idx}) not in index", uri)
        return ranges[rg_idx]

    def rg_lookup(self, uri: str, sample_idx: int) -> tuple[int, int, int]:
        """sample -> (rg_idx, byte offset, byte length) in one call."""
        rg = self.rg_for_sample(uri, sample_idx)
        off, ln = self.rg_range(uri, rg)
        return rg, off, ln

    def mark_fetched(self, uri: str, rg_idx: int, epoch: int) -> None:
        """Record that (uri, rg_idx) was fetched in `epoch` (ignored for a row group not indexed)."""
        with self._lock:
            if (uri, rg_idx) in self._epochs:
                self._epochs[(uri, rg_idx)] = epoch

    def was_fetched(self, uri: str, rg_idx: int, epoch: int) -> bool:
        """True if (uri, rg_idx) was fetched in `epoch`."""
        return self._epochs.get((uri, rg_idx)) == epoch

    def check_and_mark(self, uri: str, rg_idx: int, epoch: int) -> bool:
        """`was_fetched` and, when it was not, `mark_fetched`, atomically: True = already fetched this
        epoch (skip the GET)."""
        key = (uri, rg_idx)
        with self._lock:
            if key not in self._epochs:
                return False
            if self._epochs[key] == epoch:
                return True
            self._epochs[key] = epoch
            return False

    def file_count(self) -> int:
        return len(self._files)

    def file_rg_count(self, uri: str) -> int | None:
        f = self._files.get(uri)
        return None if f is None else len(f[1])

    def is_indexed(self, uri: str) -> bool:
        return uri in self._files

    def invalidate_uri(self, uri: str) -> None:
        """Forget `uri` (e.g. after it was rewritten)."""
        with self._lock:
            f = self._files.pop(uri, None)
            if f is not None:
                for rg in range(len(f[1])):
                    self._epochs.pop((uri, rg), None)

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._epochs.clear()

    def __len__(self) -> int:
        return sum(len(r) for _, r in self._files.values())

    def __repr__(self) -> str:
        cols = "None" if self.col_indices is None else f"Some({self.col_indices})"
        return (f"PyParquetIndex(files={len(self._files)}, rgs={len(self)}, col_indices={cols}, "
                f"footer_cap={self.footer_cap})")


# ---------------------------------------------------------------- streaming row groups
class PyParquetItem:
    """One fetched row group: `file_uri`, `rg_idx`, `byte_count` and `data` (a BytesView)."""

    __slots__ = ("byte_count", "data", "file_uri", "rg_idx")

    def __init__(self, file_uri: str, rg_idx: int, data: BytesView) -> None:
        self.file_uri = file_uri
        self.rg_idx = rg_idx
        self.data = data
        self.byte_count = len(data)

    def __bytes__(self) -> bytes:
        return bytes(self.data)

    def __len__(self) -> int:
        return self.byte_count

    def __repr__(self) -> str:
        return f'PyParquetItem(file_uri="{self.file_uri}", rg_idx={self.rg_idx}, byte_count={self.byte_count})'


def _leaf_indices(f: ParquetFooter, columns: Sequence[int | str] | None) -> list[int] | None:
    if columns is None:
        return None
    schema = f.metadata.schema
    names = [schema.column(i).path for i in range(len(schema))]
    out: list[int] = []
    for c in columns:
        if isinstance(c, str):
            hit = [i for i, p in enumerate(names) if p == c or p.startswith(c + ".")]
            if not hit:
                raise OutOfRangeError(f"{f.uri!r} has no column {c!r} (columns: {', '.join(names)})", f.uri)
            out.extend(hit)
        else:
            out.append(int(c))
    return out


def iter_parquet_row_groups(uris: Iterable[str], *, columns: Sequence[int | str] | None = None,
                            footer_cap: int = DEFAULT_FOOTER_CAP, decode: str = "raw", prefetch: int = 32,
                            max_threads: int | None = None, store: ObjectStore | None = None
                            ) -> Iterator[PyParquetItem]:
    """Every row group of every file, as PyParquetItem(file_uri, rg_idx, data), in the order the reads
    complete, with at most min(prefetch, max_threads) reads in flight (footers from the process cache).
    `columns`: leaf column indices or column names (None: all); decode as in `parquet_get_rg`. Closing
    the iterator early cancels the reads not yet started. The options are those of the original's
    `create_async_loader(uri, {"format": "parquet", ...})`."""
    d = _check_decode(decode)
    depth = _check_int(prefetch, "prefetch", 1)
    if max_threads is not None:
        depth = min(depth, _check_int(max_threads, "max_threads", 1))
    pool = shared_executor("fanout")
    uri_list = list(uris)

    def tasks() -> Iterator[tuple[ObjectStore, ParquetFooter, int, list[int] | None]]:
        for uri in uri_list:
            st, u = resolve(uri, store)
            f = _cache.get(st, u, footer_cap)
            cols = _leaf_indices(f, columns)
            for rg in range(f.num_row_groups):
                yield st, f, rg, cols

    def run(st: ObjectStore, f: ParquetFooter, rg: int, cols: list[int] | None) -> PyParquetItem:
        return PyParquetItem(f.uri, rg, _fetch_rg(st, f, rg, cols, d))

    pending: set[Future[PyParquetItem]] = set()
    source = tasks()
    try:
        exhausted = False
        while True:
            while not exhausted and len(pending) < depth:
                t = next(source, None)
                if t is None:
                    exhausted = True
                    break
                pending.add(pool.submit(run, *t))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
    finally:
        for fut in pending:
            fut.cancel()

