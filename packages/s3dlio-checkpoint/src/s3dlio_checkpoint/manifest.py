"""The manifest and latest.json documents, in the original's exact field order (serde pretty JSON with a
2-space indent), and the `PyCheckpointInfo` summary built from a manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import CheckpointError

__all__ = ["ShardMeta", "Manifest", "PyCheckpointInfo", "latest_json", "parse_latest", "dumps"]

FORMAT_VERSION = 1


def dumps(doc: Any) -> bytes:
    """serde_json's `to_string_pretty`: 2-space indent, ': ' after keys, UTF-8, no trailing newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")


@dataclass
class ShardMeta:
    """One shard as a manifest lists it: `size` is the stored (possibly compressed) length, `checksum` the
    CRC-32C of the uncompressed data as 'crc32c:%08x'."""

    rank: int
    key: str
    size: int
    etag: str | None
    checksum: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "key": self.key,
            "size": self.size,
            "etag": self.etag,
            "checksum": self.checksum,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "") -> ShardMeta:
        try:
            return cls(int(d["rank"]), str(d["key"]), int(d["size"]), d.get("etag"), d.get("checksum"))
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"bad shard entry in {where or 'a manifest'}: {d!r} ({e})", where) from None


@dataclass
class Manifest:
    """A checkpoint manifest (`manifests/ckpt-{step}-{ts}.json`)."""

    framework: str
    global_step: int
    epoch: int
    wall_time: str
    world_size: int
    shards: list[ShardMeta]
    status: str = "complete"
    user_meta: Any = None
    format_version: int = FORMAT_VERSION
    key: str = field(default="", compare=False)  # where it was read from (not written)

    def to_dict(self, with_user_meta: bool = True) -> dict[str, Any]:
        """The document in the original's field order."""
        d: dict[str, Any] = {
            "format_version": self.format_version,
            "framework": self.framework,
            "global_step": self.global_step,
            "epoch": self.epoch,
            "wall_time": self.wall_time,
            "world_size": self.world_size,
            "shards": [s.to_dict() for s in self.shards],
            "status": self.status,
        }
        if with_user_meta:
            d["user_meta"] = self.user_meta
        return d

    def to_json(self) -> bytes:
        return dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: Any, where: str = "") -> Manifest:
        if not isinstance(d, dict):
            raise CheckpointError(f"manifest {where} is not a JSON object", where)
        try:
            return cls(
                framework=str(d["framework"]),
                global_step=int(d["global_step"]),
                epoch=int(d["epoch"]),
                wall_time=str(d.get("wall_time", "")),
                world_size=int(d["world_size"]),
                shards=[ShardMeta.from_dict(s, where) for s in d.get("shards") or []],
                status=str(d.get("status", "complete")),
                user_meta=d.get("user_meta"),
                format_version=int(d.get("format_version", FORMAT_VERSION)),
                key=where,
            )
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"bad manifest {where}: missing or invalid field {e}", where) from None

    @classmethod
    def from_json(cls, data: Any, where: str = "") -> Manifest:
        try:
            doc = json.loads(bytes(data))
        except ValueError as e:
            raise CheckpointError(f"manifest {where} is not valid JSON: {e}", where) from None
        return cls.from_dict(doc, where)

    def shard_for_rank(self, rank: int, where: str = "") -> ShardMeta:
        for s in self.shards:
            if s.rank == rank:
                return s
        raise CheckpointError(
            f"rank {rank} not found in manifest {where or self.key} (world_size {self.world_size})",
            where or self.key,
        )

    @property
    def total_size(self) -> int:
        return sum(s.size for s in self.shards)


def latest_json(manifest_key: str, global_step: int, ts: str) -> bytes:
    """`{"manifest_key", "global_step", "ts"}`, pretty JSON, overwritten on every save."""
    return dumps({"manifest_key": manifest_key, "global_step": global_step, "ts": ts})


def parse_latest(data: Any, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(bytes(data))
        if not isinstance(doc, dict) or not isinstance(doc.get("manifest_key"), str):
            raise ValueError("no manifest_key")
    except ValueError as e:
        raise CheckpointError(f"{where} is not a valid latest.json: {e}", where) from None
    return doc


class PyCheckpointInfo:
    """A summary of one checkpoint, as `PyCheckpointStore.list_checkpoints()` returns it."""

    __slots__ = (
        "epoch",
        "framework",
        "manifest_key",
        "status",
        "step",
        "timestamp",
        "total_size",
        "world_size",
    )

    def __init__(self, manifest: Manifest) -> None:
        self.step = manifest.global_step
        self.epoch = manifest.epoch
        self.framework = manifest.framework
        self.world_size = manifest.world_size
        self.total_size = manifest.total_size
        self.timestamp = manifest.wall_time
        self.status = manifest.status
        self.manifest_key = manifest.key

    @property
    def is_complete(self) -> bool:
        return self.status == "complete"

    @property
    def is_single_rank(self) -> bool:
        return self.world_size == 1

    @property
    def size_mb(self) -> float:
        return self.total_size / 2**20

    @property
    def size_gb(self) -> float:
        return self.total_size / 2**30

    def __repr__(self) -> str:
        return (
            f"PyCheckpointInfo(step={self.step}, epoch={self.epoch}, framework={self.framework!r}, "
            f"world_size={self.world_size}, total_size={self.total_size}, status={self.status!r})"
        )
