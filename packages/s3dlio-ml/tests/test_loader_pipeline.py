"""The prefetching pipeline: in-order results, bounded lookahead, errors at the right place, threads that
stop when the consumer goes away."""

from __future__ import annotations

import gc
import threading
import time

import pytest
from s3dlio_ml.loaders.pipeline import Prefetcher, plan_chunks


def test_plan_chunks() -> None:
    assert plan_chunks(32, 64, 1000) == (16, 2, 4)
    assert plan_chunks(8, 8, 1000) == (4, 2, 2)
    assert plan_chunks(1, 1, 10) == (1, 1, 1)
    assert plan_chunks(32, 64, 5) == (5, 1, 13)


def test_results_in_order_and_lookahead_bounded() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def fetch(chunk):
        with lock:
            started.append(chunk[0])
        time.sleep(0.002)
        return [x * 10 for x in chunk]

    pf = Prefetcher(list(range(100)), fetch, chunk=5, threads=2, ahead=3)
    out = []
    consumed_chunks = 0
    while (c := pf.next_chunk(5)) is not None:
        consumed_chunks += 1
        time.sleep(0.005)
        with lock:  # never more than `ahead` chunks beyond the consumer
            assert len(started) <= consumed_chunks + 3
        out.extend(c)
    assert out == [x * 10 for x in range(100)]
    assert sorted(started) == list(range(0, 100, 5))


def test_error_surfaces_at_its_chunk() -> None:
    def fetch(chunk):
        if chunk[0] == 20:
            raise ValueError("boom at 20")
        return list(chunk)

    pf = Prefetcher(list(range(50)), fetch, chunk=10, threads=2, ahead=4)
    assert pf.next_chunk(5) == list(range(10))
    assert pf.next_chunk(5) == list(range(10, 20))
    with pytest.raises(ValueError, match="boom at 20"):
        pf.next_chunk(5)


def test_threads_stop_when_the_consumer_goes_away() -> None:
    before = threading.active_count()
    pf = Prefetcher(list(range(10_000)), lambda c: list(c), chunk=10, threads=2, ahead=2, name="s3dlio-gc-test")
    assert pf.next_chunk(5) == list(range(10))
    del pf
    gc.collect()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(t.name.startswith("s3dlio-gc-test") for t in threading.enumerate()):
        time.sleep(0.01)
    assert not any(t.name.startswith("s3dlio-gc-test") for t in threading.enumerate())
    assert threading.active_count() <= before


def test_timeout() -> None:
    pf = Prefetcher([1, 2], lambda c: (time.sleep(2), list(c))[1], chunk=1, threads=1, ahead=1)
    with pytest.raises(TimeoutError, match="timeout"):
        pf.next_chunk(0.05)
