"""`PyCheckpointStore`: the original's checkpoint store on any s3dlio store (file://, memory://, s3://,
gs://, az://, direct://), in its byte-compatible layout (see `layout`).

Visibility is ordered so that a crash at any point leaves the previous checkpoint the latest: shards are
committed first (each atomic: multipart completion, or a temporary file renamed into place), then the
manifest, then latest.json. A manifest is written only after every rank's shard is known to exist.
"""

from __future__ import annotations

from typing import Any

from s3dlio_core import BytesView, ObjectNotFoundError, StorageIOError, as_buffer
from s3dlio_core.checksum import crc32c, format_crc32c

from . import layout
from .errors import CheckpointError, CheckpointIntegrityError
from .manifest import Manifest, PyCheckpointInfo, ShardMeta, latest_json, parse_latest
from .reader import PyCheckpointReader
from .shard_io import decode, fetch, store_of
from .writer import PyCheckpointWriter

__all__ = ["PyCheckpointStore", "DEFAULT_MULTIPART_THRESHOLD", "verify_shard"]

DEFAULT_MULTIPART_THRESHOLD = 100 << 20  # the original's default [src]


def verify_shard(data: Any, expected: str | None, uri: str) -> None:
    """Raise CheckpointIntegrityError (naming the shard) unless `data`'s CRC-32C is `expected`."""
    if not expected:
        return
    got = format_crc32c(crc32c(data))
    if got != expected:
        raise CheckpointIntegrityError(
            f"Integrity validation failed for {uri}: expected {expected}, got {got.split(':', 1)[1]} "
            "(CRC-32C; checksums written before the #256 fix were CRC-32)",
            uri,
            shard=uri,
        )


class PyCheckpointStore:
    """A checkpoint store rooted at `uri`.

    `strategy`: 'flat' (default), 'round_robin' ('roundrobin') or 'binary' shard placement;
    `multipart_threshold`: bytes above which a shard given as bytes is streamed in parts (100 MiB);
    `compression_level`: zstd level for the shards (keys get '.zst'); None stores them raw.
    """

    def __init__(
        self,
        uri: str,
        strategy: str | None = None,
        multipart_threshold: int | None = None,
        compression_level: int | None = None,
    ) -> None:
        self.uri = uri
        self.base = layout.base_of(uri)
        self.strategy = layout.normalize_strategy(strategy)
        if multipart_threshold is not None and (
            isinstance(multipart_threshold, bool)
            or not isinstance(multipart_threshold, int)
            or multipart_threshold < 0
        ):
            raise TypeError(f"multipart_threshold must be a non-negative int, got {multipart_threshold!r}")
        self.multipart_threshold = (
            DEFAULT_MULTIPART_THRESHOLD if multipart_threshold is None else multipart_threshold
        )
        if compression_level is not None and (
            isinstance(compression_level, bool) or not isinstance(compression_level, int)
        ):
            raise TypeError(f"compression_level must be an int or None, got {compression_level!r}")
        self.compression_level = compression_level
        self.store = store_of(self.base + "/" + layout.LATEST)

    def __repr__(self) -> str:
        return (
            f"PyCheckpointStore(uri={self.base!r}, strategy={self.strategy!r}, "
            f"compression_level={self.compression_level!r})"
        )

    def _uri(self, key: str) -> str:
        return layout.key_uri(self.base, key)

    # ---------------------------------------------------------------- writing
    def writer(self, world_size: int, rank: int) -> PyCheckpointWriter:
        """A writer for rank `rank` of a `world_size`-rank checkpoint."""
        return PyCheckpointWriter(self, world_size, rank)

    def reader(self) -> PyCheckpointReader:
        return PyCheckpointReader(self)

    def save(self, step: int, epoch: int, framework: str, data: Any, user_meta: Any = None) -> str:
        """Save bytes-like `data` as a single-rank checkpoint; returns the manifest key."""
        w = self.writer(1, 0)
        meta = w.save_distributed_shard(step, epoch, framework, data)
        return w.finalize_distributed_checkpoint(step, epoch, framework, [meta], user_meta)

    def _check_shards_landed(self, shards: list[ShardMeta]) -> None:
        """Every shard object exists (one stat each, in parallel) before a manifest names it."""
        uris = [self._uri(s.key) for s in shards]
        try:
            self.store.stat_many(uris)
        except ObjectNotFoundError as e:
            raise CheckpointError(
                f"cannot finalize checkpoint at {self.base}: shard {e.uri or e} has not landed", self.base
            ) from e

    def _commit(self, manifest: Manifest, ts: str) -> str:
        """Manifest first, then latest.json (each one atomic PUT); returns the manifest key."""
        key = layout.manifest_key(manifest.global_step, ts)
        self.store.put(self._uri(key), manifest.to_json())
        self.store.put(self._uri(layout.LATEST), latest_json(key, manifest.global_step, ts))
        manifest.key = key
        return key

    # ---------------------------------------------------------------- reading
    def read_manifest(self, key: str) -> Manifest:
        uri = self._uri(key)
        return Manifest.from_json(self.store.get(uri), key)

    def latest_manifest(self) -> Manifest | None:
        """The manifest latest.json names, or None when there is no checkpoint."""
        uri = self._uri(layout.LATEST)
        try:
            doc = parse_latest(self.store.get(uri), uri)
        except ObjectNotFoundError:
            return None
        except StorageIOError:  # file://: a path component is a file (ENOTDIR), so nothing is there
            if not self.store.exists(uri):
                return None
            raise
        try:
            return self.read_manifest(doc["manifest_key"])
        except ObjectNotFoundError:
            raise CheckpointError(
                f"Load failed: latest.json at {self.base} names {doc['manifest_key']}, which does not exist",
                self.base,
            ) from None

    def read_shard(self, manifest: Manifest, rank: int, validate: bool = False) -> BytesView:
        """Rank `rank`'s shard, uncompressed, fetched with parallel ranges; `validate` checks its CRC-32C."""
        shard = manifest.shard_for_rank(rank)
        uri = self._uri(shard.key)
        data = decode(fetch(self.store, uri, shard.size), shard.key)
        if validate:
            verify_shard(data, shard.checksum, uri)
        return data

    def load_latest(self) -> BytesView | None:
        """The single-rank latest checkpoint's data, or None when there is none."""
        m = self.latest_manifest()
        if m is None:
            return None
        if m.world_size > 1:
            raise CheckpointError(
                "Load failed: Cannot load multi-rank checkpoint with load_latest(). Use reader() directly.",
                self.base,
            )
        return self.read_shard(m, 0)

    def manifests(self) -> list[Manifest]:
        """Every manifest under `manifests/`, read in parallel."""
        prefix = self._uri(layout.MANIFESTS)
        uris = [
            i.uri
            for i in self.store.list_info(prefix, recursive=True)
            if not i.is_dir and i.uri.endswith(".json")
        ]
        out = []
        for u, d in self.store.get_many(uris) if uris else []:
            out.append(Manifest.from_json(d, layout.relative_key(self.base, u) or u))
        return out

    def list_checkpoints(self) -> list[PyCheckpointInfo]:
        """One PyCheckpointInfo per manifest, by ascending step (then time written)."""
        ms = sorted(self.manifests(), key=lambda m: (m.global_step, m.wall_time))
        return [PyCheckpointInfo(m) for m in ms]

    def delete_checkpoint(self, step: int) -> bool:
        """Delete every checkpoint of `step` (manifest first, so none is visible half-deleted, then its
        shards); latest.json is pointed at the newest remaining checkpoint (or removed). True if found."""
        victims = [m for m in self.manifests() if m.global_step == step]
        if not victims:
            return False
        latest_uri = self._uri(layout.LATEST)
        try:
            latest_key = parse_latest(self.store.get(latest_uri), latest_uri)["manifest_key"]
        except ObjectNotFoundError:
            latest_key = None
        for m in victims:
            self.store.delete(self._uri(m.key))
            for s in m.shards:
                self.store.delete(self._uri(s.key))
        if latest_key in {m.key for m in victims}:
            rest = sorted(self.manifests(), key=lambda m: m.wall_time)
            if rest:
                last = rest[-1]
                ts = last.key.rsplit("-", 2)
                stamp = f"{ts[-2]}-{ts[-1][:-5]}" if len(ts) == 3 else layout.timestamp()
                self.store.put(latest_uri, latest_json(last.key, last.global_step, stamp))
            else:
                self.store.delete(latest_uri)
        return True

    def find_shard(self, key: str) -> tuple[Manifest, ShardMeta] | None:
        """The manifest (latest first, then newest first) that lists shard `key`, and its entry."""
        latest = None
        try:
            latest = self.latest_manifest()
        except CheckpointError:
            pass
        if latest is not None:
            for s in latest.shards:
                if s.key == key:
                    return latest, s
        for m in sorted(self.manifests(), key=lambda m: m.wall_time, reverse=True):
            for s in m.shards:
                if s.key == key:
                    return m, s
        return None

    @staticmethod
    def as_bytes(data: Any) -> memoryview:
        return as_buffer(data)
