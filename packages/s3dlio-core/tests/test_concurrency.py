"""bounded_map and the async twins: order, bounds, failure, nesting, event-loop rules."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from s3dlio_core import bounded_map, store_for_uri, submit_async


def test_order_and_bound() -> None:
    live = 0
    peak = 0
    lock = threading.Lock()

    def work(i: int) -> int:
        nonlocal live, peak
        with lock:
            live += 1
            peak = max(peak, live)
        time.sleep(0.002)
        with lock:
            live -= 1
        return i * i

    assert bounded_map(work, range(100), 7) == [i * i for i in range(100)]
    assert 1 < peak <= 7


def test_first_failure_stops_new_work() -> None:
    started = []

    def work(i: int) -> int:
        started.append(i)
        if i == 3:
            raise KeyError("item 3")
        time.sleep(0.01)
        return i

    with pytest.raises(KeyError, match="item 3"):
        bounded_map(work, range(200), 4)
    assert len(started) < 200


@pytest.mark.parametrize("bad", [0, -1])
def test_max_in_flight_validated(bad: int) -> None:
    with pytest.raises(ValueError, match="max_in_flight must be an integer >= 1"):
        bounded_map(lambda x: x, [1], bad)


def test_nested_fanout_does_not_deadlock() -> None:
    def outer(i: int) -> int:
        return sum(bounded_map(lambda j: j, range(10), 4))

    assert bounded_map(outer, range(600), 600) == [45] * 600


def test_async_twin_made_outside_a_loop_is_a_coroutine(tmp_path) -> None:
    """Outside a running loop the twin is a coroutine (the original raises 'no running event loop'):
    asyncio.run() takes it, and ones made before the loop can be gathered inside it."""
    root = f"file://{tmp_path}/"
    store, _ = store_for_uri(root)
    assert asyncio.run(submit_async(lambda: 41)) == 41
    asyncio.run(store.put_async(root + "x", b"made outside"))
    assert bytes(asyncio.run(store.get_async(root + "x"))) == b"made outside"
    made_early = [store.get_range_async(root + "x", i, 1) for i in range(4)]

    async def main() -> list[bytes]:
        return [bytes(v) for v in await asyncio.gather(*made_early)]

    assert asyncio.run(main()) == [b"m", b"a", b"d", b"e"]


def test_async_twin_inside_a_loop_starts_at_once(tmp_path) -> None:
    import threading

    started = threading.Event()

    async def main() -> None:
        fut = submit_async(started.set)
        assert isinstance(fut, asyncio.Future)
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        assert started.is_set()  # ran before it was awaited
        await fut

    asyncio.run(main())


def test_async_twins_inside_a_loop(tmp_path) -> None:
    root = f"file://{tmp_path}/"
    store, _ = store_for_uri(root)

    async def main() -> None:
        await store.put_async(root + "a", b"alpha")
        await asyncio.gather(*(store.put_async(root + f"m/{i}", bytes([i])) for i in range(20)))
        v = await store.get_async(root + "a")
        assert bytes(v) == b"alpha"
        assert bytes(await store.get_range_async(root + "a", 1, 2)) == b"lp"
        assert (await store.stat_async(root + "a"))["size"] == 5
        assert await store.exists_async(root + "a")
        assert len(await store.list_async(root + "m/")) == 20
        got = await store.get_many_async([root + f"m/{i}" for i in range(20)], 5)
        assert [bytes(v) for _, v in got] == [bytes([i]) for i in range(20)]
        buf = bytearray(5)
        assert await store.get_into_async(root + "a", buf) == 5
        await store.delete_async(root + "m/", True)
        assert await store.list_async(root + "m/") == []

    asyncio.run(main())
