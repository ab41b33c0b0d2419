"""PyCheckpointStore, its writer, stream and reader on file://, memory:// and S3: the original's
behaviour (save, load_latest, list_checkpoints with every field, delete_checkpoint, distributed shards,
streams, manifests) and the safety guarantees (every shard before the manifest, validation naming the
shard, missing ranks refused)."""

from __future__ import annotations

import json

import pytest
import s3dlio_checkpoint as ck
from s3dlio_core import BytesView, store_for_uri
from s3dlio_core.checksum import crc32c


def _store(base: str):  # the underlying object store
    return store_for_uri(base + "/latest.json")[0]


@pytest.mark.parametrize("strategy", ["flat", "round_robin", "binary"])
def test_save_load_list_delete(base: str, strategy: str) -> None:
    s = ck.PyCheckpointStore(base, strategy=strategy)
    assert (
        s.load_latest() is None and s.list_checkpoints() == [] and s.reader().load_latest_manifest() is None
    )
    k1 = s.save(100, 1, "torch", b"one" * 1000)
    k2 = s.save(200, 2, "torch", bytearray(b"two" * 1000), user_meta={"note": "kept"})
    assert k1 != k2
    got = s.load_latest()
    assert isinstance(got, BytesView) and got == b"two" * 1000
    infos = s.list_checkpoints()
    assert [i.step for i in infos] == [100, 200]
    i = infos[1]
    assert (i.epoch, i.framework, i.world_size, i.total_size, i.status) == (2, "torch", 1, 3000, "complete")
    assert i.is_complete and i.is_single_rank and i.timestamp.endswith("+00:00")
    assert i.size_mb == 3000 / 2**20 and i.size_gb == 3000 / 2**30
    doc = json.loads(bytes(_store(base).get(f"{base}/{k2}")))
    assert doc["user_meta"] == {"note": "kept"}  # kept (the original wrote null)
    key = doc["shards"][0]["key"]
    assert key.startswith(
        {"flat": "shards/ckpt-", "round_robin": "shards/rr/00/", "binary": "shards/bin/0000/"}[strategy]
    )
    assert s.delete_checkpoint(200) is True and s.delete_checkpoint(999) is False
    assert not _store(base).exists(f"{base}/{key}")
    assert s.load_latest() == b"one" * 1000  # latest.json now names the remaining checkpoint
    assert s.delete_checkpoint(100) and s.load_latest() is None


def test_zstd_shards_checksum_the_uncompressed_data(base: str) -> None:
    s = ck.PyCheckpointStore(base, compression_level=5)
    s.save(1, 0, "jax", b"A" * 10000)
    m = s.reader().load_latest_manifest()
    assert "user_meta" not in m and m["format_version"] == 1
    sh = m["shards"][0]
    assert sh["key"].endswith(".bin.zst") and sh["size"] < 100
    assert sh["checksum"] == f"crc32c:{crc32c(b'A' * 10000):08x}"
    assert s.load_latest() == b"A" * 10000


def test_distributed_writer_stream_and_reader(base: str) -> None:
    s = ck.PyCheckpointStore(base, strategy="round_robin")
    metas = [s.writer(3, 0).save_distributed_shard(7, 1, "torch", b"r0" * 100)]
    assert set(metas[0]) == {"step", "timestamp", "rank", "key", "size", "etag", "checksum"}
    stream = s.writer(3, 1).get_distributed_shard_stream(7, 1, "torch")
    for _ in range(4):
        stream.write_chunk(b"r1" * 50)
    assert stream.bytes_written() == 400
    metas.append(stream.finalize())
    assert set(metas[1]) == {"step", "epoch", "rank", "key", "size", "etag", "checksum"}
    dropped = s.writer(3, 2).get_distributed_shard_stream(7, 1, "torch")
    dropped.write_chunk(b"lost")
    dropped.cancel()
    assert not _store(base).exists(dropped.uri)
    with pytest.raises(ck.CheckpointIncompleteError, match=r"missing shards for ranks \[2\]") as ei:
        s.writer(3, 0).finalize_distributed_checkpoint(7, 1, "torch", metas)
    assert ei.value.missing_ranks == [2]
    assert s.reader().load_latest_manifest() is None  # nothing became visible
    metas.append(s.writer(3, 2).save_distributed_shard(7, 1, "torch", b"r2"))
    key = s.writer(3, 0).finalize_distributed_checkpoint(7, 1, "torch", metas)
    assert key.startswith("manifests/ckpt-7-")
    r = s.reader()
    m = r.load_latest_manifest()
    assert m["world_size"] == 3 and [x["rank"] for x in m["shards"]] == [0, 1, 2]
    assert r.read_shard_by_rank(m, 1) == b"r1" * 200 and r.read_shard_by_rank(m, 2) == b"r2"
    with pytest.raises(
        RuntimeError,
        match=r"^Load failed: Cannot load multi-rank checkpoint with load_latest\(\)\. "
        r"Use reader\(\) directly\.$",
    ):
        s.load_latest()


def test_a_manifest_never_names_a_shard_that_has_not_landed(base: str) -> None:
    s = ck.PyCheckpointStore(base)
    meta = s.writer(1, 0).save_distributed_shard(1, 0, "x", b"data")
    _store(base).delete(f"{base}/{meta['key']}")
    with pytest.raises(ck.CheckpointError, match="has not landed"):
        s.writer(1, 0).finalize_distributed_checkpoint(1, 0, "x", [meta])
    assert s.reader().load_latest_manifest() is None


@pytest.mark.parametrize("compressed", [False, True])
def test_validation_catches_one_flipped_byte_and_names_the_shard(base: str, compressed: bool) -> None:
    s = ck.PyCheckpointStore(base, compression_level=3 if compressed else None)
    w = [s.writer(2, r) for r in range(2)]
    metas = [w[r].save_distributed_shard(5, 0, "torch", bytes(range(256)) * 64 * (r + 1)) for r in range(2)]
    w[0].finalize_distributed_checkpoint(5, 0, "torch", metas)
    uris = [f"{base}/{m['key']}" for m in metas]
    assert ck.load_checkpoint_with_validation(uris[1]) == bytes(range(256)) * 128
    assert isinstance(ck.load_checkpoint_with_validation_view(uris[0]), BytesView)
    st = _store(base)
    if compressed:  # a changed payload that still decodes: recompress other data under the same entry
        import zstandard

        bad = bytearray(bytes(range(256)) * 128)
        bad[1000] ^= 0x01
        st.put(uris[1], zstandard.ZstdCompressor(level=3).compress(bytes(bad)))
    else:
        raw = bytearray(st.get(uris[1]))
        raw[1000] ^= 0x01
        st.put(uris[1], raw)
    with pytest.raises(
        ck.CheckpointIntegrityError,
        match=r"^Integrity validation failed for .*rank-1\.bin(\.zst)?: expected crc32c:[0-9a-f]{8}, "
        r"got [0-9a-f]{8} \(CRC-32C; checksums written before the #256 fix were CRC-32\)$",
    ) as ei:
        ck.load_checkpoint_with_validation(uris[1])
    assert ei.value.shard == uris[1]
    assert ck.load_checkpoint_with_validation(uris[0]) == bytes(range(256)) * 64  # the other shard is fine
    assert len(ck.load_checkpoint_with_validation(uris[1], validate_integrity=False)) > 0


def test_validation_of_a_non_shard_uri_has_the_original_text(base: str) -> None:
    ck.PyCheckpointStore(base).save(1, 0, "x", b"d")
    with pytest.raises(
        RuntimeError,
        match=r"^cannot validate integrity of '.*/nothing/here\.bin': not a checkpoint "
        r"shard URI \(expected '<checkpoint base>/shards/<shard key>'\); pass "
        r"validate_integrity=False to read it without verification$",
    ):
        ck.load_checkpoint_with_validation(base + "/nothing/here.bin")


def test_str_data_is_a_type_error(base: str) -> None:
    with pytest.raises(TypeError, match="Cannot convert data to bytes"):
        ck.PyCheckpointStore(base).save(1, 0, "x", "text")


def test_large_bytes_shard_streams_above_the_multipart_threshold(base: str) -> None:
    s = ck.PyCheckpointStore(base, multipart_threshold=1 << 20)
    data = bytes(range(256)) * (24 << 12)  # 24 MiB: streamed in parts, fetched with parallel ranges
    s.save(3, 0, "x", data)
    assert s.load_latest() == data
    uri = f"{base}/{s.reader().load_latest_manifest()['shards'][0]['key']}"
    assert ck.load_checkpoint_with_validation(uri) == data
