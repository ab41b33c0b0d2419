"""`pull_map`: bounded fan-out with one task per worker instead of one future per item.

Each of `max_in_flight` workers (the calling thread is one of them) pulls the next index from a shared
iterator and stores its result in place, so per-item overhead is a function call, not a Future, a wait
set and a callback. Results come back in input order; the first failure stops new work and is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from s3dlio_core import concurrency as _conc
from s3dlio_core.concurrency import shared_executor, validate_max_in_flight

__all__ = ["pull_map"]

T = TypeVar("T")
R = TypeVar("R")


def pull_map(fn: Callable[[T], R], items: Sequence[T], max_in_flight: int, level: str = "fanout") -> list[R]:
    """`[fn(x) for x in items]` with at most `max_in_flight` calls running at once, in input order."""
    validate_max_in_flight(max_in_flight)
    n = len(items)
    if n == 0:
        return []
    workers = min(max_in_flight, n)
    if workers == 1 or getattr(_conc._tls, "level", None) == level:
        return [fn(x) for x in items]
    results: list[Any] = [None] * n
    it = iter(range(n))  # next() on a range iterator is atomic under the GIL
    errors: list[BaseException] = []

    def work() -> None:
        for i in it:
            if errors:
                return
            try:
                results[i] = fn(items[i])
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
