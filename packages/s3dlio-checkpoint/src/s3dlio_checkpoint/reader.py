"""`PyCheckpointReader`: the latest manifest as a dict, and any rank's shard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from s3dlio_core import BytesView

from .manifest import Manifest

if TYPE_CHECKING:
    from .store import PyCheckpointStore

__all__ = ["PyCheckpointReader"]


class PyCheckpointReader:
    """Reads a checkpoint store's manifests and shards."""

    def __init__(self, store: PyCheckpointStore) -> None:
        self._store = store

    def load_latest_manifest(self) -> dict[str, Any] | None:
        """{format_version, framework, global_step, epoch, wall_time, world_size, shards, status} of the
        latest checkpoint (no user_meta, as the original), or None."""
        m = self._store.latest_manifest()
        return None if m is None else m.to_dict(with_user_meta=False)

    def read_shard_by_rank(self, manifest: dict[str, Any], rank: int) -> BytesView:
        """Rank `rank`'s shard (uncompressed) of the checkpoint `manifest` describes."""
        m = Manifest.from_dict(manifest, self._store.base)
        return self._store.read_shard(m, rank)

    def __repr__(self) -> str:
        return f"PyCheckpointReader(uri={self._store.base!r})"
