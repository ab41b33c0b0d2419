"""Adaptive concurrency: an in-flight limit per endpoint that backs off when the endpoint throttles.

An object store that answers 503 SlowDown or 429 is saying "fewer requests at once". A fixed in-flight
limit keeps hammering it: every request gets throttled, waits out its backoff, and many fail after their
last retry. `AdaptiveLimit` is the AIMD rule TCP uses for congestion: each throttled answer halves the
limit (at most once per `cooldown_s`, so a burst of 503s from one overload counts once), each success
raises it by 1/limit (about +1 per round of requests), up to `ceiling`. Requests acquire a slot before
they are sent and release it when their answer is in, so every layer that talks to the endpoint (get_many,
put_many, bulk put, multipart parts, loaders, checkpoints) is governed by the same limit.

Until the endpoint first throttles, the limit is the ceiling, and acquiring a slot is one uncontended
lock and a counter: nothing waits.
"""

from __future__ import annotations

import threading
import time

__all__ = ["AdaptiveLimit", "DEFAULT_CEILING"]

DEFAULT_CEILING = 4096  # effectively unbounded until the endpoint throttles


class AdaptiveLimit:
    """An AIMD-governed count of requests in flight to one endpoint."""

    __slots__ = ("_cond", "_last_cut", "ceiling", "cooldown_s", "floor", "inflight", "limit", "throttles")

    def __init__(self, ceiling: int = DEFAULT_CEILING, floor: int = 1, cooldown_s: float = 0.2) -> None:
        if floor < 1 or ceiling < floor:
            raise ValueError(f"need 1 <= floor <= ceiling, got floor={floor}, ceiling={ceiling}")
        self.ceiling = ceiling
        self.floor = floor
        self.cooldown_s = cooldown_s
        self.limit = float(ceiling)
        self.inflight = 0
        self.throttles = 0  # throttled answers seen (each one, including those inside a cooldown)
        self._last_cut = 0.0
        self._cond = threading.Condition(threading.Lock())

    def __repr__(self) -> str:
        return (f"AdaptiveLimit(limit={self.limit:.1f}, inflight={self.inflight}, ceiling={self.ceiling}, "
                f"throttles={self.throttles})")

    @property
    def engaged(self) -> bool:
        """True once the endpoint has throttled and the limit is below its ceiling."""
        return self.limit < self.ceiling

    def acquire(self, timeout: float | None = None) -> bool:
        """Take a slot, waiting while `limit` requests are in flight; False if `timeout` ran out."""
        with self._cond:
            if self.inflight >= self.limit:
                deadline = None if timeout is None else time.monotonic() + timeout
                while self.inflight >= self.limit:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._cond.wait(left)
            self.inflight += 1
            return True

    def release(self, ok: bool = True) -> None:
        """Give the slot back; `ok` (an answer that was not a throttle) raises the limit additively."""
        with self._cond:
            self.inflight -= 1
            if ok and self.limit < self.ceiling:
                self.limit = min(float(self.ceiling), self.limit + 1.0 / self.limit)
            self._cond.notify()

    def throttled(self) -> None:
        """The endpoint throttled a request: halve the limit (once per cooldown), never below `floor`."""
        now = time.monotonic()
        with self._cond:
            self.throttles += 1
            if now - self._last_cut < self.cooldown_s:
                return
            self._last_cut = now
            base = min(self.limit, float(max(self.inflight, 1)))
            self.limit = max(float(self.floor), base / 2.0)

    def __enter__(self) -> AdaptiveLimit:
        self.acquire()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.release(exc_type is None)
