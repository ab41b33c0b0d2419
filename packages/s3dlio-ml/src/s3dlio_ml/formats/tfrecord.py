"""TFRecord files on any store: the record framing, a writer that makes both indexes in the same pass,
a checking reader, and the original's index functions.

Framing of one record: u64 LE length | u32 LE masked CRC-32C of those 8 bytes | data | u32 LE masked
CRC-32C of the data, where masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 mod 2**32 (CRC-32C from
`s3dlio_core.checksum`, hardware-accelerated and read in place).

The two indexes, and which length each holds:
* the binary index (`<file>.index`, the spec's "TFRecord Index" format): 16 bytes per record, u64 LE offset
  and u64 LE length of the record's *data* (the serialized tf.train.Example): offset is the record's start
  + 12 and length its payload length, so `get_range(uri, offset, length)` is exactly the bytes that
  `tf.train.Example.FromString` takes. (The original's Rust-only builder recorded the on-wire length;
  the spec's example only works with the payload's, and the spec wins.)
* the DALI text index (`<file>.idx`, NVIDIA DALI's `tfrecord2idx` format and the original's
  `index_tfrecord_bytes` / `create_tfrecord_index`): one "offset size" line per record, offset = the
  record's start and size = its *on-wire* length (payload + 16).
Index entries (`TFRecordIndexEntry`) always carry the DALI meaning, (record offset, on-wire size), as
tuples and as entry['offset'] / entry['size']; `.data_offset` and `.data_length` give the binary index's.
"""

from __future__ import annotations

import array
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from s3dlio_core import BytesView, ObjectStore, as_buffer
from s3dlio_core.checksum import crc32c
from s3dlio_core.errors import ObjectNotFoundError

from ._store import as_uri, resolve
from .errors import ChecksumError, FormatError, TruncatedError

__all__ = ["TFRecordWriter", "TFRecordIndexEntry", "iter_tfrecords", "read_tfrecord_records",
           "build_tfrecord_with_index", "tfrecord_with_payload", "frame_record", "index_tfrecord_bytes",
           "get_tfrecord_index_entries", "create_tfrecord_index", "read_tfrecord_index",
           "read_tfrecord_binary_index", "binary_index_bytes", "dali_index_text", "HEADER", "FOOTER"]

HEADER = 12  # u64 length + u32 masked CRC
FOOTER = 4  # u32 masked CRC of the data
OVERHEAD = HEADER + FOOTER
_MASK_DELTA = 0xA282EAD8
_M32 = 0xFFFFFFFF
READ_CHUNK = 8 << 20  # sequential reads and scans fetch this much at a time
_COMBINE = 64 << 10  # records up to this size are copied into the writer's staging buffer
_STAGE = 1 << 20


def _mask(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & _M32) + _MASK_DELTA) & _M32


def _header(n: int) -> bytes:
    ln = n.to_bytes(8, "little")
    return ln + _mask(crc32c(ln)).to_bytes(4, "little")


def frame_record(data: Any) -> bytes:
    """One record's on-wire bytes (header, data, footer) as bytes (a copy; writers avoid it)."""
    mv = as_buffer(data)
    return _header(mv.nbytes) + mv.tobytes() + _mask(crc32c(mv)).to_bytes(4, "little")


class TFRecordIndexEntry(NamedTuple):
    """One record: `offset` of its first byte and `size`, its on-wire length (payload + 16).

    A tuple (`offset, size = entry`) and a mapping-like (`entry['offset']`, `entry['size']`)."""

    offset: int
    size: int

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            if key in ("offset", "size", "data_offset", "data_length"):
                return getattr(self, key)
            raise KeyError(key)
        return tuple.__getitem__(self, key)

    def keys(self) -> tuple[str, str]:
        return ("offset", "size")

    @property
    def data_offset(self) -> int:
        """Offset of the payload (what the binary index stores)."""
        return self.offset + HEADER

    @property
    def data_length(self) -> int:
        """Length of the payload (what the binary index stores)."""
        return self.size - OVERHEAD


# ---------------------------------------------------------------- index encodings
def dali_index_text(entries: Iterable[tuple[int, int]]) -> str:
    """The DALI text index: "offset size\\n" per record (record start, on-wire size)."""
    return "".join(f"{o} {s}\n" for o, s in entries)


def binary_index_bytes(entries: Iterable[tuple[int, int]]) -> bytes:
    """The 16-byte binary index: u64 LE payload offset, u64 LE payload length per record."""
    a = array.array("Q")
    for o, s in entries:
        a.append(o + HEADER)
        a.append(s - OVERHEAD)
    if sys.byteorder == "big":  # pragma: no cover
        a.byteswap()
    return a.tobytes()


def read_tfrecord_binary_index(data: Any, source: str = "<bytes>") -> list[TFRecordIndexEntry]:
    """Entries of a 16-byte binary index (bytes-like)."""
    mv = as_buffer(data)
    if mv.nbytes % 16:
        raise FormatError(f"binary TFRecord index {source} is {mv.nbytes} bytes, not a multiple of 16",
                          source, mv.nbytes - mv.nbytes % 16)
    a = array.array("Q")
    a.frombytes(mv)
    if sys.byteorder == "big":  # pragma: no cover
        a.byteswap()
    out = []
    for i in range(0, len(a), 2):
        off, ln = a[i], a[i + 1]
        if off < HEADER:
            raise FormatError(f"binary TFRecord index {source}: entry {i // 2} has payload offset {off}, "
                              f"before the end of a record header", source, 8 * i)
        out.append(TFRecordIndexEntry(off - HEADER, ln + OVERHEAD))
    return out


def _parse_dali(text: str, source: str) -> list[TFRecordIndexEntry]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        parts = s.split()
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise FormatError(f"Invalid format at line {n}: expected 'offset size', got '{line}' "
                              f"(index {source})", source)
        out.append(TFRecordIndexEntry(int(parts[0]), int(parts[1])))
    return out


# ---------------------------------------------------------------- scanning
def _scan(mv: memoryview, uri: str, check_crc: bool, base: int = 0) -> Iterator[tuple[int, int, int]]:
    """(record offset, payload offset, payload length) of every record of the bytes `mv` (offsets + base).

    Raises TruncatedError for a record cut short, ChecksumError for a bad CRC when check_crc."""
    pos, n = 0, len(mv)
    while pos < n:
        if n - pos < HEADER:
            raise TruncatedError(f"Truncated TFRecord at offset {base + pos}: expected {HEADER} header bytes, "
                                 f"only {n - pos} remaining ({uri})", uri, base + pos)
        ln = int.from_bytes(mv[pos:pos + 8], "little")
        if check_crc:
            _check(mv[pos:pos + 8], int.from_bytes(mv[pos + 8:pos + 12], "little"), uri, base + pos, "length")
        end = pos + HEADER + ln + FOOTER
        if end > n:
            raise TruncatedError(f"Truncated TFRecord at offset {base + pos}: expected {ln + OVERHEAD} bytes, "
                                 f"only {n - pos} remaining ({uri})", uri, base + pos)
        if check_crc:
            _check(mv[pos + HEADER:end - FOOTER], int.from_bytes(mv[end - FOOTER:end], "little"), uri,
                   base + pos, "data")
        yield base + pos, base + pos + HEADER, ln
        pos = end


def _check(data: memoryview, stored: int, uri: str, offset: int, what: str) -> None:
    got = _mask(crc32c(data))
    if got != stored:
        raise ChecksumError(f"TFRecord {what} CRC mismatch at offset {offset} of {uri}: stored {stored:08x}, "
                            f"computed {got:08x}", uri, offset)


def index_tfrecord_bytes(tfrecord_bytes: Any) -> str:
    """The DALI text index of TFRecord bytes (any bytes-like). CRCs are not checked (as the original)."""
    return dali_index_text(get_tfrecord_index_entries(as_buffer(tfrecord_bytes, what="tfrecord_bytes")))


def get_tfrecord_index_entries(source: Any, *, store: ObjectStore | None = None) -> list[TFRecordIndexEntry]:
    """Index entries (record offset, on-wire size), usable as tuples and as entry['offset']/['size'].

    `source` is TFRecord bytes (the original's form; scanned, CRCs not checked) or the path or URI of an
    index file (the spec's form): a DALI text index, or a 16-byte binary index (told apart by content).
    """
    if isinstance(source, (str, os.PathLike)):
        st, uri = resolve(source, store)
        data = st.get(uri)
        mv = memoryview(data)
        if b"\x00" in mv[:16].tobytes():  # a binary index's u64s have zero high bytes; a text index has none
            return read_tfrecord_binary_index(mv, uri)
        return _parse_dali(_text(mv, uri), uri)
    mv = as_buffer(source, what="tfrecord_bytes")
    return [TFRecordIndexEntry(o, ln + OVERHEAD) for o, _d, ln in _scan(mv, "<bytes>", False)]


def _text(mv: memoryview, uri: str) -> str:
    try:
        return bytes(mv).decode("ascii")
    except UnicodeDecodeError as e:
        raise FormatError(f"TFRecord index {uri} is neither a DALI text index nor a 16-byte binary index "
                          f"(byte {e.start} is not ASCII)", uri, e.start) from None


def read_tfrecord_index(index_path: str | os.PathLike[str], *, store: ObjectStore | None = None
                        ) -> list[TFRecordIndexEntry]:
    """Entries of a DALI text index (a path or URI). A malformed line raises FormatError
    "Invalid format at line N: expected 'offset size', got '...'" naming the index."""
    st, uri = resolve(index_path, store)
    return _parse_dali(_text(memoryview(st.get(uri)), uri), uri)


def _scan_object(st: ObjectStore, uri: str, check_crc: bool = False) -> list[TFRecordIndexEntry]:
    """Entries of the TFRecord object `uri`, read in large sequential ranges; a record longer than a chunk
    is skipped over (its header read, its data not, unless CRCs are checked)."""
    size = int(st.stat(uri)["size"])
    out: list[TFRecordIndexEntry] = []
    pos = 0
    while pos < size:
        chunk = memoryview(st.get_range(uri, pos, min(READ_CHUNK, size - pos)))
        n = len(chunk)
        p = 0
        while p < n:
            if n - p < HEADER:
                if pos + n >= size:
                    raise TruncatedError(f"Truncated TFRecord at offset {pos + p}: expected {HEADER} header "
                                         f"bytes, only {size - pos - p} remaining ({uri})", uri, pos + p)
                break  # the header continues in the next chunk
            ln = int.from_bytes(chunk[p:p + 8], "little")
            if check_crc:
                _check(chunk[p:p + 8], int.from_bytes(chunk[p + 8:p + 12], "little"), uri, pos + p, "length")
            total = ln + OVERHEAD
            if pos + p + total > size:
                raise TruncatedError(f"Truncated TFRecord at offset {pos + p}: expected {total} bytes, only "
                                     f"{size - pos - p} remaining ({uri})", uri, pos + p)
            if p + total > n:
                if check_crc:
                    rec = st.get_range(uri, pos + p, total)
                    _check(memoryview(rec)[HEADER:total - FOOTER], int.from_bytes(rec[total - 4:total], "little"),
                           uri, pos + p, "data")
                out.append(TFRecordIndexEntry(pos + p, total))
                p += total
                break
            if check_crc:
                _check(chunk[p + HEADER:p + total - FOOTER],
                       int.from_bytes(chunk[p + total - FOOTER:p + total], "little"), uri, pos + p, "data")
            out.append(TFRecordIndexEntry(pos + p, total))
            p += total
        pos += p
        if p == 0 and n == 0:  # pragma: no cover - the store returned nothing before the end
            raise TruncatedError(f"TFRecord {uri} ended at offset {pos}, before its stated {size} bytes", uri, pos)
    return out


def create_tfrecord_index(tfrecord_path: str | os.PathLike[str] | None = None,
                          index_path: str | os.PathLike[str] | None = None, *,
                          input_path: str | os.PathLike[str] | None = None,
                          output_path: str | os.PathLike[str] | None = None,
                          binary_index_path: str | os.PathLike[str] | None = None,
                          check_crc: bool = False, store: ObjectStore | None = None) -> int:
    """Write the DALI text index of a TFRecord file; returns the number of records.

    Both calling forms: `create_tfrecord_index(tfrecord_path, index_path=None)` (the original's; default
    output tfrecord_path + ".idx") and `create_tfrecord_index(input_path=..., output_path=...)` (the
    spec's). Input and outputs are paths or URIs of any scheme. `binary_index_path` also writes the 16-byte
    binary index. The file is read in large ranges; CRCs are checked only with `check_crc=True`.
    """
    src = tfrecord_path if tfrecord_path is not None else input_path
    if src is None:
        raise TypeError("create_tfrecord_index needs tfrecord_path (or input_path=)")
    if tfrecord_path is not None and input_path is not None:
        raise TypeError("give tfrecord_path or input_path=, not both")
    if index_path is not None and output_path is not None:
        raise TypeError("give index_path or output_path=, not both")
    dst = index_path if index_path is not None else output_path
    st, uri = resolve(src, store)
    try:
        entries = _scan_object(st, uri, check_crc)
    except ObjectNotFoundError as e:
        raise ObjectNotFoundError(f"Failed to open TFRecord file: {uri} (not found)", uri) from e
    out_uri = as_uri(dst) if dst is not None else uri + ".idx"
    ost, out_uri = resolve(out_uri, None if dst is not None else store)
    ost.put(out_uri, dali_index_text(entries).encode("ascii"))
    if binary_index_path is not None:
        bst, buri = resolve(binary_index_path)
        bst.put(buri, binary_index_bytes(entries))
    return len(entries)


# ---------------------------------------------------------------- writing
class TFRecordWriter:
    """Writes TFRecord records to any store through its streaming writer, making both indexes in the
    same pass (see the module docstring for what each holds).

    `index` / `dali_index`: True (default) writes `<uri>.index` (16-byte binary) / `<uri>.idx` (DALI text),
    a str names another location, False writes none. Nothing is visible until `close()`: the records are
    committed first, then the indexes (an index never describes a file that is not there); an exception in
    a `with` block (or `abort()`) leaves no object.
    """

    def __init__(self, uri: str | os.PathLike[str], *, index: bool | str | os.PathLike[str] = True,
                 dali_index: bool | str | os.PathLike[str] = True, store: ObjectStore | None = None) -> None:
        self._store, self.uri = resolve(uri, store)
        self._given_store = store
        self.index_uri = self._side(index, ".index")
        self.dali_index_uri = self._side(dali_index, ".idx")
        self._w = self._store.open_writer(self.uri)
        self._stage = bytearray()
        self._offsets = array.array("Q")
        self._lengths = array.array("Q")
        self._pos = 0
        self.closed = False

    def _side(self, opt: bool | str | os.PathLike[str], suffix: str) -> str | None:
        if opt is True:
            return self.uri + suffix
        if opt is False or opt is None:
            return None
        return as_uri(opt)

    @property
    def records_written(self) -> int:
        return len(self._offsets)

    @property
    def bytes_written(self) -> int:
        return self._pos

    def write(self, record: Any) -> int:
        """Append one record (any bytes-like, e.g. `example.SerializeToString()`); returns its offset."""
        if self.closed:
            raise ValueError(f"write to a closed TFRecordWriter for {self.uri}")
        mv = as_buffer(record, what="record")
        n = mv.nbytes
        off = self._pos
        st = self._stage
        st += _header(n)
        if n <= _COMBINE:
            st += mv
        else:
            self._w.write(st)
            st.clear()
            self._w.write(mv)
        st += _mask(crc32c(mv)).to_bytes(4, "little")
        if len(st) >= _STAGE:
            self._w.write(st)
            st.clear()
        self._offsets.append(off)
        self._lengths.append(n)
        self._pos = off + n + OVERHEAD
        return off

    def write_many(self, records: Iterable[Any]) -> int:
        """Append every record of an iterable; returns how many."""
        k = 0
        for r in records:
            self.write(r)
            k += 1
        return k

    def entries(self) -> list[TFRecordIndexEntry]:
        """The index entries of the records written so far."""
        return [TFRecordIndexEntry(o, n + OVERHEAD) for o, n in zip(self._offsets, self._lengths, strict=True)]

    def close(self) -> int:
        """Commit the records, then the indexes; returns the number of records."""
        if self.closed:
            return len(self._offsets)
        self.closed = True
        try:
            if self._stage:
                self._w.write(self._stage)
                self._stage.clear()
            self._w.close()
        except BaseException:
            self._w.abort()
            raise
        if self.index_uri is not None or self.dali_index_uri is not None:
            entries = self.entries()
            if self.index_uri is not None:
                self._put_side(self.index_uri, binary_index_bytes(entries))
            if self.dali_index_uri is not None:
                self._put_side(self.dali_index_uri, dali_index_text(entries).encode("ascii"))
        return len(self._offsets)

    def _put_side(self, uri: str, data: bytes) -> None:
        """An index beside the records: on the caller's store when it shares their scheme."""
        same = self._given_store is not None and uri.split("://", 1)[0] == self.uri.split("://", 1)[0]
        st, u = resolve(uri, self._given_store if same else None)
        st.put(u, data)

    def abort(self) -> None:
        """Discard everything written: no record file, no index."""
        if not self.closed:
            self.closed = True
            self._w.abort()

    def __enter__(self) -> TFRecordWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __repr__(self) -> str:
        return f"TFRecordWriter({self.uri!r}, records={len(self._offsets)}, closed={self.closed})"


def build_tfrecord_with_index(records: Iterable[Any]) -> tuple[BytesView, bytes, str]:
    """(TFRecord bytes, binary index, DALI text index) of `records`, built in one pass in memory."""
    recs = [as_buffer(r, what="record") for r in records]
    total = sum(r.nbytes + OVERHEAD for r in recs)
    out = BytesView.allocate(total)
    dst = memoryview(out)
    entries = []
    p = 0
    for r in recs:
        n = r.nbytes
        dst[p:p + HEADER] = _header(n)
        dst[p + HEADER:p + HEADER + n] = r
        dst[p + HEADER + n:p + n + OVERHEAD] = _mask(crc32c(r)).to_bytes(4, "little")
        entries.append((p, n + OVERHEAD))
        p += n + OVERHEAD
    return out, binary_index_bytes(entries), dali_index_text(entries)


def tfrecord_with_payload(size: int, fill: Any) -> BytesView:
    """One TFRecord of a `size`-byte payload that `fill(dst)` writes in place (bulk put's
    object_type="tfrecord": the payload is generated straight into the record)."""
    out = BytesView.allocate(size + OVERHEAD)
    dst = memoryview(out)
    dst[:HEADER] = _header(size)
    body = dst[HEADER:HEADER + size]
    if size:
        fill(body)
    dst[HEADER + size:] = _mask(crc32c(body)).to_bytes(4, "little")
    return out


# ---------------------------------------------------------------- reading
def iter_tfrecords(uri: str | os.PathLike[str], *, check_crc: bool = True, store: ObjectStore | None = None,
                   chunk_size: int = READ_CHUNK) -> Iterator[memoryview]:
    """The payloads of a TFRecord object in order, read in `chunk_size` ranges; each is a read-only view
    over the fetched buffer (no copy). CRCs are checked unless `check_crc=False`; a bad CRC or a record cut
    short raises ChecksumError / TruncatedError naming the URI and the record's offset."""
    st, u = resolve(uri, store)
    size = int(st.stat(u)["size"])
    pos = 0
    while pos < size:
        chunk = memoryview(st.get_range(u, pos, min(chunk_size, size - pos)))  # writable: CRCs in place
        n = len(chunk)
        p = 0
        while p < n:
            if n - p < HEADER:
                if pos + n >= size:
                    raise TruncatedError(f"Truncated TFRecord at offset {pos + p}: expected {HEADER} header "
                                         f"bytes, only {size - pos - p} remaining ({u})", u, pos + p)
                break
            ln = int.from_bytes(chunk[p:p + 8], "little")
            if check_crc:  # before trusting the length: a corrupt length is not a truncation
                _check(chunk[p:p + 8], int.from_bytes(chunk[p + 8:p + 12], "little"), u, pos + p, "length")
            total = ln + OVERHEAD
            if pos + p + total > size:
                raise TruncatedError(f"Truncated TFRecord at offset {pos + p}: expected {total} bytes, only "
                                     f"{size - pos - p} remaining ({u})", u, pos + p)
            if p + total > n:
                if p:
                    break  # refetch from this record's start
                rec = memoryview(st.get_range(u, pos, total))
                yield _payload(rec, 0, ln, u, pos, check_crc)
                p = total
                break
            yield _payload(chunk, p, ln, u, pos + p, check_crc)
            p += total
        pos += p


def _payload(buf: memoryview, p: int, ln: int, uri: str, offset: int, check_crc: bool) -> memoryview:
    """The payload of the record at buf[p:], its data CRC checked; a read-only view (no copy)."""
    if len(buf) - p < ln + OVERHEAD:
        raise TruncatedError(f"Truncated TFRecord at offset {offset}: expected {ln + OVERHEAD} bytes, only "
                             f"{len(buf) - p} remaining ({uri})", uri, offset)
    data = buf[p + HEADER:p + HEADER + ln]
    if check_crc:
        _check(data, int.from_bytes(buf[p + HEADER + ln:p + ln + OVERHEAD], "little"), uri, offset, "data")
    return data.toreadonly()


def read_tfrecord_records(uri: str | os.PathLike[str], entries: Iterable[tuple[int, int]], *,
                          check_crc: bool = True, store: ObjectStore | None = None,
                          max_in_flight: int = 16) -> list[memoryview]:
    """The payloads of the records that `entries` (record offset, on-wire size; e.g. from an index)
    point at, fetched with coalesced ranges, in input order; views over the fetched buffers (no copy).

    Raises FormatError when an entry is not a record (its length field disagrees), TruncatedError when
    an entry lies past the end of the object, ChecksumError for a bad CRC."""
    st, u = resolve(uri, store)
    ents = [TFRecordIndexEntry(int(o), int(s)) for o, s in entries]
    for e in ents:
        if e.size < OVERHEAD:
            raise FormatError(f"index entry {tuple(e)} of {u}: a record is at least {OVERHEAD} bytes", u,
                              e.offset)
    views = st.get_ranges(u, [(e.offset, e.size) for e in ents], max_in_flight=max_in_flight)
    out = []
    for e, mv in zip(ents, views, strict=True):
        if len(mv) < e.size:
            raise TruncatedError(f"index entry (offset {e.offset}, size {e.size}) lies past the end of {u}: "
                                 f"only {len(mv)} bytes there", u, e.offset)
        ln = int.from_bytes(mv[:8], "little")
        if check_crc:
            _check(mv[:8], int.from_bytes(mv[8:12], "little"), u, e.offset, "length")
        if ln + OVERHEAD != e.size:
            raise FormatError(f"index entry (offset {e.offset}, size {e.size}) of {u} does not match the "
                              f"record there (length field {ln}, so {ln + OVERHEAD} bytes on the wire)", u,
                              e.offset)
        out.append(_payload(mv, 0, ln, u, e.offset, check_crc))
    return out

