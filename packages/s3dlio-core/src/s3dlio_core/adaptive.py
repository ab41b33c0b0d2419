"""Adaptive concurrency: an in-flight limit per endpoint that backs off when the endpoint throttles.

An object store that answers 503 SlowDown or 429 is saying "fewer requests at once". A fixed in-flight
limit keeps hammering it: every request gets throttled, waits out its backoff, and many fail after their
last retry. `AdaptiveLimit` is the AIMD rule TCP uses for congestion: each throttled answer halves the
limit, each success raises it by 1/limit (about +1 per round of requests), up to `ceiling`. A burst of
503s from one overload cuts once: a caller that passes the `epoch` it read when its request got its slot
cuts only if no cut happened since (the request was sent under the current limit: TCP's once per
window); without an epoch, at most once per `cooldown_s`. Requests acquire a slot before
they are sent and release it when their answer is in, so every layer that talks to the endpoint (get_many,
put_many, bulk put, multipart parts, loaders, checkpoints) is governed by the same limit.

Until the endpoint first throttles, the limit is the ceiling, and acquiring a slot is one uncontended
lock and a counter: nothing waits (and releasing one wakes nobody unless someone waits).
"""

from __future__ import annotations

import threading
import time

__all__ = ["AdaptiveLimit", "DEFAULT_CEILING"]

DEFAULT_CEILING = 4096  # effectively unbounded until the endpoint throttles


class AdaptiveLimit:
    """An AIMD-governed count of requests in flight to one endpoint."""

    __slots__ = ("_cond", "_last_cut", "_lock", "_waiting", "ceiling", "cooldown_s", "epoch", "floor", "inflight",
                 "limit", "throttles")

    def __init__(self, ceiling: int = DEFAULT_CEILING, floor: int = 1, cooldown_s: float = 0.2) -> None:
        if floor < 1 or ceiling < floor:
            raise ValueError(f"need 1 <= floor <= ceiling, got floor={floor}, ceiling={ceiling}")
        self.ceiling = ceiling
        self.floor = floor
        self.cooldown_s = cooldown_s
        self.limit = float(ceiling)
        self.inflight = 0
        self.throttles = 0  # throttled answers seen (each one, including those inside a cooldown)
        self.epoch = 0  # cuts so far: read it when a request gets its slot, pass it to throttled()
        self._last_cut = 0.0
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._waiting = 0  # callers blocked in acquire

    def __repr__(self) -> str:
        return (f"AdaptiveLimit(limit={self.limit:.1f}, inflight={self.inflight}, ceiling={self.ceiling}, "
                f"throttles={self.throttles})")

    @property
    def engaged(self) -> bool:
        """True once the endpoint has throttled and the limit is below its ceiling."""
        return self.limit < self.ceiling

    def acquire(self, timeout: float | None = None) -> bool:
        """Take a slot, waiting while `limit` requests are in flight; False if `timeout` ran out."""
        with self._lock:
            if self.inflight < self.limit:  # the common case
                self.inflight += 1
                return True
            deadline = None if timeout is None else time.monotonic() + timeout
            self._waiting += 1
            try:
                while self.inflight >= self.limit:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        if self.inflight < self.limit and self._waiting > 1:
                            self._cond.notify()  # a wake-up this caller no longer uses
                        return False
                    self._cond.wait(left)
            finally:
                self._waiting -= 1
            self.inflight += 1
            return True

    def release(self, ok: bool = True) -> None:
        """Give the slot back; `ok` (an answer that was not a throttle) raises the limit additively."""
        with self._lock:
            self.inflight -= 1
            if ok and self.limit < self.ceiling:
                self.limit = min(float(self.ceiling), self.limit + 1.0 / self.limit)
            if self._waiting:
                self._cond.notify()

    def throttled(self, epoch: int | None = None) -> None:
        """The endpoint throttled a request: halve the limit, never below `floor`. With `epoch` (the
        `epoch` read when the request got its slot) only if no cut happened since; without, at most once
        per `cooldown_s`."""
        now = time.monotonic()
        with self._lock:
            self.throttles += 1
            if epoch is not None:
                if epoch != self.epoch:
                    return  # sent under a higher limit that is already cut
            elif now - self._last_cut < self.cooldown_s:
                return
            self._last_cut = now
            self.epoch += 1
            base = min(self.limit, float(max(self.inflight, 1)))
            self.limit = max(float(self.floor), base / 2.0)

    def __enter__(self) -> AdaptiveLimit:
        self.acquire()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.release(exc_type is None)
