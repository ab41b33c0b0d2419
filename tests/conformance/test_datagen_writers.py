"""Bulk put, streaming writers, mp_get and s3-cli on every conformance backend (the same contract as on
file://): names, distinct contents, ratios, compressed round trips, nothing visible before finalize."""

from __future__ import annotations

import hashlib

import pytest
import s3dlio
import zstandard
from s3dlio.cli import main as s3_cli

MiB = 1 << 20
FACTORIES = {"s3": "create_s3_writer", "az": "create_azure_writer", "gs": "create_gcs_writer",
             "file": "create_filesystem_writer", "direct": "create_direct_filesystem_writer"}


def writer(uri: str, options: s3dlio.PyWriterOptions | None = None) -> s3dlio.PyObjectWriter:
    from s3dlio_core.uri import scheme_of

    factory = FACTORIES.get(scheme_of(uri))  # memory:// has no named factory: the generic writer
    return getattr(s3dlio, factory)(uri, options) if factory else s3dlio.PyObjectWriter(uri, options)


def rel(prefix: str) -> list[str]:
    return sorted(u[len(prefix):] for u in s3dlio.list(prefix, recursive=True))


def test_bulk_put_names_sizes_and_distinct_content(store_prefix: str) -> None:
    s3dlio.put(store_prefix + "bulk", 4, template="obj-{}-of-{}", size=100_000)
    assert rel(store_prefix + "bulk/") == [f"obj-{i}-of-4" for i in range(4)]
    digests = {hashlib.sha256(s3dlio.get(store_prefix + f"bulk/obj-{i}-of-4")).digest() for i in range(4)}
    assert len(digests) == 4


@pytest.mark.parametrize("mode", ["streaming", "single-pass"])
def test_bulk_put_ratios_through_the_store(store_prefix: str, mode: str) -> None:
    s3dlio.put(store_prefix + mode, 1, template="big", size=6 * MiB, dedup_factor=3, compress_factor=2,
               data_gen_mode=mode, chunk_size=MiB)
    data = memoryview(s3dlio.get(store_prefix + f"{mode}/big"))
    assert len(data) == 6 * MiB
    assert len({hashlib.sha1(data[i:i + MiB]).digest() for i in range(0, 6 * MiB, MiB)}) == 2
    ratio = 2 * MiB / len(zstandard.ZstdCompressor(level=1).compress(data[:2 * MiB]))
    assert abs(ratio - 2) <= 0.2


def test_writer_zstd_roundtrip_and_invisible_until_finalize(store_prefix: str) -> None:
    opts = s3dlio.PyWriterOptions()
    opts.compression = "zstd"
    w = writer(store_prefix + "w/data.bin", opts)
    payload = bytes(s3dlio.generate_data(3 * MiB, 1, 4))
    for i in range(0, len(payload), 700_000):
        w.write(payload[i:i + 700_000])
    assert rel(store_prefix + "w/") == []
    stats = w.finalize()
    assert stats["bytes_written"] == len(payload) and stats[0] == len(payload)
    stored = bytes(s3dlio.get(store_prefix + "w/data.bin.zst"))
    assert len(stored) == stats["compressed_size"]
    assert zstandard.ZstdDecompressor().decompressobj().decompress(stored) == payload
    assert rel(store_prefix + "w/") == ["data.bin.zst"]


def test_abandoned_writers_leave_nothing(store_prefix: str) -> None:
    w = writer(store_prefix + "gone/a.bin")
    w.write(b"x" * 1000)
    w.abort()
    with pytest.raises(RuntimeError), writer(store_prefix + "gone/b.bin") as w2:
        w2.write(b"y" * 1000)
        raise RuntimeError("boom")
    assert rel(store_prefix + "gone/") == []


def test_mp_get_over_the_store(store_prefix: str) -> None:
    s3dlio.put(store_prefix + "mp", 6, template="object_{}.dat", size=10_000)
    if store_prefix.startswith("memory://"):  # objects in this process: worker processes cannot see them
        with pytest.raises(s3dlio.UnsupportedOperationError, match="memory://"):
            s3dlio.mp_get(store_prefix + "mp/", procs=2, jobs=4, num=6)
        return
    r = s3dlio.mp_get(store_prefix + "mp/", procs=2, jobs=4, num=6)
    assert (r["succeeded"], r["failed"], r["total_bytes"]) == (6, 0, 60_000)


def test_cli_on_the_store(store_prefix: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert s3_cli(["put", store_prefix + "cli/", "-n", "3", "-s", "10KiB"]) == 0
    assert s3_cli(["ls", "-r", store_prefix + "cli/"]) == 0
    assert s3_cli(["get", "-r", store_prefix + "cli/"]) == 0
    out = capsys.readouterr().out
    assert "Benchmarked 3 objects: 30,720 bytes" in out
    assert s3_cli(["delete", "-r", store_prefix + "cli/"]) == 0
    assert rel(store_prefix + "cli/") == []
