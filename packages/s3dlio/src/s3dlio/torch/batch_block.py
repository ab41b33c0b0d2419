"""DataLoader batches that land where the DataLoader hands them over: one block per batch, no collate copy.

Without this, a batch in a DataLoader worker is built three times: each object is received into a buffer
of its own, `default_collate` stacks the samples into a new shared-memory tensor (a 4 MiB copy per batch
of 32 x 128 KiB, plus the page faults of fresh shared memory), and that tensor goes to the main process.
Here, in a DataLoader worker, the objects of a batch are received straight into the rows of one
shared-memory uint8 block and each sample is a row of it, a `BlockRow`. `BlockRow` is
registered in `default_collate_fn_map` (torch's documented extension point), and its collate returns the
block itself when the batch is exactly consecutive rows of one block, as a plain tensor; anything else
(a custom sampler mixing batches, rows of different blocks) is stacked as usual.

A `BlockRow` is a torch.Tensor in every way (operations on it give plain tensors). Two consequences a user
may see: a sample holds its batch's block alive, and the collated batch shares memory with the samples
(in place changes to one show in the other), as a batch of views would.

Used only where it gives the same result as the ordinary path: return_type "tensor", no transform, every
object of the batch the same non-zero size per the listing (default_collate could not stack them otherwise).
Not in the main process (DataLoader num_workers=0): there default_collate stacks into ordinary memory and a
block measured no faster (S3) or slower (file://, 0.16 s against 0.12 s an epoch of 2,000 x 128 KiB).

Measured (benchmarks/loader.py, SeaweedFS, 2,000 x 128 KiB, batch 32, DataLoader workers 2): the collate
went from 0.07 CPU-s a worker to 0.002; with the multiplexer's learned window, 0.67x -> 0.82x get_many.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data._utils.collate import collate_tensor_fn, default_collate_fn_map

__all__ = ["BlockRow", "RowArena", "new_block", "rows_of", "collate_rows", "writable_view"]


class BlockRow(torch.Tensor):
    """One sample of a batch block (a 1-D uint8 tensor); operations on it give plain tensors."""

    __torch_function__ = torch._C._disabled_torch_function_impl


def new_block(rows: int, row_bytes: int, shared: bool) -> torch.Tensor:
    """A (rows, row_bytes) uint8 tensor, in shared memory when `shared` (what a worker sends by handle)."""
    if not shared:
        return torch.empty((rows, row_bytes), dtype=torch.uint8)
    n = rows * row_bytes
    try:
        storage = torch.UntypedStorage._new_shared(n)  # what default_collate itself allocates in a worker
    except (AttributeError, TypeError):  # an older or newer torch without it: zeroed, then moved
        return torch.empty((rows, row_bytes), dtype=torch.uint8).share_memory_()
    return torch.empty(0, dtype=torch.uint8).set_(storage, 0, (rows, row_bytes))


def writable_view(t: torch.Tensor) -> memoryview:
    """A writable byte memoryview over a contiguous CPU tensor's memory (torch without numpy has no
    buffer protocol of its own); the tensor must outlive the view."""
    n = t.numel() * t.element_size()
    if n == 0:
        return memoryview(bytearray(0))
    return memoryview((ctypes.c_char * n).from_address(t.data_ptr())).cast("B")


def rows_of(block: torch.Tensor) -> list[BlockRow]:
    """The block's rows as BlockRow samples (views, no copy)."""
    return [r.as_subclass(BlockRow) for r in block.unbind(0)]  # type: ignore[misc]


ARENA_BLOCK_BYTES = 32 << 20  # an iterable stream's block: at most this much memory
ARENA_MAX_ROWS = 256


class RowArena:
    """Rows for a stream of equal-sized samples (the iterable dataset's `into=`): position p of the stream
    is row p % R of block p // R, so any DataLoader batch size dividing R (a power of two, up to 256)
    collates without a copy; a batch across two blocks is stacked. Thread-safe (the stream has two fetch
    threads); a block is forgotten here once all its rows are handed out (the samples keep it alive)."""

    def __init__(self, total: int, row_bytes: int, shared: bool) -> None:
        rows = max(1, min(ARENA_MAX_ROWS, ARENA_BLOCK_BYTES // max(1, row_bytes), total))
        self.rows = 1 << (rows.bit_length() - 1)  # a power of two
        self.total = total
        self.row_bytes = row_bytes
        self.shared = shared
        self._blocks: dict[int, tuple[memoryview, list[BlockRow], list[int]]] = {}
        self._lock = threading.Lock()

    def __call__(self, positions: Sequence[int], sizes: Sequence[int]) -> tuple[list[memoryview], list[BlockRow]]:
        n, r = self.row_bytes, self.rows
        bufs: list[memoryview] = []
        items: list[BlockRow] = []
        with self._lock:
            for p in positions:
                b, j = divmod(p, r)
                entry = self._blocks.get(b)
                if entry is None:
                    block = new_block(min(r, self.total - b * r), n, self.shared)
                    entry = self._blocks[b] = (writable_view(block), rows_of(block), [0])
                mv, rows, handed = entry
                bufs.append(mv[j * n:(j + 1) * n])
                items.append(rows[j])
                handed[0] += 1
                if handed[0] == len(rows):
                    del self._blocks[b]
        return bufs, items


def _block_of(batch: Sequence[Any]) -> torch.Tensor | None:
    """The (len(batch), n) view over the rows if they are consecutive rows of one block, else None."""
    first = batch[0]
    n = first.numel()
    if n == 0 or first.dim() != 1 or first.dtype != torch.uint8:
        return None
    storage = first.untyped_storage()
    base = storage.data_ptr()
    ptr = first.data_ptr()
    for j, r in enumerate(batch):
        if type(r) is not BlockRow or r.numel() != n or r.data_ptr() != ptr + j * n or \
                r.untyped_storage().data_ptr() != base:
            return None
    out = torch.empty(0, dtype=torch.uint8)
    return out.set_(storage, first.storage_offset(), (len(batch), n))


def collate_rows(batch: Sequence[Any], *, collate_fn_map: dict[Any, Any] | None = None) -> torch.Tensor:
    """default_collate for BlockRow samples: the block itself when the batch is its consecutive rows (no
    copy), else torch's own stacking."""
    block = _block_of(batch)
    if block is not None:
        return block
    return collate_tensor_fn([r.as_subclass(torch.Tensor) for r in batch], collate_fn_map=collate_fn_map)


default_collate_fn_map.setdefault(BlockRow, collate_rows)
