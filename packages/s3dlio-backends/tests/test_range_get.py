"""Range planning and the parallel range fetch into one buffer."""

from __future__ import annotations

import threading

import pytest
from s3dlio_backends.range_get import RangeFetch, chunk_size_for, concurrency_for, plan_chunks, read_with_rest
from s3dlio_core.settings import Settings, configure, reset_settings

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
    own = Settings(range_chunk_size=2 * MiB, range_concurrency=3)  # a store's own settings win
    assert chunk_size_for(100 * MiB, own) == 2 * MiB and concurrency_for(100 * MiB, own) == 3


def test_range_fetch_fills_every_slice_with_bounded_concurrency() -> None:
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

    RangeFetch(fetch, memoryview(dst), 0, plan_chunks(0, len(data), 10_000), 4).wait()
    assert dst == data and running[1] <= 4


def test_read_with_rest_reads_the_first_body_while_the_rest_arrives() -> None:
    data = bytes(range(256)) * 64
    dst = memoryview(bytearray(len(data) - 100))  # object bytes [100, end)
    seen: list[int] = []

    def first() -> None:
        dst[:1000] = data[100:1100]

    def fetch(off: int, mv: memoryview) -> None:
        seen.append(off)
        mv[:] = data[off:off + mv.nbytes]

    read_with_rest(first, fetch, dst, 100, 1100, len(data), len(data), Settings(range_chunk_size=4096))
    assert dst == data[100:] and seen and min(seen) == 1100


def test_read_with_rest_stops_the_ranges_when_the_first_body_fails() -> None:
    started: list[int] = []
    running = threading.Event()
    gate = threading.Event()

    def fetch(off: int, mv: memoryview) -> None:
        started.append(off)
        running.set()
        gate.wait(5)  # held until the first body has failed (and the fetch was cancelled)

    def first() -> None:
        running.wait(5)
        threading.Timer(0.05, gate.set).start()
        raise ConnectionError("first body broke")

    with pytest.raises(ConnectionError, match="first body broke"):
        read_with_rest(first, fetch, memoryview(bytearray(1 << 20)), 0, 1024, 1 << 20, 1 << 20,
                       Settings(range_chunk_size=1024, range_concurrency=1))
    assert started == [1024]  # the range running when the first body failed; none after it
