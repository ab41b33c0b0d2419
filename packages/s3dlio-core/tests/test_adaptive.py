"""AdaptiveLimit: multiplicative decrease on throttling, additive increase on success, bounded waits."""

from __future__ import annotations

import threading
import time

import pytest
from s3dlio_core.adaptive import AdaptiveLimit


def test_unthrottled_never_waits() -> None:
    lim = AdaptiveLimit(ceiling=8)
    for _ in range(8):
        assert lim.acquire(timeout=0)
    assert not lim.acquire(timeout=0.01)  # the ceiling still bounds
    for _ in range(8):
        lim.release()
    assert not lim.engaged


def test_throttle_halves_once_per_cooldown_and_recovers_additively() -> None:
    lim = AdaptiveLimit(ceiling=64, cooldown_s=0.05)
    for _ in range(32):
        lim.acquire()
    lim.throttled()
    lim.throttled()  # same overload: counted, not cut again
    assert lim.limit == 16 and lim.throttles == 2 and lim.engaged
    time.sleep(0.06)
    lim.throttled()
    assert lim.limit == 8
    for _ in range(32):
        lim.release()
    assert 8 < lim.limit < 12  # +1/limit per success
    for _ in range(200):
        lim.acquire()
        lim.release()
    assert lim.limit > 20


def test_floor_and_blocking_until_a_slot_frees() -> None:
    lim = AdaptiveLimit(ceiling=4, floor=1, cooldown_s=0)
    lim.acquire()
    for _ in range(5):
        lim.throttled()
    assert lim.limit == 1
    got = []

    def second() -> None:
        got.append(lim.acquire(timeout=2))

    t = threading.Thread(target=second)
    t.start()
    time.sleep(0.05)
    assert not got  # waiting: one in flight, limit 1
    lim.release(ok=False)
    t.join()
    assert got == [True] and lim.inflight == 1


def test_bad_bounds() -> None:
    with pytest.raises(ValueError):
        AdaptiveLimit(ceiling=0)


def test_with_epochs_a_burst_cuts_once_and_a_later_throttle_cuts_again() -> None:
    """A request that got its slot before the last cut was sent under the old limit: its throttle counts
    but does not cut again; one sent after the cut does (no cooldown needed)."""
    lim = AdaptiveLimit(ceiling=64, cooldown_s=3600)
    for _ in range(32):
        lim.acquire()
    old = lim.epoch
    lim.throttled(old)
    lim.throttled(old)  # the same overload
    assert lim.limit == 16 and lim.throttles == 2 and lim.epoch == old + 1
    for _ in range(20):
        lim.release(ok=False)
    assert lim.acquire(timeout=0)
    lim.throttled(lim.epoch)  # sent under the new limit: cut again at once, whatever the cooldown
    assert lim.limit == 6.5 and lim.epoch == old + 2


def test_a_waiter_that_times_out_passes_its_wake_up_on() -> None:
    lim = AdaptiveLimit(ceiling=1)
    lim.acquire()
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(lim.acquire(timeout=5)))
    waiter.start()
    assert not lim.acquire(timeout=0.05)
    lim.release()
    waiter.join()
    assert got == [True] and lim.inflight == 1
