"""Shared, fork-safe thread pools and the bounded fan-out every bulk operation uses.

Pools are created lazily per process (a forked child, e.g. a DataLoader worker, starts with none) and
nothing starts a thread at import. Each pool has a level ("async", "fanout", "parts"): a task running in
a pool never waits on work queued to the same pool, so nested fan-out cannot deadlock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from .settings import settings

if TYPE_CHECKING:
    import asyncio

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
    """`[fn(x) for x in items]` with at most `max_in_flight` running at once, results in input order.

    The first failure stops new work from starting and is raised once the running calls finish.
    Called from a worker of the same level, it runs inline (sequentially) instead of deadlocking.
    """
    validate_max_in_flight(max_in_flight)
    seq: Sequence[T] = items if isinstance(items, Sequence) else list(items)
    n = len(seq)
    if n == 0:
        return []
    if n == 1 or max_in_flight == 1 or getattr(_tls, "level", None) == level:
        return [fn(x) for x in seq]
    pool = shared_executor(level)
    results: list[Any] = [None] * n
    pending: set[Future] = set()
    index_of: dict[Future, int] = {}
    it = iter(range(n))
    error: BaseException | None = None

    def submit_next() -> bool:
        i = next(it, None)
        if i is None:
            return False
        f = pool.submit(fn, seq[i])
        index_of[f] = i
        pending.add(f)
        return True

    for _ in range(min(max_in_flight, n)):
        submit_next()
    while pending:
        done, _ = wait(pending, return_when=FIRST_EXCEPTION)
        for f in done:
            pending.discard(f)
            exc = f.exception()
            if exc is not None:
                if error is None:
                    error = exc
            else:
                results[index_of[f]] = f.result()
            del index_of[f]
        if error is None:
            for _ in range(len(done)):
                if not submit_next():
                    break
    if error is not None:
        raise error
    return results


def submit_async(fn: Callable[..., R], *args: Any, **kwargs: Any) -> asyncio.Future[R]:
    """Run the blocking `fn` on the shared "async" pool; returns an awaitable Future.

    Like the original's `*_async` functions, this must be called while an event loop is running
    (outside one it raises RuntimeError: no running event loop).
    """
    import asyncio

    loop = asyncio.get_running_loop()
    call = partial(fn, *args, **kwargs) if (args or kwargs) else fn
    return loop.run_in_executor(shared_executor("async"), call)
