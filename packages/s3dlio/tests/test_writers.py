"""Streaming writers on file://: options in both styles, compression round trips, checksums, the stats
object, nothing visible before finalize, and an abandoned writer leaves no object."""

from __future__ import annotations

import gc
import gzip
import os
import pathlib

import lz4.frame
import pytest
import s3dlio
import zstandard


@pytest.fixture
def base(tmp_path: pathlib.Path) -> str:
    return f"file://{tmp_path}/w/"


def files(base: str) -> list[str]:
    d = base[len("file://"):]
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_plain_writer_roundtrip_and_stats(base: str) -> None:
    w = s3dlio.create_filesystem_writer(base + "a.bin")
    chunks = [os.urandom(1000), bytearray(os.urandom(5000)), memoryview(os.urandom(3))]
    for c in chunks:
        w.write_chunk(c)
    assert w.bytes_written() == 6003
    assert files(base) == [] or all(f.startswith(".") for f in files(base))  # not visible yet
    stats = w.finalize()
    assert tuple(stats) == (6003, 6003)
    assert stats["bytes_written"] == 6003 and stats["compressed_size"] == 6003
    assert stats[0] == 6003 and len(stats) == 2
    bytes_written, compressed = stats
    assert (bytes_written, compressed) == (6003, 6003)
    assert bytes(s3dlio.get(base + "a.bin")) == b"".join(bytes(c) for c in chunks)
    assert files(base) == ["a.bin"]


def test_checksum_is_crc32c_of_uncompressed_data(base: str) -> None:
    for codec in ("none", "zstd"):
        opts = s3dlio.PyWriterOptions()
        opts.compression = codec
        w = s3dlio.create_filesystem_writer(base + f"c-{codec}.bin", opts)
        w.write(b"A" * 100000)
        assert w.checksum() == "crc32c:9e990ed2"
        assert w.finalize()["checksum"] == "crc32c:9e990ed2"


@pytest.mark.parametrize(("codec", "ext", "decompress"), [
    ("zstd", ".zst", lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b)),
    ("gzip", ".gz", gzip.decompress),
    ("lz4", ".lz4", lz4.frame.decompress),
])
@pytest.mark.parametrize("size", [100_000, 9 << 20])  # one-shot frame, and streamed frames
def test_compressed_roundtrip_and_extension(base: str, codec: str, ext: str, decompress, size: int) -> None:
    opts = s3dlio.PyWriterOptions()
    opts.compression = codec
    opts.compression_level = 1
    w = s3dlio.create_filesystem_writer(base + "data.bin", opts)
    payload = bytes(s3dlio.generate_data(size, 1, 4))
    step = 1 << 20
    for i in range(0, size, step):
        w.write(payload[i:i + step])
    stats = w.finalize()
    assert w.uri.endswith("data.bin" + ext)
    stored = bytes(s3dlio.get(base + "data.bin" + ext))
    assert stats["compressed_size"] == len(stored) == w.compressed_bytes()
    assert stats["bytes_written"] == size
    assert len(stored) < size / 2
    assert decompress(stored) == payload
    assert files(base) == ["data.bin" + ext]


def test_small_zstd_object_decompresses_with_the_plain_api(base: str) -> None:
    opts = s3dlio.PyWriterOptions().with_compression("zstd", 3)
    w = s3dlio.create_filesystem_writer(base + "z.bin", opts)
    w.write(b"hello world " * 1000)
    w.finalize()
    assert zstandard.ZstdDecompressor().decompress(bytes(s3dlio.get(base + "z.bin.zst"))) == b"hello world " * 1000


def test_extension_not_doubled(base: str) -> None:
    opts = s3dlio.PyWriterOptions()
    opts.compression = "zstd"
    w = s3dlio.create_filesystem_writer(base + "x.zst", opts)
    w.write(b"abc")
    w.finalize()
    assert files(base) == ["x.zst"]


def test_options_both_styles() -> None:
    o = s3dlio.PyWriterOptions()
    assert (o.compression, o.compression_level) == ("none", None)
    assert o.with_compression("ZSTD", level=5) is o
    assert (o.compression, o.compression_level) == ("zstd", 5)
    o.with_buffer_size(1 << 20)
    assert o.chunk_size == o.buffer_size == 1 << 20
    o.chunk_size = 4194304
    o.compression = "gzip"
    o.compression_level = 9
    assert "gzip" in repr(o)
    with pytest.raises(s3dlio.UnsupportedOperationError, match="Unsupported compression type"):
        o.compression = "brotli"
    with pytest.raises(ValueError):
        o.chunk_size = 0


def test_after_finalize_writes_and_second_finalize_fail(base: str) -> None:
    w = s3dlio.create_filesystem_writer(base + "f.bin")
    w.write_owned_bytes(b"x")
    w.write_owned_bytes(b"y", copy=True)
    w.finalize()
    with pytest.raises(RuntimeError, match="finalized"):
        w.write_chunk(b"more")
    with pytest.raises(RuntimeError, match="already finalized"):
        w.finalize()
    assert bytes(s3dlio.get(base + "f.bin")) == b"xy"


def test_abandoned_writer_leaves_nothing(base: str) -> None:
    w = s3dlio.create_filesystem_writer(base + "dropped.bin")
    w.write(b"partial")
    del w
    gc.collect()
    w2 = s3dlio.create_filesystem_writer(base + "aborted.bin", s3dlio.PyWriterOptions().with_compression("zstd"))
    w2.write(os.urandom(10 << 20))
    w2.abort()
    with pytest.raises(RuntimeError, match="aborted"):
        w2.write(b"x")
    with pytest.raises(ZeroDivisionError), s3dlio.create_filesystem_writer(base + "exc.bin") as w3:
        w3.write(b"data")
        1 / 0  # noqa: B018
    assert files(base) == []
    assert not s3dlio.exists(base + "dropped.bin")


def test_context_manager_commits(base: str) -> None:
    with s3dlio.create_filesystem_writer(base + "cm.bin") as w:
        w.write(b"ok")
    assert w.finalized
    assert bytes(s3dlio.get(base + "cm.bin")) == b"ok"


def test_factories_check_the_scheme(tmp_path: pathlib.Path) -> None:
    cases = [(s3dlio.create_filesystem_writer, f"direct://{tmp_path}/a"),
             (s3dlio.create_filesystem_writer, str(tmp_path / "bare")),
             (s3dlio.create_s3_writer, f"file://{tmp_path}/a"),
             (s3dlio.create_azure_writer, "s3://b/k"),
             (s3dlio.create_gcs_writer, "az://a/c/b"),
             (s3dlio.create_direct_filesystem_writer, f"file://{tmp_path}/a")]
    for factory, uri in cases:
        with pytest.raises(s3dlio.InvalidUriError, match="writer"):
            factory(uri)
    with pytest.raises(TypeError):
        s3dlio.create_filesystem_writer(f"file://{tmp_path}/a", options={"compression": "zstd"})  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())
