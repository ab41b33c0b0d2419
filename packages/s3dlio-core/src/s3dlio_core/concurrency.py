"""Shared, fork-safe thread pools and the bounded fan-out every bulk operation uses.

Pools are created lazily per process (a forked child, e.g. a DataLoader worker, starts with none) and
nothing starts a thread at import. Each pool has a level ("async", "fanout", "parts"): a task running in
a pool never waits on work queued to the same pool, so nested fan-out cannot deadlock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from .settings import settings

__all__ = ["shared_executor", "bounded_map", "submit_async", "validate_max_in_flight"]

T = TypeVar("T")
R = TypeVar("R")

_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
_tls = threading.local()
_POOL_SIZES = {"async": 0, "fanout": 512, "parts": 256}


def _after_fork_in_child() -> None:
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _mark_worker(level: str) -> None:
    _tls.level = level


def shared_executor(level: str = "fanout") -> ThreadPoolExecutor:
    """The process-wide pool for `level` ("async", "fanout" or "parts"), created on first use."""
    pool = _pools.get(level)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(level)
            if pool is None:
                size = _POOL_SIZES.get(level) or settings().io_threads()
                pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"s3dlio-{level}",
                                          initializer=_mark_worker, initargs=(level,))
                _pools[level] = pool
    return pool


def validate_max_in_flight(value: object, name: str = "max_in_flight") -> int:
    """An int >= 1, else a ValueError that says why (the original's wording)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer >= 1, got {type(value).__name__}")
    if value < 1:
        raise ValueError(
            f"{name} must be an integer >= 1 (valid range: 1 or more), got {value}: "
            f"a limit of {value} would allow no operation to start"
        )
    return value


def bounded_map(fn: Callable[[T], R], items: Iterable[T], max_in_flight: int,
                level: str = "fanout") -> list[R]:
    """`[fn(x) for x in items]` with at most `max_in_flight` calls running at once, results in input order.

    One task per worker, not one Future per item: each of `max_in_flight` workers (the calling thread is
    one of them) pulls the next index and stores its result in place, so the per-item cost is a function
    call. The first failure stops new work and is raised once the running calls finish. Called from a
    worker of the same level, it runs inline (sequentially) instead of waiting on its own pool.
    """
    validate_max_in_flight(max_in_flight)
    seq: Sequence[T] = items if isinstance(items, Sequence) else list(items)
    n = len(seq)
    if n == 0:
        return []
    workers = min(max_in_flight, n)
    if workers == 1 or getattr(_tls, "level", None) == level:
        return [fn(x) for x in seq]
    results: list[Any] = [None] * n
    it = iter(range(n))  # next() on a range iterator is atomic under the GIL
    errors: list[BaseException] = []

    def work() -> None:
        for i in it:
            if errors:
                return
            try:
                results[i] = fn(seq[i])
            except BaseException as e:
                errors.append(e)
                return

    pool = shared_executor(level)
    futures = [pool.submit(work) for _ in range(workers - 1)]
    try:
        work()
    finally:
        for f in futures:
            f.result()
    if errors:
        raise errors[0]
    return results


def submit_async(fn: Callable[..., R], *args: Any, **kwargs: Any) -> Awaitable[R]:
    """Run the blocking `fn` on the shared "async" pool and return an awaitable of its result.

    Called inside a running event loop, the work starts at once and an asyncio Future is returned (the
    original's behaviour: `f = get_async(u)` starts the GET). Called with no loop running, a coroutine
    is returned instead, which starts the work when it is awaited, so `asyncio.run(s3dlio.get_async(u))`
    and `await asyncio.gather(*made_before_the_loop)` both work (the original raises "no running event
    loop" there).
    """
    import asyncio

    call = partial(fn, *args, **kwargs) if (args or kwargs) else fn
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return _deferred(call)
    return loop.run_in_executor(shared_executor("async"), call)


async def _deferred(call: Callable[[], R]) -> R:
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(shared_executor("async"), call)
