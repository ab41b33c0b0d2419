"""The original's layout, byte for byte: keys of each strategy, manifest field order and JSON text,
latest.json, timestamps, and keys that cannot escape the base."""

from __future__ import annotations

import json
import re

import pytest
from s3dlio_checkpoint import CheckpointError, PyCheckpointStore, layout
from s3dlio_checkpoint.manifest import Manifest, ShardMeta, latest_json
from s3dlio_core import InvalidUriError, store_for_uri
from s3dlio_core.checksum import crc32c


def test_shard_keys_of_each_strategy() -> None:
    ts = "20261121-072747"
    assert layout.shard_key("flat", 100, ts, 3) == "shards/ckpt-100-20261121-072747/rank-3.bin"
    assert layout.shard_key("round_robin", 100, ts, 17) == "shards/rr/01/ckpt-100-20261121-072747/rank-17.bin"
    assert layout.shard_key("binary", 100, ts, 200) == "shards/bin/1100/ckpt-100-20261121-072747/rank-200.bin"
    assert layout.shard_key("flat", 1, ts, 0, compressed=True).endswith("rank-0.bin.zst")
    assert layout.normalize_strategy("roundrobin") == "round_robin"
    assert layout.manifest_key(100, ts) == "manifests/ckpt-100-20261121-072747.json"


def test_invalid_strategy_has_the_original_text(file_base: str) -> None:
    with pytest.raises(
        RuntimeError,
        match=r"^Invalid strategy: Unknown strategy: weird\. Valid options: flat, "
        r"round_robin, binary$",
    ):
        PyCheckpointStore(file_base, strategy="weird")


def test_timestamp_and_wall_time_formats() -> None:
    assert re.fullmatch(r"\d{8}-\d{6}", layout.timestamp())
    assert layout.wall_time(1_795_000_000_343_132_407).endswith(".343132407+00:00")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00", layout.wall_time())


def test_manifest_json_field_order_and_text() -> None:
    m = Manifest(
        framework="torch",
        global_step=100,
        epoch=1,
        wall_time="2026-11-21T07:27:47.343132407+00:00",
        world_size=1,
        shards=[ShardMeta(0, "shards/ckpt-100-20261121-072747/rank-0.bin", 18, None, "crc32c:b56f4383")],
    )
    text = m.to_json().decode()
    assert (
        text
        == """{
  "format_version": 1,
  "framework": "torch",
  "global_step": 100,
  "epoch": 1,
  "wall_time": "2026-11-21T07:27:47.343132407+00:00",
  "world_size": 1,
  "shards": [
    {
      "rank": 0,
      "key": "shards/ckpt-100-20261121-072747/rank-0.bin",
      "size": 18,
      "etag": null,
      "checksum": "crc32c:b56f4383"
    }
  ],
  "status": "complete",
  "user_meta": null
}"""
    )
    assert list(json.loads(latest_json("manifests/x.json", 200, "t"))) == [
        "manifest_key",
        "global_step",
        "ts",
    ]


def test_saved_checkpoint_layout_on_file(file_base: str) -> None:
    s = PyCheckpointStore(file_base, compression_level=3)
    key = s.save(100, 1, "torch", b"A" * 10000)
    assert re.fullmatch(r"manifests/ckpt-100-\d{8}-\d{6}\.json", key)
    store = store_for_uri(file_base + "/latest.json")[0]
    latest = json.loads(bytes(store.get(file_base + "/latest.json")))
    assert latest["manifest_key"] == key and latest["global_step"] == 100
    assert key == f"manifests/ckpt-100-{latest['ts']}.json"
    doc = json.loads(bytes(store.get(f"{file_base}/{key}")))
    assert list(doc) == [
        "format_version",
        "framework",
        "global_step",
        "epoch",
        "wall_time",
        "world_size",
        "shards",
        "status",
        "user_meta",
    ]
    shard = doc["shards"][0]
    assert list(shard) == ["rank", "key", "size", "etag", "checksum"]
    assert shard["key"] == f"shards/ckpt-100-{latest['ts']}/rank-0.bin.zst"
    assert (
        shard["size"] == store.stat(f"{file_base}/{shard['key']}")["size"] < 100
    )  # stored (compressed) size
    assert shard["checksum"] == f"crc32c:{crc32c(b'A' * 10000):08x}"  # of the uncompressed data
    assert shard["etag"].startswith("file-")
    assert doc["user_meta"] is None and doc["status"] == "complete"


def test_keys_from_a_manifest_cannot_escape_the_base(file_base: str) -> None:
    w = PyCheckpointStore(file_base).writer(1, 0)
    bad = {"rank": 0, "key": "shards/../../etc/passwd", "size": 1, "etag": None, "checksum": None}
    with pytest.raises(InvalidUriError, match=r"'\.\.'"):
        w.finalize_distributed_checkpoint(1, 0, "x", [bad])
    with pytest.raises(InvalidUriError):
        layout.key_uri(file_base, "/abs")
    with pytest.raises(CheckpointError):
        layout.base_of("not-a-uri")
