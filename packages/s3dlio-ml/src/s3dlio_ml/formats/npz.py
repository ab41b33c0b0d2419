"""NPZ archives (numpy's `savez` format: a ZIP of `.npy` members) on any store.

Reading asks for no more than it needs: `read_npz(uri, name)` reads the ZIP central directory with one
suffix range and then only that member's bytes (one range); `read_npz(uri)` fetches all members with as
few ranges as coalescing allows. A STORED member comes back as an ndarray over the fetched buffer (no copy;
writable, as np.load's), a DEFLATED one is decompressed straight into the array's memory. Every dtype
numpy saves loads, except object arrays: those need pickle, and loading never runs code.

Writing: `build_multi_npz` (named arrays, in memory), `write_npz` (streamed to any store: each array's
memory is written as it is, after one CRC pass), `generate_npz_bytes` (the original's `x.npy` + `y.npy`
layout with random contents) and `npz_with_payload` (bulk put's `object_type="npz"`). Members' data start on
64-byte boundaries of the archive; every archive loads with `numpy.load`.

Bulk put's NPZ objects, a deliberate fix: the original writes one `data.npy` whose header claims shape
(1,) of '|u1' while holding `size` bytes, so `np.load(...)["data"]` gives a single byte. Ours states the
true shape, (size,) of '|u1'.
"""

from __future__ import annotations

import ast
import math
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from s3dlio_core import BytesView, ObjectStore

from ._store import resolve
from ._zip import DEFLATED, STORED, Directory, Member, ZipLayout, member_data, member_span, read_directory
from .errors import ChecksumError, FormatError, MemberNotFoundError, TruncatedError

__all__ = ["read_npz", "NpzFile", "build_multi_npz", "write_npz", "generate_npz_bytes", "npz_with_payload",
           "npy_header"]

MAGIC = b"\x93NUMPY"
MAX_HEADER = 10000  # numpy's own limit on a header's size (a guard against hostile headers)
_INFLATE_STEP = 1 << 20

ArraysLike = Mapping[str, Any] | Iterable[tuple[str, Any]]


def _np() -> Any:
    import numpy as np

    return np


# ---------------------------------------------------------------- NPY headers
def npy_header(dtype: Any, shape: tuple[int, ...], fortran_order: bool = False) -> bytes:
    """The NPY header (magic, version, dict, padding) numpy writes for an array of `dtype` and `shape`;
    its length is a multiple of 64, so the data after it stays aligned."""
    np = _np()
    descr = np.lib.format.dtype_to_descr(np.dtype(dtype))
    body = "{" + f"'descr': {descr!r}, 'fortran_order': {bool(fortran_order)!r}, " \
                 f"'shape': {tuple(int(n) for n in shape)!r}, " + "}"
    raw = body.encode("latin1")
    for version, fmt in (((1, 0), "<H"), ((2, 0), "<I")):
        fixed = len(MAGIC) + 2 + struct.calcsize(fmt)
        pad = (-(fixed + len(raw) + 1)) % 64
        hlen = len(raw) + pad + 1
        if hlen < 1 << (8 * struct.calcsize(fmt)):
            return MAGIC + bytes(version) + struct.pack(fmt, hlen) + raw + b" " * pad + b"\n"
    raise ValueError(f"NPY header too long for shape {shape}")  # pragma: no cover


def _parse_header(buf: memoryview, uri: str, name: str) -> tuple[Any, tuple[int, ...], bool, int]:
    """(dtype, shape, fortran_order, header length) of the NPY bytes at the start of `buf`."""
    np = _np()
    where = f"member {name!r} of {uri}"
    if len(buf) < 10 or buf[:6] != MAGIC:
        raise FormatError(f"{where} is not an NPY array (no \\x93NUMPY magic)", uri)
    major = buf[6]
    if major == 1:
        hlen, fixed = struct.unpack_from("<H", buf, 8)[0], 10
    elif major in (2, 3):
        if len(buf) < 12:
            raise TruncatedError(f"{where}: NPY header cut short", uri)
        hlen, fixed = struct.unpack_from("<I", buf, 8)[0], 12
    else:
        raise FormatError(f"{where}: unsupported NPY format version {major}.{buf[7]}", uri)
    if hlen > MAX_HEADER:
        raise FormatError(f"{where}: NPY header of {hlen} bytes exceeds the {MAX_HEADER}-byte limit", uri)
    if fixed + hlen > len(buf):
        raise TruncatedError(f"{where}: NPY header cut short ({len(buf)} of {fixed + hlen} bytes)", uri)
    text = bytes(buf[fixed:fixed + hlen]).decode("utf-8" if major == 3 else "latin1")
    try:
        d = ast.literal_eval(text)  # literals only: never runs code
    except (SyntaxError, ValueError):
        raise FormatError(f"{where}: NPY header is not a Python literal: {text[:200]!r}", uri) from None
    if not isinstance(d, dict) or set(d) != {"descr", "fortran_order", "shape"}:
        raise FormatError(f"{where}: NPY header must hold exactly descr, fortran_order and shape: "
                          f"{text[:200]!r}", uri)
    shape, fo = d["shape"], d["fortran_order"]
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape) or \
            not isinstance(fo, bool):
        raise FormatError(f"{where}: bad shape or fortran_order in NPY header: {text[:200]!r}", uri)
    try:
        dtype = np.lib.format.descr_to_dtype(d["descr"])
    except (TypeError, ValueError) as e:
        raise FormatError(f"{where}: bad dtype {d['descr']!r} in NPY header ({e})", uri) from None
    if dtype.hasobject:
        raise FormatError(f"{where} holds Python objects (dtype {dtype}): loading it would need pickle, "
                          f"which is refused (loading never runs code)", uri)
    return dtype, shape, fo, fixed + hlen


def _array_over(base: Any, off: int, n: int, uri: str, name: str) -> Any:
    """The NPY array stored in base[off:off + n], as a view over `base` (no copy)."""
    np = _np()
    mv = memoryview(base)[off:off + n]
    dtype, shape, fo, hl = _parse_header(mv[:min(n, MAX_HEADER + 12)], uri, name)
    count = math.prod(shape)
    need = count * dtype.itemsize
    if n - hl < need:
        raise TruncatedError(f"member {name!r} of {uri} is truncated: its NPY header announces {need} bytes "
                             f"of {dtype} {shape}, the member holds {n - hl}", uri)
    if need == 0:
        return np.empty(shape, dtype=dtype, order="F" if fo else "C")
    arr = np.frombuffer(base, dtype=dtype, count=count, offset=off + hl)
    return arr.reshape(shape[::-1]).T if fo else arr.reshape(shape)


def _buffer_base(mv: memoryview) -> tuple[Any, int]:
    """(writable object holding mv, mv's offset in it) when mv views a bytearray (a BytesView), else
    (mv, 0): arrays over the former are writable, as np.load's are."""
    obj = mv.obj
    if isinstance(obj, bytearray):
        np = _np()
        start = np.frombuffer(mv, dtype=np.uint8).ctypes.data if len(mv) else 0
        base = np.frombuffer(obj, dtype=np.uint8).ctypes.data if len(obj) else 0
        off = start - base
        if len(mv) == 0 or 0 <= off <= len(obj) - len(mv):
            return obj, max(0, off)
    return mv, 0


# ---------------------------------------------------------------- reading
def _key(name: str) -> str:
    return name[:-4] if name.endswith(".npy") else name


class NpzFile(Mapping[str, Any]):
    """An NPZ archive on a store, opened lazily: the central directory is read once (one suffix range),
    each array when asked for (one range). Keys are member names without '.npy', as np.load's.

    `verify`: check the CRC-32 of STORED members too (DEFLATED ones are always checked).
    Raises FormatError when the object is not a ZIP archive, MemberNotFoundError for a missing member.
    """

    def __init__(self, uri: str | os.PathLike[str], *, store: ObjectStore | None = None,
                 verify: bool = False) -> None:
        self._store, self.uri = resolve(uri, store)
        self.verify = verify
        self._dir: Directory = read_directory(self._store, self.uri)
        self._by_key = {_key(n): m for n, m in self._dir.members.items()}

    @property
    def files(self) -> list[str]:
        """Member names without '.npy' (np.load's NpzFile.files)."""
        return list(self._by_key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in self._by_key or key in self._dir.members)

    def member(self, key: str) -> Member:
        m = self._by_key.get(key) or self._dir.members.get(key)
        if m is None:
            raise MemberNotFoundError(f"{key!r} is not a member of {self.uri} (members: "
                                      f"{', '.join(sorted(self._by_key)) or 'none'})", self.uri)
        return m

    def __getitem__(self, key: str) -> Any:
        return self.load([key])[key]

    def load(self, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The named members (all when None) as {key: array}, fetched with as few ranges as coalescing
        allows. Members that are not NPY arrays come back as read-only bytes views."""
        keys = list(self._by_key) if keys is None else list(keys)
        members = [self.member(k) for k in keys]
        d = self._dir
        spans = [member_span(m) for m in members]
        fetched: list[tuple[Any, int, bool]] = [None] * len(members)  # type: ignore[list-item]
        todo = []
        for i, (start, length) in enumerate(spans):
            end = start + length
            if start >= d.tail_start and (end <= d.tail_start + len(d.tail) or d.size is not None):
                fetched[i] = (d.tail, d.tail_start, True)  # the suffix ends with the object
            else:
                todo.append(i)
        if len(todo) == 1:
            start, length = spans[todo[0]]
            buf = self._store.get_range(self.uri, start, length)
            fetched[todo[0]] = (buf, start, len(buf) < length)
        elif todo:
            views = self._store.get_ranges(self.uri, [spans[i] for i in todo], size=d.size)
            for i, mv in zip(todo, views, strict=True):
                fetched[i] = (mv, spans[i][0], len(mv) < spans[i][1])
        out: dict[str, Any] = {}
        for key, m, (buf, start, ends) in zip(keys, members, fetched, strict=True):
            data, off = member_data(self._store, self.uri, m, buf, start, ends)
            out[key] = self._decode(m, data, off)
        return out

    def _decode(self, m: Member, data: Any, off: int) -> Any:
        mv = memoryview(data)
        if m.method == STORED:
            if m.compressed_size != m.size:
                raise FormatError(f"STORED member {m.name!r} of {self.uri} has compressed size "
                                  f"{m.compressed_size} != size {m.size}", self.uri, m.header_offset)
            raw = mv[off:off + m.size]
            if self.verify:
                self._check_crc(m, zlib.crc32(raw))
            base, boff = _buffer_base(raw)
        elif m.method == DEFLATED:
            base, boff = self._inflate(m, mv[off:off + m.compressed_size]), 0
        else:
            raise FormatError(f"member {m.name!r} of {self.uri} uses ZIP compression method {m.method}; "
                              f"only STORED (0) and DEFLATED (8) are supported", self.uri, m.header_offset)
        if m.size < 6 or bytes(memoryview(base)[boff:boff + 6]) != MAGIC:
            return memoryview(base)[boff:boff + m.size].toreadonly()
        return _array_over(base, boff, m.size, self.uri, m.name)

    def _inflate(self, m: Member, comp: memoryview) -> BytesView:
        """Decompress a DEFLATED member straight into a buffer of its size (CRC checked)."""
        out = BytesView.allocate(m.size)
        dst = memoryview(out)
        z = zlib.decompressobj(-15)
        pos, crc = 0, 0
        src: Any = comp
        try:
            while True:
                piece = z.decompress(src, _INFLATE_STEP)
                src = z.unconsumed_tail
                if pos + len(piece) > m.size:
                    raise FormatError(f"member {m.name!r} of {self.uri} inflates to more than its stated "
                                      f"{m.size} bytes", self.uri, m.header_offset)
                dst[pos:pos + len(piece)] = piece
                crc = zlib.crc32(piece, crc)
                pos += len(piece)
                if z.eof or (not piece and not src):
                    break
        except zlib.error as e:
            raise FormatError(f"member {m.name!r} of {self.uri}: corrupt DEFLATE data ({e})", self.uri,
                              m.header_offset) from None
        if pos != m.size or not z.eof:
            raise TruncatedError(f"member {m.name!r} of {self.uri} inflates to {pos} bytes, {m.size} expected",
                                 self.uri, m.header_offset)
        self._check_crc(m, crc)
        return out

    def _check_crc(self, m: Member, crc: int) -> None:
        if crc != m.crc:
            raise ChecksumError(f"member {m.name!r} of {self.uri}: CRC-32 {crc:08x} does not match the "
                                f"archive's {m.crc:08x}", self.uri, m.header_offset)

    def __repr__(self) -> str:
        return f"NpzFile({self.uri!r}, members={self.files})"


def read_npz(uri: str | os.PathLike[str], array_name: str | None = None, *, store: ObjectStore | None = None,
             verify: bool = False) -> Any:
    """The arrays of the NPZ object `uri` (any scheme, or a local path).

    `read_npz(uri)` returns {name: array} for every member (the spec's form: `read_npz(uri).keys()`);
    `read_npz(uri, name)` returns that one array (the original's form), reading only the central directory
    (one suffix range) and that member's bytes (one range). Names may be given with or without '.npy'.
    Raises FormatError (not a ZIP/NPY, truncated, bad CRC) or MemberNotFoundError, naming the URI.
    """
    f = NpzFile(uri, store=store, verify=verify)
    if array_name is None:
        return f.load()
    return f[array_name]


# ---------------------------------------------------------------- writing
def _arrays(arrays: ArraysLike) -> list[tuple[str, Any]]:
    np = _np()
    items = list(arrays.items()) if isinstance(arrays, Mapping) else list(arrays)
    out, seen = [], set()
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise TypeError(f"arrays must be a mapping or (name, array) pairs, got {item!r:.80}")
        name, a = item
        fname = name if name.endswith(".npy") else name + ".npy"
        if not name or fname in seen:
            raise ValueError(f"array names must be unique and non-empty: {name!r}")
        seen.add(fname)
        arr = np.asanyarray(a)
        if arr.dtype.hasobject:
            raise TypeError(f"array {name!r} holds Python objects (dtype {arr.dtype}); NPZ members written "
                            f"here are plain data (object arrays would need pickle to load)")
        out.append((fname, arr))
    return out


def _npy_parts(arr: Any) -> tuple[bytes, memoryview]:
    """(NPY header, data bytes) of `arr`, the data a view of its memory when contiguous."""
    np = _np()
    if arr.flags.c_contiguous:
        fo, flat = False, arr.reshape(-1)
    elif arr.flags.f_contiguous:
        fo, flat = True, arr.T.reshape(-1)
    else:
        fo, flat = False, np.ascontiguousarray(arr).reshape(-1)
    hdr = npy_header(arr.dtype, arr.shape, fo)
    data = memoryview(flat.view(np.uint8)) if flat.dtype.itemsize else memoryview(b"")
    return hdr, data


def _deflate(hdr: bytes, data: memoryview, level: int) -> tuple[bytes, int]:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    out = c.compress(hdr) + c.compress(data) + c.flush()
    return out, zlib.crc32(data, zlib.crc32(hdr))


def build_multi_npz(arrays: ArraysLike, *, compress: bool = False, level: int = 6) -> BytesView:
    """An NPZ archive (BytesView) of named arrays: a dict {name: array} or a list of (name, array) pairs,
    in that order; `np.load(io.BytesIO(bytes(b)))[name]` gives each back. `compress=True` DEFLATEs the
    members (np.savez_compressed). Raises TypeError for object arrays, ValueError for duplicate names."""
    parts: list[tuple[str, int, int, Callable[[memoryview], None], int, int | None]] = []
    for fname, arr in _arrays(arrays):
        hdr, data = _npy_parts(arr)
        usize = len(hdr) + data.nbytes
        if compress:
            comp, crc = _deflate(hdr, data, level)
            parts.append((fname, DEFLATED, usize, _copy_fill(comp), len(comp), crc))
        else:
            parts.append((fname, STORED, usize, _copy_fill(hdr, data), usize, None))
    return _assemble(parts)


def _copy_fill(*pieces: Any) -> Callable[[memoryview], None]:
    def fill(dst: memoryview) -> None:
        p = 0
        for piece in pieces:
            n = memoryview(piece).nbytes
            dst[p:p + n] = memoryview(piece).cast("B") if n else b""
            p += n
    return fill


def _assemble(parts: list[tuple[str, int, int, Callable[[memoryview], None], int, int | None]]) -> BytesView:
    """Lay out members (name, method, size, fill(dst), stored length, crc or None = compute after fill)
    in one buffer: headers sized first, each member's bytes written in place, its CRC, then its header."""
    probe = ZipLayout()
    spans = []
    for name, method, usize, _fill, clen, _crc in parts:
        hdr_len = len(probe.local_header(name, method, 0, clen, usize, peek=True))
        spans.append((probe.pos, hdr_len))
        probe.local_header(name, method, 0, clen, usize)
    total = probe.pos + len(probe.directory())
    out = BytesView.allocate(total)
    dst = memoryview(out)
    layout = ZipLayout()
    for (name, method, usize, fill, clen, crc), (pos, hdr_len) in zip(parts, spans, strict=True):
        body = dst[pos + hdr_len:pos + hdr_len + clen]
        fill(body)
        if crc is None:
            crc = zlib.crc32(body)
        dst[pos:pos + hdr_len] = layout.local_header(name, method, crc, clen, usize)
    cd = layout.directory()
    dst[layout.pos - len(cd):layout.pos] = cd
    assert layout.pos == total
    return out


def write_npz(uri: str | os.PathLike[str], arrays: ArraysLike, *, compress: bool = False, level: int = 6,
              store: ObjectStore | None = None) -> int:
    """Stream an NPZ archive of named arrays to `uri` (any scheme or a local path) through the store's
    writer: each array's memory is written as it is (after one CRC pass), nothing is visible until the
    archive is complete, and a failure leaves no object. Returns the archive's size."""
    st, u = resolve(uri, store)
    items = _arrays(arrays)
    layout = ZipLayout()
    with st.open_writer(u) as w:
        for fname, arr in items:
            hdr, data = _npy_parts(arr)
            if compress:
                comp, crc = _deflate(hdr, data, level)
                w.write(layout.local_header(fname, DEFLATED, crc, len(comp), len(hdr) + data.nbytes))
                w.write(comp)
            else:
                crc = zlib.crc32(data, zlib.crc32(hdr))
                n = len(hdr) + data.nbytes
                w.write(layout.local_header(fname, STORED, crc, n, n))
                w.write(hdr)
                if data.nbytes:
                    w.write(data)
        w.write(layout.directory())
    return layout.pos


def _random_fill(dtype: Any) -> Callable[[memoryview], None]:
    """Fill an array's bytes with fresh random data (booleans 0/1, strings printable ASCII)."""
    np = _np()
    from ..datagen import generate_into_buffer

    def fill(dst: memoryview) -> None:
        if not len(dst):
            return
        generate_into_buffer(dst)
        if dtype.kind == "b":
            a = np.frombuffer(dst, dtype=np.uint8)
            a &= 1
        elif dtype.kind in "SU":
            a = np.frombuffer(dst, dtype=np.uint8)
            a &= 0x3F
            a += 0x30
            if dtype.kind == "U":  # UCS-4 code units: keep only the low byte of each
                w = np.frombuffer(dst, dtype=np.uint32)
                w &= 0x7F
    return fill


def generate_npz_bytes(shape: Any, dtype: str = "<f4", num_samples: int = 1) -> BytesView:
    """The original's synthetic NPZ: `x.npy` of `shape` and `dtype` with random contents and `y.npy`,
    int64 zeros of shape (num_samples,); STORED, CRCs correct, loadable by numpy.load.

    The random bytes are generated straight into the archive. Unlike the original, the dtype is checked
    (numpy must know it; object dtypes are refused) and its real item size is used."""
    np = _np()
    try:
        shp = tuple(int(n) for n in shape)
    except TypeError:
        raise TypeError(f"shape must be a sequence of ints, got {shape!r}") from None
    if any(n < 0 for n in shp):
        raise ValueError(f"shape must not be negative: {shape!r}")
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"dtype {dtype!r} is not a numpy dtype ({e})") from None
    if dt.hasobject:
        raise TypeError(f"dtype {dtype!r} holds Python objects; NPZ members written here are plain data")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 0:
        raise ValueError(f"num_samples must be a non-negative int, got {num_samples!r}")
    hx = npy_header(dt, shp)
    nx = math.prod(shp) * dt.itemsize
    hy = npy_header(np.dtype("<i8"), (num_samples,))
    ny = 8 * num_samples
    rnd = _random_fill(dt)

    def fill_x(dst: memoryview) -> None:
        dst[:len(hx)] = hx
        rnd(dst[len(hx):])

    def fill_y(dst: memoryview) -> None:
        dst[:len(hy)] = hy
        dst[len(hy):] = bytes(ny)

    return _assemble([("x.npy", STORED, len(hx) + nx, fill_x, len(hx) + nx, None),
                      ("y.npy", STORED, len(hy) + ny, fill_y, len(hy) + ny, None)])


def npz_with_payload(size: int, fill: Callable[[memoryview], None], name: str = "data") -> BytesView:
    """An NPZ archive of one '|u1' array `name` of shape (size,) whose bytes `fill(dst)` writes in place
    (bulk put's object_type="npz": the payload is generated straight into the archive)."""
    np = _np()
    hdr = npy_header(np.dtype("|u1"), (size,))

    def fill_member(dst: memoryview) -> None:
        dst[:len(hdr)] = hdr
        if size:
            fill(dst[len(hdr):])

    n = len(hdr) + size
    return _assemble([(name + ".npy", STORED, n, fill_member, n, None)])
