"""`PyCheckpointWriter` (one rank's writer of a distributed checkpoint) and `PyCheckpointStream` (one
shard written chunk by chunk, also a write-only file object for `torch.save`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from s3dlio_core import as_buffer

from . import layout
from .errors import CheckpointError, CheckpointIncompleteError
from .manifest import Manifest, ShardMeta
from .shard_io import open_shard_writer, shard_meta_after_write, write_shard_bytes

if TYPE_CHECKING:
    from .store import PyCheckpointStore

__all__ = ["PyCheckpointWriter", "PyCheckpointStream", "shard_metas_to_manifest"]

_TS_IN_KEY = re.compile(r"ckpt-\d+-(\d{8}-\d{6})/rank-")


def _check_rank(world_size: Any, rank: Any) -> tuple[int, int]:
    for name, v in (("world_size", world_size), ("rank", rank)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise TypeError(f"{name} must be a non-negative int, got {v!r}")
    if world_size < 1 or rank >= world_size:
        raise ValueError(f"rank {rank} is out of range for world_size {world_size}")
    return world_size, rank


def _bytes_data(data: Any) -> memoryview:
    if isinstance(data, str):
        raise TypeError(
            "Cannot convert data to bytes: 'str' object has no attribute '__bytes__'. Expected "
            "bytes-like object (bytes, bytearray, memoryview, BytesView, numpy array, or object "
            "with __bytes__() method)"
        )
    return as_buffer(data)


class PyCheckpointStream:
    """One shard streamed in chunks: `write_chunk` (or `write`, so `torch.save(obj, stream)` works),
    `bytes_written()`, then `finalize()` (commit, returns the shard's metadata) or `cancel()` (nothing
    remains). The shard is invisible under its final name until `finalize()` returns."""

    def __init__(
        self,
        store: PyCheckpointStore,
        step: int,
        epoch: int,
        framework: str,
        rank: int,
        ts: str | None = None,
        key: str | None = None,
    ) -> None:
        self._store = store
        self.step, self.epoch, self.framework, self.rank = step, epoch, framework, rank
        self.timestamp = ts or layout.timestamp()
        self.key = key or layout.shard_key(
            store.strategy, step, self.timestamp, rank, store.compression_level is not None
        )
        self.uri = layout.key_uri(store.base, self.key)
        self._w = open_shard_writer(store.store, self.uri, store.compression_level)
        self._meta: dict[str, Any] | None = None

    # the file-object side (torch.save, pickle)
    def write(self, data: Any) -> int:
        return self._w.write(data)

    def write_borrowed(self, data: Any) -> int:
        """`write` of bytes the caller keeps alive and unchanged until `finalize` (a tensor's storage during
        a save): object stores upload whole parts straight from it (see ObjectWriter.write_borrowed)."""
        return self._w.write_borrowed(data)

    def tell(self) -> int:
        return self._w.bytes_written

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return not self._w.closed

    def seekable(self) -> bool:
        return False

    def write_chunk(self, data: Any) -> None:
        """Append bytes-like `data` to the shard."""
        self._w.write(_bytes_data(data))

    def bytes_written(self) -> int:
        """Uncompressed bytes written so far."""
        return self._w.bytes_written

    def finalize(self) -> dict[str, Any]:
        """Commit the shard; returns {'step', 'epoch', 'rank', 'key', 'size', 'etag', 'checksum'}."""
        if self._meta is not None:
            return dict(self._meta)
        if self._w.closed:
            raise CheckpointError(f"the shard stream for {self.uri} was cancelled", self.uri)
        self._w.close()
        m = shard_meta_after_write(
            self._store.store, self.uri, self.rank, self.key, self._w.compressed_bytes, self._w.crc
        )
        self._meta = {
            "step": self.step,
            "epoch": self.epoch,
            "rank": self.rank,
            "key": m.key,
            "size": m.size,
            "etag": m.etag,
            "checksum": m.checksum,
        }
        return dict(self._meta)

    def cancel(self) -> None:
        """Discard the shard: no object appears under its name."""
        self._w.abort()

    def __enter__(self) -> PyCheckpointStream:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.finalize()
        else:
            self.cancel()

    def __repr__(self) -> str:
        return f"PyCheckpointStream(uri={self.uri!r}, bytes_written={self.bytes_written()})"


class PyCheckpointWriter:
    """Rank `rank` of `world_size` writing shards of a checkpoint store; rank 0 (or any one process)
    then calls `finalize_distributed_checkpoint` with every rank's shard metadata."""

    def __init__(self, store: PyCheckpointStore, world_size: int, rank: int) -> None:
        self.world_size, self.rank = _check_rank(world_size, rank)
        self._store = store

    def save_distributed_shard(self, step: int, epoch: int, framework: str, data: Any) -> dict[str, Any]:
        """Write this rank's shard from bytes-like `data`; returns
        {'step', 'timestamp', 'rank', 'key', 'size', 'etag', 'checksum'}."""
        mv = _bytes_data(data)
        s = self._store
        ts = layout.timestamp()
        key = layout.shard_key(s.strategy, step, ts, self.rank, s.compression_level is not None)
        uri = layout.key_uri(s.base, key)
        size, crc = write_shard_bytes(s.store, uri, mv, s.compression_level, s.multipart_threshold)
        m = shard_meta_after_write(s.store, uri, self.rank, key, size, crc)
        return {
            "step": step,
            "timestamp": ts,
            "rank": self.rank,
            "key": m.key,
            "size": m.size,
            "etag": m.etag,
            "checksum": m.checksum,
        }

    def get_distributed_shard_stream(self, step: int, epoch: int, framework: str) -> PyCheckpointStream:
        """A stream for this rank's shard of checkpoint `step`."""
        layout.shard_key(self._store.strategy, step, "0", self.rank)  # validates step
        return PyCheckpointStream(self._store, step, epoch, framework, self.rank)

    def finalize_distributed_checkpoint(
        self, step: int, epoch: int, framework: str, shard_metas: list[dict[str, Any]], user_meta: Any = None
    ) -> str:
        """Write the manifest, then latest.json, once every rank's shard is there; returns the manifest
        key. Raises CheckpointIncompleteError naming the missing ranks otherwise (nothing is written)."""
        manifest, ts = shard_metas_to_manifest(
            self._store, step, epoch, framework, shard_metas, self.world_size, user_meta
        )
        return self._store._commit(manifest, ts)


def shard_metas_to_manifest(
    store: PyCheckpointStore,
    step: int,
    epoch: int,
    framework: str,
    shard_metas: Any,
    world_size: int,
    user_meta: Any,
) -> tuple[Manifest, str]:
    """A manifest from the ranks' shard metadata, after checking that every rank is present and every
    shard object exists; also returns the checkpoint's `ts`."""
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise TypeError(f"step must be a non-negative int, got {step!r}")
    if not isinstance(framework, str):
        raise TypeError(f"framework must be a str, got {type(framework).__name__}")
    if not isinstance(shard_metas, (list, tuple)):
        raise TypeError(f"shard_metas must be a list of dicts, got {type(shard_metas).__name__}")
    shards: dict[int, ShardMeta] = {}
    stamps: list[str] = []
    for d in shard_metas:
        if not isinstance(d, dict):
            raise TypeError(f"each shard meta must be a dict, got {type(d).__name__}")
        m = ShardMeta.from_dict(d, store.base)
        layout.key_uri(store.base, m.key)  # refuses keys that escape the base
        if m.rank in shards:
            raise CheckpointError(
                f"rank {m.rank} appears twice in the shard metadata for {store.base}", store.base
            )
        shards[m.rank] = m
        ts = d.get("timestamp")
        found = _TS_IN_KEY.search(m.key)
        stamps.append(str(ts) if ts else found.group(1) if found else "")
    missing = [r for r in range(world_size) if r not in shards]
    extra = [r for r in shards if r >= world_size]
    if extra:
        raise CheckpointError(
            f"shard metadata for {store.base} has ranks {extra} outside world_size {world_size}", store.base
        )
    if missing:
        raise CheckpointIncompleteError(
            f"cannot finalize checkpoint step {step} at {store.base}: missing shards for ranks {missing} "
            f"of world_size {world_size}",
            store.base,
            missing,
        )
    ordered = [shards[r] for r in range(world_size)]
    store._check_shards_landed(ordered)
    ts = min((s for s in stamps if s), default="") or layout.timestamp()
    manifest = Manifest(
        framework=framework,
        global_step=step,
        epoch=int(epoch),
        wall_time=layout.wall_time(),
        world_size=world_size,
        shards=ordered,
        user_meta=user_meta,
    )
    return manifest, ts
