"""How a dataset reads its objects: one GET each through the store's bulk path ("sequential", the
default), or `part_size` ranged reads with `max_inflight_parts` in flight landing in one preallocated
buffer ("range"). Sizes come from the listing, so neither mode sends a HEAD when the listing had them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from s3dlio_core import BytesView, bounded_map

from .listing import Listing
from .options import LoaderOptions
from .source import StoreSource

__all__ = ["ObjectReader"]


class ObjectReader:
    """Reads objects of one listing with one set of options; picklable (no store inside)."""

    __slots__ = ("listing", "part_size", "parts_in_flight", "range_mode", "source", "transform")

    def __init__(self, source: StoreSource, listing: Listing, opts: LoaderOptions,
                 transform: Callable[[Any], Any] | None = None) -> None:
        self.source = source
        self.listing = listing
        self.range_mode = opts.reader_mode == "range"
        self.part_size = opts.part_size
        self.parts_in_flight = opts.max_inflight_parts
        self.transform = transform

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, v)

    # ---- one object ----
    def read(self, i: int) -> BytesView:
        """Object `i`'s bytes."""
        uri = self.listing.uris[i]
        if self.range_mode:
            return self._read_ranged(uri, self.listing.size(i))
        return self.source.get(uri)

    def read_into_new(self, i: int, cls: type[BytesView]) -> BytesView:
        """Object `i` read straight into a new buffer of class `cls` (size from the listing)."""
        uri = self.listing.uris[i]
        size = self.listing.size(i)
        if size is None:
            size = self.source.size(uri)
        if self.range_mode:
            return self._read_ranged(uri, size, cls)
        buf = cls.allocate(size)
        if size:
            self.source.get_into(uri, buf)
        return buf

    def _read_ranged(self, uri: str, size: int | None, cls: type[BytesView] = BytesView) -> BytesView:
        if size is None:
            size = self.source.size(uri)
        buf = cls.allocate(size)
        if size:
            mv = memoryview(buf)
            try:
                self._fill_ranged(uri, mv)
            finally:
                mv.release()
        return buf

    def _fill_ranged(self, uri: str, mv: memoryview) -> None:
        """Fill `mv` (the object's listed size) with `part_size` range reads, `max_inflight_parts` at once."""
        size = mv.nbytes
        part = self.part_size
        offsets = range(0, size, part)
        get_range_into = self.source.get_range_into

        def one(off: int) -> None:
            want = min(part, size - off)
            n = get_range_into(uri, off, mv[off:off + want])
            if n != want:
                from s3dlio_core import LengthMismatchError

                raise LengthMismatchError(f"object {uri} ended at {off + n} bytes, but the listing said {size}",
                                          uri, expected=size, actual=off + n)

        bounded_map(one, offsets, min(self.parts_in_flight, len(offsets)), level="parts")

    # ---- a chunk of objects (what the prefetcher asks for) ----
    def read_many(self, idxs: Sequence[int], concurrency: int) -> list[Any]:
        """Objects `idxs` in order, at most `concurrency` requests in flight (the bulk path), each passed
        through the transform when there is one."""
        if not idxs:
            return []
        if self.range_mode:
            out = bounded_map(self.read, idxs, max(1, min(concurrency, len(idxs))))
        else:
            uris = self.listing.uris
            out = self.source.get_many([uris[i] for i in idxs], max(1, concurrency), self.listing.mixed)
        if self.transform is not None:
            t = self.transform
            out = [t(v) for v in out]
        return out

    def read_many_into(self, idxs: Sequence[int], concurrency: int, cls: type[BytesView]) -> list[Any]:
        """Like `read_many`, each object landing in a new `cls` buffer (no transform)."""
        return bounded_map(lambda i: self.read_into_new(i, cls), idxs, max(1, min(concurrency, len(idxs))))

    def read_many_into_buffers(self, idxs: Sequence[int], dsts: Sequence[Any], concurrency: int) -> list[int]:
        """Objects `idxs` into the caller's buffers `dsts` (each exactly the object's size, else
        LengthMismatchError), at most `concurrency` in flight; no transform. In "range" mode each object's
        parts land in its buffer."""
        if len(idxs) != len(dsts):
            raise ValueError(f"{len(idxs)} indices but {len(dsts)} buffers")
        uris = self.listing.uris
        if not self.range_mode:
            return self.source.get_many_into([(uris[i], d) for i, d in zip(idxs, dsts, strict=True)],
                                             max(1, concurrency), self.listing.mixed)

        def one(k: int) -> int:  # the parts land in the caller's buffer, no buffer of ours in between
            mv = memoryview(dsts[k]).cast("B")
            if mv.nbytes:
                self._fill_ranged(uris[idxs[k]], mv)
            return mv.nbytes

        return bounded_map(one, range(len(idxs)), max(1, min(concurrency, len(idxs))))
