"""The original's shuffle (features §1.8.4: Fisher-Yates with ChaCha20Rng::seed_from_u64) and the shard
rule, and PyAsyncDataLoader's exact outputs over a PyVecDataset."""

from __future__ import annotations

import asyncio

import pytest
from s3dlio_ml.loaders import PyAsyncDataLoader, PyVecDataset, parse_options
from s3dlio_ml.loaders.epochs import epoch_indices
from s3dlio_ml.loaders.shuffle import ChaCha20Rng, epoch_order, keystream_words, shuffled_indices


def _batches(loader: PyAsyncDataLoader) -> list[list[int]]:
    async def run() -> list[list[int]]:
        return [b async for b in loader]

    return asyncio.run(run())


def test_chacha20_keystream_matches_the_pure_python_block_function() -> None:
    for seed in (0, 1, 2**64 - 1, 123456789):
        rng = ChaCha20Rng(seed)
        assert [rng.next_u32() for _ in range(40)] == list(keystream_words(seed, 40))


@pytest.mark.parametrize(("n", "seed", "expected"), [
    (10, 1, [1, 0, 9, 7, 5, 4, 3, 6, 8, 2]),
    (10, 2, [1, 8, 5, 3, 6, 7, 0, 9, 2, 4]),
    (10, 0, [5, 3, 1, 6, 2, 9, 8, 0, 7, 4]),
    (10, 12345, [3, 1, 6, 5, 7, 2, 9, 8, 4, 0]),
    (50, 99, [46, 48, 5, 42, 35, 31, 1, 2, 6, 30, 20, 27, 8, 41, 23, 49, 11, 12, 7, 45, 15, 28, 38, 0, 39, 40,
              29, 21, 17, 44, 36, 14, 33, 24, 13, 9, 25, 37, 22, 4, 26, 43, 34, 3, 32, 47, 19, 18, 10, 16]),
])
def test_shuffle_is_the_originals(n: int, seed: int, expected: list[int]) -> None:
    """Orders observed with the original s3dlio 0.10.0's PyAsyncDataLoader."""
    assert list(shuffled_indices(n, seed)) == expected


def test_async_data_loader_outputs_of_the_original() -> None:
    ds = PyVecDataset(list(range(10)))
    assert _batches(PyAsyncDataLoader(ds)) == [list(range(10))]
    assert _batches(PyAsyncDataLoader(ds, {"batch_size": 3})) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert _batches(PyAsyncDataLoader(ds, {"batch_size": 3, "drop_last": True})) == [[0, 1, 2], [3, 4, 5],
                                                                                       [6, 7, 8]]
    assert _batches(PyAsyncDataLoader(ds, {"batch_size": 4, "shuffle": True, "seed": 1})) == \
        [[1, 0, 9, 7], [5, 4, 3, 6], [8, 2]]
    assert _batches(PyAsyncDataLoader(ds, opts={"batch_size": 4, "shuffle": True, "seed": 2})) == \
        [[1, 8, 5, 3], [6, 7, 0, 9], [2, 4]]
    assert _batches(PyAsyncDataLoader(ds, options={"batch_size": 4, "shuffle": True, "seed": 2})) == \
        [[1, 8, 5, 3], [6, 7, 0, 9], [2, 4]]


def test_new_order_each_epoch_reproducible_for_a_seed() -> None:
    ds = PyVecDataset(list(range(100)))
    a = PyAsyncDataLoader(ds, {"batch_size": 100, "shuffle": True, "seed": 7})
    b = PyAsyncDataLoader(ds, {"batch_size": 100, "shuffle": True, "seed": 7})
    epochs_a = [_batches(a)[0] for _ in range(3)]
    epochs_b = [next(iter(b)) for _ in range(3)]  # sync iteration gives the same epochs
    assert epochs_a == epochs_b
    assert len({tuple(e) for e in epochs_a}) == 3
    assert all(sorted(e) == list(range(100)) for e in epochs_a)
    b.set_epoch(1)
    assert next(iter(b)) == epochs_a[1]


def test_shards_are_disjoint_and_cover_the_epoch() -> None:
    n = 103
    for shuffle in (False, True):
        seen: list[int] = []
        for rank in range(2):
            for worker in range(3):
                o = parse_options({"shuffle": shuffle, "seed": 5, "shard_rank": rank, "shard_world_size": 2,
                                   "worker_id": worker, "num_workers_pytorch": 3})
                part = list(epoch_indices(n, o, epoch=4))
                order = list(epoch_order(n, shuffle, 5, 4))
                assert part == [order[k] for k in range(n) if k % 6 == rank * 3 + worker]
                seen += part
        assert sorted(seen) == list(range(n))


def test_shard_keys_apply_to_the_vec_loader() -> None:
    ds = PyVecDataset(list(range(10)))
    got = [list(PyAsyncDataLoader(ds, {"batch_size": 10, "shard_rank": r, "shard_world_size": 2})) for r in (0, 1)]
    assert got == [[[0, 2, 4, 6, 8]], [[1, 3, 5, 7, 9]]]


def test_vec_dataset() -> None:
    ds = PyVecDataset([5, 6, 7])
    assert (len(ds), ds[0], ds[-1]) == (3, 5, 7)
    with pytest.raises(RuntimeError, match="Index 5 out of range"):
        ds[5]
    with pytest.raises(IndexError):
        ds[3]
