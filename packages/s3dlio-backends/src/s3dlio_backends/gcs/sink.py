"""GcsResumableSink: a GCS resumable upload as the multipart coordinator's part sink (multipart.py).

`create` opens the session, `upload_part` sends one chunk (a multiple of 256 KiB, in order, one at a
time: the sink is `sequential`), `complete` finishes the upload (the object appears only then) and `abort`
cancels the session. With the size known up front (a PUT from a buffer) the last chunk carries the total;
a stream of unknown size sends its chunks as 'bytes a-b/*' and finishes with an empty 'bytes */total'.
It talks to the client only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3dlio_core.uri import ObjectUri

from .client import RESUMABLE_QUANTUM

if TYPE_CHECKING:
    from .client import GcsClient

__all__ = ["GcsResumableSink"]


class GcsResumableSink:
    """The PartSink of one object's resumable upload (see the module docstring)."""

    min_part_size = RESUMABLE_QUANTUM
    part_quantum = RESUMABLE_QUANTUM
    sequential = True  # one session takes its chunks in order

    def __init__(self, client: GcsClient, u: ObjectUri, total: int | None = None) -> None:
        self.client = client
        self.u = u
        self.total = total
        self._sent = 0
        self._finished = False

    def create(self) -> str:
        return self.client.start_resumable(self.u)

    def upload_part(self, upload_id: str, number: int, data: memoryview) -> str:
        offset = self._sent
        self._sent += data.nbytes
        last = self.total is not None and self._sent >= self.total
        self.client.put_chunk(self.u, upload_id, offset, data, self.total if last else None)
        self._finished = last
        return str(number)

    def complete(self, upload_id: str, parts: list[tuple[int, str]]) -> str | None:
        if not self._finished:
            self.client.put_chunk(self.u, upload_id, self._sent, memoryview(b""), self._sent)
            self._finished = True
        return None

    def abort(self, upload_id: str) -> None:
        self.client.cancel_resumable(self.u, upload_id)
