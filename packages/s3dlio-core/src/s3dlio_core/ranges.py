"""Typed byte ranges, and the planning that turns many small ranges into few requests.

Three small frozen types say what part of an object a caller wants, so that no code passes loose tuples
whose second element might be an end or a length:

* `ByteRange(start, end)`: bytes [start, end), end exclusive;
* `OffsetRange(offset)`: from `offset` to the end of the object;
* `SuffixRange(length)`: the last `length` bytes (a ZIP central directory or a Parquet footer).

`as_range` also accepts an `(offset, length)` tuple. `coalesce` merges ranges that lie closer than a gap
into spans fetched with one request each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ByteRange", "OffsetRange", "SuffixRange", "Range", "as_range", "resolve", "coalesce", "Span",
           "MAX_LENGTH"]

#: Lengths beyond this mean "to the end of the object" (no store holds an object this large; S3's limit is
#: 5 TiB). Callers pass 2**64 - 1 or sys.maxsize to say "everything from offset".
MAX_LENGTH = 1 << 53


def _nonneg(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < 0:
        raise OverflowError(f"can't convert negative int to unsigned: {name} {v}")
    return v


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes [start, end) of an object; `end` past the object's end is truncated to it."""

    start: int
    end: int

    def __post_init__(self) -> None:
        _nonneg("start", self.start)
        _nonneg("end", self.end)
        if self.end < self.start:
            raise ValueError(f"ByteRange end {self.end} is before its start {self.start}")

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class OffsetRange:
    """From `offset` to the end of the object."""

    offset: int

    def __post_init__(self) -> None:
        _nonneg("offset", self.offset)


@dataclass(frozen=True, slots=True)
class SuffixRange:
    """The last `length` bytes of the object (the whole object when it is shorter)."""

    length: int

    def __post_init__(self) -> None:
        _nonneg("length", self.length)


Range = ByteRange | OffsetRange | SuffixRange


def as_range(r: Any) -> Range:
    """A typed range from a typed range or an `(offset, length)` tuple (length None = to the end)."""
    if isinstance(r, (ByteRange, OffsetRange, SuffixRange)):
        return r
    if isinstance(r, tuple) and len(r) == 2:
        offset, length = r
        _nonneg("offset", offset)
        if length is None or (isinstance(length, int) and not isinstance(length, bool) and length > MAX_LENGTH):
            return OffsetRange(offset)
        return ByteRange(offset, offset + _nonneg("length", length))
    raise TypeError(f"a range must be a ByteRange, OffsetRange, SuffixRange or (offset, length) tuple, "
                    f"got {r!r}")


def resolve(r: Range, size: int) -> tuple[int, int]:
    """The concrete [start, end) of `r` in an object of `size` bytes (clamped to the object)."""
    if isinstance(r, ByteRange):
        start, end = min(r.start, size), min(r.end, size)
    elif isinstance(r, OffsetRange):
        start, end = min(r.offset, size), size
    else:
        start, end = max(0, size - r.length), size
    return start, end


@dataclass(frozen=True, slots=True)
class Span:
    """One request that serves several ranges: bytes [start, end) and the indexes of the ranges in it."""

    start: int
    end: int
    members: tuple[int, ...]


def coalesce(bounds: Sequence[tuple[int, int]], gap: int) -> list[Span]:
    """Group concrete [start, end) ranges into spans: ranges that overlap or lie within `gap` bytes of
    each other share one span. Spans come out in offset order; each lists the input indexes it serves."""
    order = sorted(range(len(bounds)), key=lambda i: bounds[i])
    spans: list[Span] = []
    cur_start = cur_end = -1
    members: list[int] = []
    for i in order:
        s, e = bounds[i]
        if members and s <= cur_end + gap:
            cur_end = max(cur_end, e)
            members.append(i)
            continue
        if members:
            spans.append(Span(cur_start, cur_end, tuple(members)))
        cur_start, cur_end, members = s, e, [i]
    if members:
        spans.append(Span(cur_start, cur_end, tuple(members)))
    return spans


def total_length(bounds: Iterable[tuple[int, int]]) -> int:
    return sum(e - s for s, e in bounds)
