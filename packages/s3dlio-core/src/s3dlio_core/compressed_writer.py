"""A streaming ObjectWriter that compresses (zstd, gzip or lz4) on the way into another ObjectWriter.

Codecs are imported on first use, never at import. Small objects (finished before `one_shot_limit`
bytes arrive) are compressed in one call so the zstd/lz4 frame records the content size (plain
`zstandard.ZstdDecompressor().decompress(data)` then works); larger ones stream frame by frame.
"""

from __future__ import annotations

from typing import Any

from .errors import UnsupportedOperationError
from .store import ObjectWriter

__all__ = ["CODECS", "EXTENSIONS", "CompressingWriter", "normalize_codec"]

CODECS = ("none", "zstd", "gzip", "lz4")
EXTENSIONS = {"zstd": ".zst", "gzip": ".gz", "lz4": ".lz4"}
DEFAULT_LEVELS = {"zstd": 3, "gzip": 6, "lz4": 0}
_ALIASES = {"zst": "zstd", "zstandard": "zstd", "gz": "gzip", "": "none", "off": "none"}


def normalize_codec(name: Any) -> str:
    """'zstd', 'gzip', 'lz4' or 'none' (case-insensitive; zst/gz accepted), else UnsupportedOperationError."""
    key = "none" if name is None else str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in CODECS:
        raise UnsupportedOperationError(
            f"Unsupported compression type: {name!r} (supported: {', '.join(CODECS)})")
    return key


class _Gzip:
    def __init__(self, level: int) -> None:
        import zlib

        self._c = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31 = gzip container

    def compress(self, data: Any) -> bytes:
        return self._c.compress(data)

    def flush(self) -> bytes:
        return self._c.flush()


class _Lz4:
    def __init__(self, level: int) -> None:
        import lz4.frame

        self._c = lz4.frame.LZ4FrameCompressor(compression_level=level)
        self._started = False

    def compress(self, data: Any) -> bytes:
        head = b""
        if not self._started:
            head = self._c.begin()
            self._started = True
        return head + self._c.compress(data)

    def flush(self) -> bytes:
        head = b"" if self._started else self._c.begin()
        return head + self._c.flush()


def _stream_compressor(codec: str, level: int) -> Any:
    if codec == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=level).compressobj()
    if codec == "gzip":
        return _Gzip(level)
    return _Lz4(level)


def _one_shot(codec: str, level: int, data: Any) -> bytes:
    if codec == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=level, write_content_size=True).compress(data)
    if codec == "lz4":
        import lz4.frame

        return lz4.frame.compress(data, compression_level=level, store_size=True)
    import gzip

    return gzip.compress(data, compresslevel=level, mtime=0)


class CompressingWriter(ObjectWriter):
    """Compresses what is written and passes it to `inner`; commit/abort go to `inner` too.

    `compressed_bytes` counts what reached the inner writer.
    """

    def __init__(self, inner: ObjectWriter, codec: str, level: int | None = None,
                 one_shot_limit: int = 4 << 20) -> None:
        super().__init__(inner.uri)
        self.codec = normalize_codec(codec)
        if self.codec == "none":
            raise UnsupportedOperationError(f"CompressingWriter needs a codec, got 'none' ({inner.uri})",
                                            inner.uri)
        self.level = DEFAULT_LEVELS[self.codec] if level is None else int(level)
        if self.codec == "zstd":
            self.level = max(-7, min(22, self.level))
        elif self.codec == "gzip":
            self.level = max(0, min(9, self.level))
        self.inner = inner
        self.compressed_bytes = 0
        self._limit = max(0, int(one_shot_limit))
        self._pending: bytearray | None = bytearray() if self._limit else None
        self._stream: Any = None if self._limit else _stream_compressor(self.codec, self.level)

    def close(self) -> int:
        """Finish the compressed stream and commit the inner object (which records the PUT once)."""
        if not self.closed:
            self.closed = True
            try:
                self._commit()
            except BaseException:
                self._abort_quietly()
                raise
        return self.bytes_written

    def _emit(self, out: bytes) -> None:
        if out:
            self.inner.write(out)
            self.compressed_bytes += len(out)

    def _write(self, mv: memoryview) -> None:
        if self._pending is not None:
            if len(self._pending) + mv.nbytes <= self._limit:
                self._pending += mv
                return
            self._stream = _stream_compressor(self.codec, self.level)
            pending, self._pending = self._pending, None
            if pending:
                self._emit(self._stream.compress(pending))
        self._emit(self._stream.compress(mv))

    def _commit(self) -> None:
        if self._pending is not None:
            self._emit(_one_shot(self.codec, self.level, bytes(self._pending)))
            self._pending = None
        else:
            self._emit(self._stream.flush())
        self.inner.close()

    def _abort(self) -> None:
        self._pending = None
        self.inner.abort()
