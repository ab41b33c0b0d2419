"""Writing and reading one shard through the store protocol.

Writes: bytes go up in one `put` (small) or through `open_writer` (large; multipart with a growing part
size on object stores, a temporary file renamed into place on file://); streams go through
`open_writer` wrapped in the shared compress-and-checksum writers, so the CRC-32C is of the uncompressed
data and nothing is visible under the shard's name before it is complete.

Reads: a shard of known size is fetched with parallel ranged reads straight into one preallocated buffer
(no joins, no small seeks over the network), then decoded (zstd) if its key ends in `.zst`.
"""

from __future__ import annotations

import io
from typing import Any

from s3dlio_core import BytesView, ObjectStore, as_buffer, bounded_map, store_for_uri
from s3dlio_core.checksum import ChecksummingWriter, crc32c, format_crc32c
from s3dlio_core.compressed_writer import CompressingWriter
from s3dlio_core.store import ObjectWriter

from .manifest import ShardMeta

__all__ = [
    "store_of",
    "open_shard_writer",
    "write_shard_bytes",
    "shard_meta_after_write",
    "fetch",
    "decode",
    "BufferReader",
    "RANGE_CHUNK",
    "PARALLEL_MIN",
]

MiB = 1 << 20
RANGE_CHUNK = 64 * MiB  # bytes per ranged read when a shard is fetched in parallel
PARALLEL_MIN = 16 * MiB  # shards smaller than this are fetched with one GET
MAX_IN_FLIGHT = 16


def store_of(uri: str) -> ObjectStore:
    """The shared store for `uri` (its backend is imported on first use)."""
    return store_for_uri(uri)[0]


def open_shard_writer(store: ObjectStore, uri: str, compression_level: int | None) -> ChecksummingWriter:
    """A streaming writer for one shard: CRC-32C of the uncompressed bytes, zstd when
    `compression_level` is set; nothing appears under `uri` until `close()`."""
    inner: ObjectWriter = store.open_writer(uri)
    if compression_level is not None:
        inner = CompressingWriter(inner, "zstd", compression_level)
    return ChecksummingWriter(inner)


def shard_meta_after_write(
    store: ObjectStore, uri: str, rank: int, key: str, size: int, crc: int
) -> ShardMeta:
    """The manifest entry of a shard just written: the etag comes from a stat, as the original's does."""
    try:
        etag = store.stat(uri).get("etag")
    except Exception:  # a store that lists but cannot stat: the etag is optional
        etag = None
    return ShardMeta(rank=rank, key=key, size=size, etag=etag, checksum=format_crc32c(crc))


def write_shard_bytes(
    store: ObjectStore, uri: str, data: Any, compression_level: int | None, multipart_threshold: int
) -> tuple[int, int]:
    """Write bytes-like `data` as one shard; returns (stored size, CRC-32C of `data`)."""
    mv = as_buffer(data)
    crc = crc32c(mv)
    if compression_level is not None:
        import zstandard

        level = max(-7, min(22, int(compression_level)))
        payload: Any = zstandard.ZstdCompressor(level=level, write_content_size=True).compress(mv)
    else:
        payload = mv
    n = memoryview(payload).nbytes
    if n > multipart_threshold:
        with store.open_writer(uri) as w:  # streamed in parts; committed at the end of the block
            w.write(payload)
    else:
        store.put(uri, payload)
    return n, crc


def fetch(store: ObjectStore, uri: str, size: int | None = None) -> BytesView:
    """The whole object in one preallocated buffer, read with parallel ranges when it is large."""
    if size is None or size < PARALLEL_MIN:
        return store.get(uri)
    buf = BytesView.allocate(size)
    mv = memoryview(buf)
    spans = [(off, min(RANGE_CHUNK, size - off)) for off in range(0, size, RANGE_CHUNK)]

    def one(span: tuple[int, int]) -> int:
        off, n = span
        return store.get_range_into(uri, off, mv[off : off + n])

    try:
        got = sum(bounded_map(one, spans, MAX_IN_FLIGHT))
    finally:
        mv.release()
    if got != size:
        from s3dlio_core import LengthMismatchError

        raise LengthMismatchError(
            f"shard {uri} is {got} bytes, the manifest says {size}", uri, expected=size, actual=got
        )
    return buf


def decode(data: BytesView, key: str) -> BytesView:
    """The shard's uncompressed bytes (`data` itself unless the key ends in '.zst')."""
    if not key.endswith(".zst"):
        return data
    import zstandard

    out = BytesView()
    reader = zstandard.ZstdDecompressor().stream_reader(memoryview(data), read_across_frames=True)
    with reader:
        while True:
            chunk = reader.read(16 * MiB)
            if not chunk:
                break
            out += chunk
    return out


class BufferReader(io.RawIOBase):
    """A seekable, read-only file object over a buffer, for torch.load and pickle: `readinto` copies
    straight from the buffer into the caller's (a tensor's storage), `read` returns slices."""

    def __init__(self, data: Any) -> None:
        super().__init__()
        self._mv = memoryview(data).cast("B") if not isinstance(data, memoryview) else data.cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._mv.nbytes + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def readinto(self, b: Any) -> int:
        dst = memoryview(b).cast("B")
        start = min(self._pos, self._mv.nbytes)
        n = min(dst.nbytes, self._mv.nbytes - start)
        dst[:n] = self._mv[start : start + n]
        self._pos = start + n
        return n

    def read(self, size: int | None = -1) -> bytes:
        start = min(self._pos, self._mv.nbytes)
        end = self._mv.nbytes if size is None or size < 0 else min(self._mv.nbytes, start + size)
        self._pos = end
        return self._mv[start:end].tobytes()

    def readall(self) -> bytes:
        return self.read(-1)

    def close(self) -> None:
        if not self.closed:
            self._mv.release()
        super().close()
