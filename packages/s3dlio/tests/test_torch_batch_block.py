"""Batches that land in one block (s3dlio/torch/batch_block.py): the samples of a batch are rows of one
uint8 block, default_collate returns that block (no stacking copy) when the batch is its consecutive rows
and stacks otherwise, and the datasets take this path only where it gives what the ordinary one gives."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
import torch
from s3dlio.torch import ObjectStoreIterableDataset, ObjectStoreMapDataset
from s3dlio.torch.batch_block import BlockRow, RowArena, new_block, rows_of
from torch.utils.data import DataLoader, default_collate

pytestmark = pytest.mark.torch

SIZE = 1000


def _write(root: Path, n: int, size: int = SIZE) -> list[bytes]:
    data = [struct.pack("<q", i) + os.urandom(size - 8) for i in range(n)]
    for i, d in enumerate(data):
        (root / f"s{i:04d}.bin").write_bytes(d)
    return data


def _rows(batch: torch.Tensor) -> list[bytes]:
    return [bytes(bytearray(r.tolist())) for r in batch]


def test_collate_returns_the_block_for_its_consecutive_rows_and_stacks_otherwise() -> None:
    block = new_block(4, 8, shared=False)
    block.copy_(torch.arange(32, dtype=torch.uint8).view(4, 8))
    rows = rows_of(block)
    assert all(type(r) is BlockRow and isinstance(r, torch.Tensor) for r in rows)
    assert type(rows[0] + 1) is torch.Tensor  # operations give plain tensors
    out = default_collate(rows)
    assert type(out) is torch.Tensor and out.data_ptr() == block.data_ptr() and torch.equal(out, block)
    part = default_collate(rows[1:3])  # consecutive rows, part of the block: a view, still no copy
    assert part.data_ptr() == rows[1].data_ptr() and torch.equal(part, block[1:3])
    mixed = default_collate([rows[2], rows[0]])  # not in order: stacked, a copy
    assert mixed.data_ptr() != block.data_ptr() and torch.equal(mixed, block[[2, 0]])
    other = rows_of(new_block(2, 8, shared=False))
    two = default_collate([rows[3], other[0]])  # rows of two blocks: stacked
    assert torch.equal(two[0], block[3])


def test_a_shared_block_is_in_shared_memory() -> None:
    assert new_block(3, 5, shared=True).is_shared()
    assert not new_block(3, 5, shared=False).is_shared()


def test_row_arena_numbers_rows_by_stream_position() -> None:
    arena = RowArena(total=10, row_bytes=4, shared=False)
    assert arena.rows == 8  # a power of two, not above the stream's length
    bufs, items = arena(range(0, 5), [4] * 5)
    bufs2, items2 = arena(range(5, 10), [4] * 5)
    for k, b in enumerate(bufs + bufs2):
        b[:] = bytes([k]) * 4
    got = items + items2
    assert [bytes(bytearray(r.tolist())) for r in got] == [bytes([k]) * 4 for k in range(10)]
    whole = default_collate(got[:8])
    assert whole.data_ptr() == got[0].data_ptr() and whole.shape == (8, 4)  # block 0: rows 0..7
    assert default_collate(got[8:]).shape == (2, 4)  # the last block holds the rest
    assert arena._blocks == {}  # every row handed out: the arena keeps no block


@pytest.mark.parametrize("workers", [0, 2])
def test_map_dataset_batches_are_blocks(tmp_path: Path, workers: int) -> None:
    data = _write(tmp_path, 64)
    ds = ObjectStoreMapDataset(f"file://{tmp_path}/")
    assert not any(type(r) is BlockRow for r in ds.__getitems__([5, 6, 7]))  # the main process: no block
    got = [b for b in DataLoader(ds, batch_size=16, num_workers=workers)]
    assert all(type(b) is torch.Tensor and b.shape == (16, SIZE) for b in got)
    assert [r for b in got for r in _rows(b)] == data
    if workers:
        assert all(b.is_shared() for b in got)  # the worker's block itself, handed over by handle


@pytest.mark.parametrize("batch_size", [16, 24])  # 24 does not divide the arena's rows: some batches stacked
def test_iterable_dataset_batches_with_workers(tmp_path: Path, batch_size: int) -> None:
    data = _write(tmp_path, 200)
    ds = ObjectStoreIterableDataset(f"file://{tmp_path}/")
    got = [r for b in DataLoader(ds, batch_size=batch_size, num_workers=2) for r in _rows(b)]
    assert sorted(got) == sorted(data) and len(got) == len(data)
    main = [r for b in DataLoader(ds, batch_size=batch_size) for r in _rows(b)]
    assert main == data


@pytest.fixture
def in_a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The datasets behave as in a DataLoader worker (where blocks apply), in this process."""
    import s3dlio.torch.datasets as mod

    monkeypatch.setattr(mod, "get_worker_info", lambda: object())


def test_in_a_worker_a_batch_is_rows_of_one_shared_block(tmp_path: Path, in_a_worker: None) -> None:
    data = _write(tmp_path, 8)
    items = ObjectStoreMapDataset(f"file://{tmp_path}/").__getitems__([5, 6, 7])
    assert all(type(r) is BlockRow for r in items) and items[0].is_shared()
    batch = default_collate(items)
    assert batch.data_ptr() == items[0].data_ptr() and _rows(batch) == data[5:8]


def test_the_ordinary_path_where_blocks_do_not_apply(tmp_path: Path, in_a_worker: None) -> None:
    data = _write(tmp_path, 6)
    (tmp_path / "s0006.bin").write_bytes(b"short")  # sizes differ: one buffer each
    ds = ObjectStoreMapDataset(f"file://{tmp_path}/")
    items = ds.__getitems__([0, 1, 6])
    assert not any(type(r) is BlockRow for r in items) and bytes(bytearray(items[2].tolist())) == b"short"
    same = ObjectStoreMapDataset(f"file://{tmp_path}/", transform=lambda t: t.clone())  # a transform
    assert not any(type(r) is BlockRow for r in same.__getitems__([0, 1]))
    as_bytes = ObjectStoreMapDataset(f"file://{tmp_path}/", return_type="bytes")
    assert [bytes(v) for v in as_bytes.__getitems__([0, 1])] == data[:2]
    it = ObjectStoreIterableDataset(f"file://{tmp_path}/")
    assert [bytes(bytearray(t.tolist())) for t in it] == [*data, b"short"]


def test_an_object_changed_since_the_listing_is_read_as_it_is(tmp_path: Path, in_a_worker: None) -> None:
    _write(tmp_path, 4)
    ds = ObjectStoreMapDataset(f"file://{tmp_path}/")
    it = ObjectStoreIterableDataset(f"file://{tmp_path}/")
    (tmp_path / "s0002.bin").write_bytes(b"now longer than it was" * 100)
    items = ds.__getitems__([1, 2, 3])
    assert bytes(bytearray(items[1].tolist())) == b"now longer than it was" * 100
    assert [len(t) for t in it] == [SIZE, SIZE, 2200, SIZE]
