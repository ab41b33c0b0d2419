"""The ZIP container of NPZ archives: the central directory read with one suffix range, members located
exactly, and archives written with every member's data aligned.

Reading (APPNOTE 6.3): the end-of-central-directory record (and, for ZIP64, its locator and record) sits in
the last bytes of the object, so one `get_suffix` usually brings the whole central directory; only a
directory larger than that suffix costs a second range. A member's data begins after its *local* header,
whose extra field may differ from the central one, so a member is fetched with a little slack (and, in the
rare case the local extra is longer still, the missing tail in one more range).

Writing: STORED or DEFLATED members, ZIP64 fields where sizes or offsets need them, dates fixed at
1980-01-01 (equal inputs give equal bytes), and an alignment extra field (id 0xD935, as Android's zipalign)
in each header, so that every member's data starts on a 64-byte boundary of the archive.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from s3dlio_core import ObjectStore

from .errors import FormatError, TruncatedError

__all__ = ["Member", "Directory", "read_directory", "member_span", "member_data", "ZipLayout", "STORED",
           "DEFLATED"]

STORED, DEFLATED = 0, 8
SUFFIX = 64 << 10  # first suffix read: EOCD + a directory of ~1000 members
MEMBER_SLACK = 128  # extra bytes fetched after a member's local header for a longer local extra field
_EOCD = struct.Struct("<4s4H2LH")
_Z64_LOC = struct.Struct("<4sLQL")
_Z64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CDIR = struct.Struct("<4s6H3L5H2L")
_LOCAL = struct.Struct("<4s5H3L2H")
_M32 = 0xFFFFFFFF
ALIGN = 64
ALIGN_EXTRA_ID = 0xD935
DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
DOS_TIME = 0


@dataclass(frozen=True, slots=True)
class Member:
    """One central-directory entry."""

    name: str
    method: int
    flags: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int  # absolute offset of the local header in the object
    name_len: int  # bytes of the name in the local header (same as in the directory)
    extra_len: int  # the central extra's length (the local one is usually equal)


@dataclass(slots=True)
class Directory:
    """The archive's members and what of the object's tail is already in memory."""

    uri: str
    members: dict[str, Member]
    tail: memoryview  # bytes [tail_start, tail_start + len(tail)) of the object
    tail_start: int
    size: int | None  # the object's size when known


def _find_eocd(buf: memoryview) -> int:
    n = len(buf)
    if n >= 22 and bytes(buf[n - 22:n - 18]) == b"PK\x05\x06" and bytes(buf[n - 2:n]) == b"\x00\x00":
        return n - 22
    data = bytes(buf[max(0, n - (65535 + 22)):])
    base = n - len(data)
    i = data.rfind(b"PK\x05\x06")
    while i >= 0:
        if i + 22 <= len(data):
            clen = int.from_bytes(data[i + 20:i + 22], "little")
            if i + 22 + clen == len(data):
                return base + i
        i = data.rfind(b"PK\x05\x06", 0, i)
    return -1


def read_directory(store: ObjectStore, uri: str, suffix: int = SUFFIX) -> Directory:
    """The central directory of the ZIP object `uri`, from one suffix range (two for a large directory).

    Raises FormatError when the object is not a ZIP archive, TruncatedError when it ends early.
    """
    tail = memoryview(store.get_suffix(uri, suffix)).toreadonly()
    whole = len(tail) < suffix
    p = _find_eocd(tail)
    if p < 0:
        if not whole and len(tail) == suffix:  # a comment longer than the first read: read the maximum
            tail = memoryview(store.get_suffix(uri, 65535 + 22 + 20 + 56)).toreadonly()
            whole = len(tail) < 65535 + 22 + 76
            p = _find_eocd(tail)
        if p < 0:
            raise FormatError(f"not a ZIP archive (NPZ): no end-of-central-directory record in the last "
                              f"{len(tail)} bytes of {uri}", uri)
    _sig, disk, disk_cd, n_disk, n_total, cd_size, cd_offset, _clen = _EOCD.unpack_from(tail, p)
    rec_end = p  # where the directory (or the ZIP64 record) ends, relative to the tail
    if disk != 0 or disk_cd != 0 or n_disk != n_total:
        raise FormatError(f"multi-disk ZIP archives are not supported: {uri}", uri)
    if (n_total == 0xFFFF or cd_size == _M32 or cd_offset == _M32) and p >= 20 and \
            bytes(tail[p - 20:p - 16]) == b"PK\x06\x07":
        _s, _d, z64_off, _disks = _Z64_LOC.unpack_from(tail, p - 20)
        q = p - 20 - _Z64_EOCD.size
        if q < 0 or bytes(tail[q:q + 4]) != b"PK\x06\x06":
            raise FormatError(f"ZIP64 end-of-central-directory record not where its locator says in {uri}",
                              uri, z64_off)
        fields = _Z64_EOCD.unpack_from(tail, q)
        n_total, cd_size, cd_offset = fields[7], fields[8], fields[9]
        rec_end = q
    # absolute position of the tail: the directory ends where the EOCD (or ZIP64 record) begins
    concat = 0
    if whole:
        tail_start = 0
        concat = rec_end - cd_size - cd_offset  # bytes prepended to the archive (self-extractors)
        if concat < 0:
            raise TruncatedError(f"ZIP directory of {uri} claims {cd_size} bytes at offset {cd_offset}, "
                                 f"past the object's {len(tail)} bytes", uri, cd_offset)
    else:
        tail_start = cd_offset + cd_size - rec_end
    size = tail_start + len(tail) if whole else None
    cd_rel = cd_offset + concat - tail_start
    if cd_rel < 0:  # the directory starts before the suffix we have: fetch the rest
        head = store.get_range(uri, cd_offset, -cd_rel)
        if len(head) != -cd_rel:
            raise TruncatedError(f"ZIP directory of {uri} is cut short", uri, cd_offset)
        cd = bytes(head) + bytes(tail[:rec_end])
    else:
        cd = bytes(tail[cd_rel:cd_rel + cd_size])
    if len(cd) != cd_size:
        raise TruncatedError(f"ZIP directory of {uri} is cut short: {len(cd)} of {cd_size} bytes", uri,
                             cd_offset)
    members = _parse_directory(cd, n_total, concat, uri, cd_offset)
    return Directory(uri, members, tail, tail_start, size)


def _parse_directory(cd: bytes, count: int, concat: int, uri: str, cd_offset: int) -> dict[str, Member]:
    out: dict[str, Member] = {}
    pos = 0
    for _ in range(count):
        if pos + _CDIR.size > len(cd) or cd[pos:pos + 4] != b"PK\x01\x02":
            raise FormatError(f"bad ZIP central directory entry in {uri}", uri, cd_offset + pos)
        (_sig, _vm, _vn, flags, method, _t, _d, crc, csize, usize, nlen, elen, clen, _disk, _ia, _ea,
         lho) = _CDIR.unpack_from(cd, pos)
        pos += _CDIR.size
        raw_name = cd[pos:pos + nlen]
        extra = cd[pos + nlen:pos + nlen + elen]
        pos += nlen + elen + clen
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        if usize == _M32 or csize == _M32 or lho == _M32:
            usize, csize, lho = _zip64_extra(extra, usize, csize, lho, uri, name)
        if flags & 1:
            raise FormatError(f"member {name!r} of {uri} is encrypted (not supported)", uri)
        out[name] = Member(name, method, flags, crc, csize, usize, lho + concat, nlen, elen)
    return out


def _zip64_extra(extra: bytes, usize: int, csize: int, lho: int, uri: str, name: str) -> tuple[int, int, int]:
    i = 0
    while i + 4 <= len(extra):
        tag, ln = struct.unpack_from("<HH", extra, i)
        if tag == 1:
            need = 8 * ((usize == _M32) + (csize == _M32) + (lho == _M32))
            if ln < need or i + 4 + ln > len(extra):
                raise FormatError(f"member {name!r} of {uri} has a malformed ZIP64 extra field", uri)
            vals = list(struct.unpack_from(f"<{need // 8}Q", extra, i + 4))
            if usize == _M32:
                usize = vals.pop(0)
            if csize == _M32:
                csize = vals.pop(0)
            if lho == _M32:
                lho = vals.pop(0)
            return usize, csize, lho
        i += 4 + ln
    raise FormatError(f"member {name!r} of {uri} needs a ZIP64 extra field and has none", uri)


def member_span(m: Member) -> tuple[int, int]:
    """(start, length) to fetch for member m: its local header, its data and a little slack.

    The start is moved back by up to 15 bytes so that, with a local extra field as long as the central
    one, the member's data lands 16-byte aligned in a fresh (16-byte aligned) buffer.
    """
    head = _LOCAL.size + m.name_len + m.extra_len
    back = min(m.header_offset, (-head) % 16)
    return m.header_offset - back, back + head + MEMBER_SLACK + m.compressed_size


def member_data(store: ObjectStore, uri: str, m: Member, buf: Any, buf_start: int, ends_object: bool
                ) -> tuple[Any, int]:
    """(buffer, offset) of member m's stored bytes, given `buf` holding the object's bytes from `buf_start`
    (`ends_object`: buf reaches the object's end).

    Reads the local header from `buf`; when the data runs past `buf` (a local extra field longer than the
    slack allowed for), fetches the member once more. Raises FormatError for a missing local header,
    TruncatedError when the object ends before the member does.
    """
    mv = memoryview(buf)
    rel = m.header_offset - buf_start
    if rel < 0 or rel + _LOCAL.size > len(mv):
        raise TruncatedError(f"member {m.name!r} of {uri}: its local header at offset {m.header_offset} "
                             f"is past the end of the object", uri, m.header_offset)
    sig, _v, _f, _meth, _t, _dt, _crc, _cs, _us, nlen, elen = _LOCAL.unpack_from(mv, rel)
    if sig != b"PK\x03\x04":
        raise FormatError(f"member {m.name!r} of {uri}: no local file header at offset {m.header_offset}",
                          uri, m.header_offset)
    head = _LOCAL.size + nlen + elen
    if rel + head + m.compressed_size <= len(mv):
        return buf, rel + head
    data_at = m.header_offset + head
    if not ends_object:
        buf = store.get_range(uri, m.header_offset, head + m.compressed_size)
        if len(buf) == head + m.compressed_size:
            return buf, head
        mv = memoryview(buf)
        rel = 0
    have = max(0, len(mv) - rel - head)
    raise TruncatedError(f"member {m.name!r} of {uri} is truncated: {m.compressed_size} bytes expected at "
                         f"offset {data_at}, the object ends after {have}", uri, data_at + have)


class ZipLayout:
    """Offsets and headers of an archive of members with known sizes and CRCs (STORED or DEFLATED)."""

    def __init__(self) -> None:
        # name, method, crc, compressed size, size, offset, alignment extra field
        self.entries: list[tuple[bytes, int, int, int, int, int, bytes]] = []
        self.pos = 0

    def local_header(self, name: str, method: int, crc: int, csize: int, usize: int, *, peek: bool = False
                     ) -> bytes:
        """The local header (with alignment padding) of the next member, placed at `self.pos`; the member
        is recorded and `pos` moves past its data unless `peek` (its length does not depend on `crc`)."""
        raw = name.encode("utf-8")
        flags = 0x800 if not raw.isascii() else 0
        z64 = csize >= _M32 or usize >= _M32
        extra = struct.pack("<HHQQ", 1, 16, usize, csize) if z64 else b""
        fixed = self.pos + _LOCAL.size + len(raw) + len(extra)
        pad = (-(fixed + 6)) % ALIGN  # the alignment field is at least 6 bytes: id, size, u16 alignment
        align = struct.pack("<HHH", ALIGN_EXTRA_ID, 2 + pad, ALIGN) + bytes(pad)
        extra += align
        hdr = _LOCAL.pack(b"PK\x03\x04", 45 if z64 else 20, flags, method, DOS_TIME, DOS_DATE, crc,
                          _M32 if z64 else csize, _M32 if z64 else usize, len(raw), len(extra)) + raw + extra
        if not peek:
            self.entries.append((raw, method, crc, csize, usize, self.pos, align))
            self.pos += len(hdr) + csize
        return hdr

    def directory(self) -> bytes:
        """Central directory and end records for the members added so far (placed at `self.pos`)."""
        parts = []
        for raw, method, crc, csize, usize, off, align in self.entries:
            big = [v for v in (usize, csize) if v >= _M32]
            z64 = bool(big) or off >= _M32
            vals = ([usize, csize] if big else []) + ([off] if off >= _M32 else [])
            # the same alignment field as the local header: a reader that sizes its range from the
            # directory then finds the data where it expects it
            extra = (struct.pack(f"<HH{len(vals)}Q", 1, 8 * len(vals), *vals) if z64 else b"") + align
            flags = 0x800 if not raw.isascii() else 0
            parts.append(_CDIR.pack(b"PK\x01\x02", 45 if z64 else 20, 45 if z64 else 20, flags, method,
                                    DOS_TIME, DOS_DATE, crc, _M32 if big else csize, _M32 if big else usize,
                                    len(raw), len(extra), 0, 0, 0, 0, _M32 if off >= _M32 else off))
            parts.append(raw)
            parts.append(extra)
        cd = b"".join(parts)
        cd_off, n = self.pos, len(self.entries)
        tail = b""
        if n >= 0xFFFF or cd_off >= _M32 or len(cd) >= _M32:
            z64_off = cd_off + len(cd)
            tail = _Z64_EOCD.pack(b"PK\x06\x06", _Z64_EOCD.size - 12, 45, 45, 0, 0, n, n, len(cd), cd_off)
            tail += _Z64_LOC.pack(b"PK\x06\x07", 0, z64_off, 1)
        eocd = _EOCD.pack(b"PK\x05\x06", 0, 0, min(n, 0xFFFF), min(n, 0xFFFF), min(len(cd), _M32),
                          min(cd_off, _M32), 0)
        out = cd + tail + eocd
        self.pos += len(out)
        return out

