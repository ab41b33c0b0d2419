"""Streaming writers: PyWriterOptions, PyObjectWriter and the create_*_writer factories, on every store.

A writer streams into the store's `open_writer` (nothing is visible until `finalize()`; an abandoned
writer leaves no object), optionally compressing (zstd, gzip, lz4: the object name gets .zst/.gz/.lz4),
and keeps a CRC32C of the uncompressed bytes.
"""

from __future__ import annotations

import threading
from typing import Any

from s3dlio_core import S3dlioError, as_buffer, store_for_uri
from s3dlio_core.checksum import ChecksummingWriter, crc32c
from s3dlio_core.compressed_writer import EXTENSIONS, CompressingWriter, normalize_codec
from s3dlio_core.errors import InvalidUriError
from s3dlio_core.uri import scheme_of

__all__ = [
    "PyWriterOptions", "PyObjectWriter", "WriterStats", "create_s3_writer", "create_azure_writer",
    "create_gcs_writer", "create_filesystem_writer", "create_direct_filesystem_writer",
]

DEFAULT_CHUNK_SIZE = 4 << 20


class PyWriterOptions:
    """Options of a streaming writer.

    Both styles work: attributes (`options.compression = "zstd"`, `options.compression_level = 3`,
    `options.chunk_size = 4 << 20`) and the original's methods `with_compression(type, level=None)` and
    `with_buffer_size(size)` (they change the options in place and return them, so they also chain).
    """

    __slots__ = ("_chunk_size", "_compression", "compression_level")

    def __init__(self, compression: str = "none", compression_level: int | None = None,
                 chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        self.compression = compression
        self.compression_level = compression_level
        self.chunk_size = chunk_size

    @property
    def compression(self) -> str:
        """'none', 'zstd', 'gzip' or 'lz4'."""
        return self._compression

    @compression.setter
    def compression(self, value: str | None) -> None:
        self._compression = normalize_codec(value)

    @property
    def chunk_size(self) -> int:
        """Bytes buffered before compression switches to streaming (and the writer's buffer size)."""
        return self._chunk_size

    @chunk_size.setter
    def chunk_size(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"chunk_size must be a positive int, got {value!r}")
        self._chunk_size = value

    buffer_size = chunk_size

    def with_compression(self, compression_type: str, level: int | None = None) -> PyWriterOptions:
        self.compression = compression_type
        self.compression_level = level
        return self

    def with_buffer_size(self, size: int) -> PyWriterOptions:
        self.chunk_size = size
        return self

    def __repr__(self) -> str:
        return (f"PyWriterOptions(compression={self.compression!r}, "
                f"compression_level={self.compression_level!r}, chunk_size={self.chunk_size})")


class WriterStats(tuple):
    """`finalize()`'s result: the tuple `(bytes_written, compressed_bytes)` (the original's) that also
    answers `stats['bytes_written']`, `stats['compressed_size']` (the guide's), `['checksum']`, `['uri']`."""

    _keys = ("bytes_written", "compressed_size", "compressed_bytes", "checksum", "uri")

    def __new__(cls, bytes_written: int, compressed_bytes: int, checksum: str, uri: str) -> WriterStats:
        self = super().__new__(cls, (bytes_written, compressed_bytes))
        self._extra = {"bytes_written": bytes_written, "compressed_size": compressed_bytes,
                       "compressed_bytes": compressed_bytes, "checksum": checksum, "uri": uri}
        return self

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            try:
                return self._extra[key]
            except KeyError:
                raise KeyError(key) from None
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self._extra.get(key, default)

    def keys(self) -> tuple[str, ...]:
        return self._keys

    def as_dict(self) -> dict[str, Any]:
        return dict(self._extra)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_extra"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getnewargs__(self) -> tuple[Any, ...]:
        e = self._extra
        return (e["bytes_written"], e["compressed_bytes"], e["checksum"], e["uri"])


class PyObjectWriter:
    """Streams one object into a store. Call `finalize()` to commit it; until then nothing is visible,
    and a writer that is dropped, aborted or left by an exception (in a `with` block) leaves no object."""

    def __init__(self, uri: str, options: PyWriterOptions | None = None) -> None:
        opts = options if options is not None else PyWriterOptions()
        if not isinstance(opts, PyWriterOptions):
            raise TypeError(f"options must be a PyWriterOptions, got {type(opts).__name__}")
        codec = opts.compression
        ext = EXTENSIONS.get(codec)
        if ext and not uri.endswith(ext):
            uri += ext
        self.uri = uri
        store, _ = store_for_uri(uri)
        inner = store.open_writer(uri)
        if ext:
            inner = CompressingWriter(inner, codec, opts.compression_level, opts.chunk_size)
        self._w = ChecksummingWriter(inner)  # CRC-32C of the uncompressed stream, as the original's
        self._n = 0
        self._lock = threading.Lock()
        self._state = "open"  # open, finalized, aborted

    # ---- writing ----
    def write_chunk(self, data: Any) -> int:
        """Append bytes-like `data`; returns the bytes accepted."""
        mv = as_buffer(data)
        with self._lock:
            self._check_open()
            try:
                self._w.write(mv)
            except BaseException:
                self._fail()
                raise
            self._n += mv.nbytes
        return mv.nbytes

    write = write_chunk

    def write_owned_bytes(self, data: Any, *, copy: bool = False) -> int:
        """Append `data` (the writer does not keep a reference after returning, so `copy` changes nothing)."""
        return self.write_chunk(bytes(as_buffer(data)) if copy else data)

    # ---- progress ----
    def bytes_written(self) -> int:
        """Uncompressed bytes accepted so far."""
        return self._n

    def compressed_bytes(self) -> int:
        """Bytes sent to the store so far (after compression; equals bytes_written without it)."""
        return self._w.compressed_bytes

    def checksum(self) -> str:
        """CRC32C of the uncompressed bytes so far, as 'crc32c:%08x'."""
        return self._w.checksum()

    # ---- ending ----
    def finalize(self) -> WriterStats:
        """Commit the object; returns (bytes_written, compressed_bytes) that also answers by name."""
        with self._lock:
            if self._state == "finalized":
                raise S3dlioError(f"Writer already finalized ({self.uri})", self.uri)
            self._check_open()
            try:
                self._w.close()
            except BaseException:
                self._state = "aborted"
                raise
            self._state = "finalized"
        return WriterStats(self._n, self.compressed_bytes(), self.checksum(), self.uri)

    def abort(self) -> None:
        """Discard everything written; no object appears."""
        with self._lock:
            if self._state == "open":
                self._fail()

    cancel = abort

    def _fail(self) -> None:
        self._state = "aborted"
        self._w.abort()

    def _check_open(self) -> None:
        if self._state == "finalized":
            raise S3dlioError(f"Writer has been finalized ({self.uri})", self.uri)
        if self._state == "aborted":
            raise S3dlioError(f"Writer was aborted ({self.uri})", self.uri)

    @property
    def finalized(self) -> bool:
        return self._state == "finalized"

    def __enter__(self) -> PyObjectWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            if self._state == "open":
                self.finalize()
        else:
            self.abort()

    def __del__(self) -> None:
        if getattr(self, "_state", None) == "open":
            try:
                self._fail()
            except Exception:
                pass

    def __repr__(self) -> str:
        return f"PyObjectWriter({self.uri!r}, {self._state}, {self._n} bytes)"


def _make(uri: str, options: PyWriterOptions | None, schemes: tuple[str, ...], what: str) -> PyObjectWriter:
    if not isinstance(uri, str):
        raise TypeError(f"uri must be a str, got {type(uri).__name__}")
    try:
        scheme = scheme_of(uri)
    except InvalidUriError:
        scheme = ""
    if scheme not in schemes:
        want = " or ".join(f"{s}://" for s in schemes)
        raise InvalidUriError(f"Failed to create {what} writer: expected a {want} URI, got {uri!r}", uri)
    return PyObjectWriter(uri, options)


def create_s3_writer(uri: str, options: PyWriterOptions | None = None) -> PyObjectWriter:
    """A streaming writer for s3://bucket/key."""
    return _make(uri, options, ("s3",), "S3")


def create_azure_writer(uri: str, options: PyWriterOptions | None = None) -> PyObjectWriter:
    """A streaming writer for az://account/container/blob."""
    return _make(uri, options, ("az",), "Azure")


def create_gcs_writer(uri: str, options: PyWriterOptions | None = None) -> PyObjectWriter:
    """A streaming writer for gs://bucket/object."""
    return _make(uri, options, ("gs",), "GCS")


def create_filesystem_writer(uri: str, options: PyWriterOptions | None = None) -> PyObjectWriter:
    """A streaming writer for file:///path (the file appears, renamed into place, at finalize)."""
    return _make(uri, options, ("file",), "filesystem")


def create_direct_filesystem_writer(uri: str, options: PyWriterOptions | None = None) -> PyObjectWriter:
    """A streaming writer for direct:///path (O_DIRECT)."""
    return _make(uri, options, ("direct",), "direct filesystem")


def _crc32c(crc: int, mv: memoryview) -> int:
    """CRC-32C of `mv` extending `crc` (kept for callers that still import it here; use
    `s3dlio_core.checksum.crc32c`)."""
    return crc32c(mv, crc)
