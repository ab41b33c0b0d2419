"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


def rate(fn: Callable[[], int]) -> float:
    """Run `fn` once; it returns the bytes it moved. Returns MB/s (10^6 bytes per second)."""
    t0 = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - t0) / 1e6
