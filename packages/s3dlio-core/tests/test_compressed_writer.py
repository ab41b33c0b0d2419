"""CompressingWriter: compresses into any ObjectWriter, commits and aborts through it, imports codecs lazily."""

from __future__ import annotations

import gzip
import os
import pathlib
import subprocess
import sys

import pytest
from s3dlio_core import store_for_uri
from s3dlio_core.compressed_writer import CompressingWriter, normalize_codec
from s3dlio_core.errors import UnsupportedOperationError


def _decompress(codec: str, data: bytes) -> bytes:
    if codec == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    if codec == "lz4":
        import lz4.frame

        return lz4.frame.decompress(data)
    return gzip.decompress(data)


@pytest.mark.parametrize("codec", ["zstd", "gzip", "lz4"])
@pytest.mark.parametrize("limit", [0, 1 << 20])  # streamed frames, and one-shot
def test_roundtrip_through_a_file_writer(tmp_path: pathlib.Path, codec: str, limit: int) -> None:
    uri = f"file://{tmp_path}/obj.{codec}"
    store, _ = store_for_uri(uri)
    payload = os.urandom(1000) * 300
    w = CompressingWriter(store.open_writer(uri), codec, None, one_shot_limit=limit)
    for i in range(0, len(payload), 7000):
        w.write(payload[i:i + 7000])
    assert w.close() == len(payload)
    stored = bytes(store.get(uri))
    assert w.compressed_bytes == len(stored) < len(payload) / 10
    assert _decompress(codec, stored) == payload


def test_abort_leaves_nothing(tmp_path: pathlib.Path) -> None:
    uri = f"file://{tmp_path}/gone.zst"
    store, _ = store_for_uri(uri)
    w = CompressingWriter(store.open_writer(uri), "zstd", 1, one_shot_limit=0)
    w.write(b"x" * 100_000)
    w.abort()
    assert os.listdir(tmp_path) == []


def test_codec_names() -> None:
    assert normalize_codec("ZST") == "zstd" and normalize_codec("gz") == "gzip" and normalize_codec(None) == "none"
    with pytest.raises(UnsupportedOperationError, match="Unsupported compression type"):
        normalize_codec("brotli")


def test_codecs_are_imported_lazily() -> None:
    code = "import sys, s3dlio_core.compressed_writer; print(any(m in sys.modules for m in ('zstandard', 'lz4')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
