"""Range planning and the parallel range fetch into one buffer."""

from __future__ import annotations

import threading

import pytest
from s3dlio_backends.range_get import RangeFetch, chunk_size_for, concurrency_for, fetch_ranges, plan_chunks
from s3dlio_core.settings import configure, reset_settings

MiB = 1 << 20


def test_plan_chunks_cover_exactly() -> None:
    assert plan_chunks(0, 10, 4) == [(0, 4), (4, 4), (8, 2)]
    assert plan_chunks(5, 5, 4) == []
    chunks = plan_chunks(32 * MiB, 100 * MiB + 3, 4 * MiB)
    assert chunks[0][0] == 32 * MiB and sum(n for _, n in chunks) == 68 * MiB + 3
    with pytest.raises(ValueError):
        plan_chunks(0, 1, 0)


def test_sizes_follow_the_original_and_settings() -> None:
    assert chunk_size_for(10 * MiB) == MiB and chunk_size_for(100 * MiB) == 4 * MiB
    assert chunk_size_for(1 << 30) == 8 * MiB
    assert concurrency_for(1 << 30) >= 8
    try:
        configure(range_chunk_size=3 * MiB, range_concurrency=5)
        assert chunk_size_for(100 * MiB) == 3 * MiB and concurrency_for(100 * MiB) == 5
    finally:
        reset_settings()


def test_fetch_ranges_fills_every_slice_with_bounded_concurrency() -> None:
    data = bytes(range(256)) * 4096
    dst = bytearray(len(data))
    lock = threading.Lock()
    running = [0, 0]

    def fetch(off: int, mv: memoryview) -> None:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        mv[:] = data[off:off + mv.nbytes]
        with lock:
            running[0] -= 1

    fetch_ranges(fetch, memoryview(dst), 0, plan_chunks(0, len(data), 10_000), 4)
    assert dst == data and running[1] <= 4


def test_first_failure_stops_the_rest() -> None:
    calls = []

    def fetch(off: int, mv: memoryview) -> None:
        calls.append(off)
        if off == 0:
            raise OSError("range failed")

    job = RangeFetch(fetch, memoryview(bytearray(100)), 0, plan_chunks(0, 100, 1), 1)
    with pytest.raises(OSError, match="range failed"):
        job.wait()
    assert calls == [0]
