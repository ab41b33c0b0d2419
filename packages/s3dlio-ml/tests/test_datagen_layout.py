"""The block layout of s3dlio_ml.datagen: the original's unique-block and zero-run counts, exactly."""

from __future__ import annotations

import sys

import numpy as np
from s3dlio_ml.datagen import BLOCK_SIZE, DataLayout, Generator, generate_data

MiB = BLOCK_SIZE


def test_unique_blocks_round_half_away_from_zero() -> None:
    assert DataLayout(16 * MiB, 2).unique == 8
    assert DataLayout(16 * MiB, 3).unique == 5
    assert DataLayout(5 * MiB, 2).unique == 3  # 2.5 rounds up, as Rust's f64::round
    assert DataLayout(100, 5).unique == 1
    assert DataLayout(3 * MiB + 1, 1).nblocks == 4


def test_zero_runs_follow_the_original() -> None:
    lay = DataLayout(16 * MiB, 1, 3)
    assert [lay.zero_len(u) for u in range(3)] == [699050, 699051, 699051]
    assert DataLayout(16 * MiB, 1, 2).zero_len(0) == 524288
    assert DataLayout(16 * MiB, 1, 4).zero_len(7) == 786432
    assert DataLayout(1000, 1, 3).zero_len(0) == 666


def test_partial_tail_block_is_a_prefix_of_a_full_block_without_a_seed() -> None:
    """The original's one-shot generate_data: the 512 KiB tail is a prefix of a full block (no zeros)."""
    data = np.frombuffer(generate_data(3 * MiB // 2, 1, 2), dtype=np.uint8)
    assert not data[MiB - MiB // 2:MiB].any()  # block 0 ends in 512 KiB of zeros
    assert np.count_nonzero(data[MiB:]) > MiB // 2 - 5000  # the tail has none


def test_partial_tail_block_has_its_own_length_in_generator_and_seeded_calls() -> None:
    """The original's Generator: the tail's random part is its length minus a full block's zero run."""
    for data in (np.frombuffer(generate_data(3 * MiB // 2, 1, 2, seed=3), dtype=np.uint8),
                 np.frombuffer(Generator(3 * MiB // 2, 1, 2).generate_chunk(), dtype=np.uint8)):
        assert not data[MiB // 2:].any()  # 512 KiB of zeros ending block 0, then an all-zero tail
        assert np.count_nonzero(data[:MiB // 2]) > MiB // 2 - 5000
    lay = DataLayout(MiB + 600_000, 1, 2, seed=1)
    assert lay.random_len(0) == MiB // 2 and lay.random_len(1) == 600_000 - MiB // 2


def test_dedup_blocks_are_copies() -> None:
    data = bytes(generate_data(6 * MiB, 3, 1, seed=1))
    blocks = [data[i:i + MiB] for i in range(0, len(data), MiB)]
    assert blocks[0] == blocks[2] == blocks[4] and blocks[1] == blocks[3] == blocks[5]
    assert blocks[0] != blocks[1]


def test_numpy_only_on_first_use() -> None:
    import subprocess

    code = "import sys, s3dlio_ml; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
