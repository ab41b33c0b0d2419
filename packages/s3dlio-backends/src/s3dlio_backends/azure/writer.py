"""Block uploads for Azure, on the shared multipart coordinator (s3dlio_backends.multipart).

`AzureBlockSink` maps the coordinator's parts to staged blocks: `create` only picks a block-id prefix,
`upload_part` stages one block, `complete` commits the block list (the blob appears only then), `abort`
sends nothing: uncommitted blocks are discarded by the service and an existing blob keeps its content.
`AzureBlockWriter` streams into it; a writer that never fills one block sends a single Put Blob instead.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from s3dlio_core.settings import settings
from s3dlio_core.store import ObjectWriter

from .._put_verify import verify_size
from ..multipart import MultipartCoordinator

if TYPE_CHECKING:
    from .store import AzureStore, _Loc

__all__ = ["AzureBlockSink", "AzureBlockWriter", "block_id"]


def block_id(prefix: str, number: int) -> str:
    """Block ids of one blob must all have the same length: 'prefix-000001' (sent base64-encoded)."""
    return f"{prefix}-{number:06d}"


class AzureBlockSink:
    """The coordinator's PartSink for one blob (see the module docstring)."""

    def __init__(self, store: AzureStore, loc: _Loc) -> None:
        self.store = store
        self.loc = loc

    def create(self) -> str:
        return os.urandom(8).hex()

    def upload_part(self, upload_id: str, number: int, data: memoryview) -> str:
        bid = block_id(upload_id, number)
        self.store._stage_block(self.loc, bid, data)
        return bid

    def complete(self, upload_id: str, parts: list[tuple[int, str]]) -> str | None:
        self.store._commit_blocks(self.loc, [bid for _, bid in parts])
        return None

    def abort(self, upload_id: str) -> None:
        """Nothing to send: staged blocks that are never committed are garbage-collected by the service."""


def block_upload(store: AzureStore, loc: _Loc, lazy: bool = False, total: int | None = None
                 ) -> MultipartCoordinator:
    s = settings()
    return MultipartCoordinator(AzureBlockSink(store, loc), s.multipart_part_size,
                                s.multipart_max_in_flight or None, lazy=lazy, total=total)


class AzureBlockWriter(ObjectWriter):
    """Streams one blob as staged blocks, committed on close (see the module docstring)."""

    def __init__(self, store: AzureStore, loc: _Loc) -> None:
        super().__init__(loc.u.uri)
        self._store = store
        self._loc = loc
        self._coord = block_upload(store, loc, lazy=True)

    def _write(self, mv: memoryview) -> None:
        self._coord.write(mv)

    def _commit(self) -> None:
        result = self._coord.finish()
        if "single" in result:
            self._store._put_single(self._loc, result["single"])
        elif settings().mpu_put_verify:
            verify_size(self._loc.u, self.bytes_written, lambda: self._store._stat_loc(self._loc))

    def _abort(self) -> None:
        self._coord.abort()
