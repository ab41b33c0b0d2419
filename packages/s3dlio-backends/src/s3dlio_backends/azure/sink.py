"""AzureBlockSink: Azure block uploads as the multipart coordinator's part sink (multipart.py).

`create` only picks a block-id prefix, `upload_part` stages one block, `complete` commits the block list
(the blob appears only then), `abort` sends nothing: uncommitted blocks are discarded by the service and
an existing blob keeps its content. It talks to the client only.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..multipart import MIN_PART_SIZE

if TYPE_CHECKING:
    from .client import AzureClient, BlobLocation

__all__ = ["AzureBlockSink", "block_id"]


def block_id(prefix: str, number: int) -> str:
    """Block ids of one blob must all have the same length: 'prefix-000001' (sent base64-encoded)."""
    return f"{prefix}-{number:06d}"


class AzureBlockSink:
    """The PartSink of one blob (see the module docstring)."""

    min_part_size = MIN_PART_SIZE
    part_quantum = 1
    sequential = False

    def __init__(self, client: AzureClient, loc: BlobLocation) -> None:
        self.client = client
        self.loc = loc

    def create(self) -> str:
        return os.urandom(8).hex()

    def upload_part(self, upload_id: str, number: int, data: memoryview) -> str:
        bid = block_id(upload_id, number)
        self.client.stage_block(self.loc, bid, data)
        return bid

    def complete(self, upload_id: str, parts: list[tuple[int, str]]) -> str | None:
        self.client.commit_blocks(self.loc, [bid for _, bid in parts])
        return None

    def abort(self, upload_id: str) -> None:
        """Nothing to send: staged blocks that are never committed are garbage-collected by the service."""
