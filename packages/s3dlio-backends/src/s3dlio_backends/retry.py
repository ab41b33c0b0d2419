"""The retry policy shared by the HTTP backends: which failures are worth another attempt and how long to
wait (exponential backoff with full jitter, like the AWS SDKs' "standard" mode).

Retried: throttling (503 SlowDown, 429), other 5xx, and broken connections/timeouts. Never other 4xx.
Attempts count the first one (settings().max_retry_attempts, S3DLIO_MAX_RETRY_ATTEMPTS, default 3).
"""

from __future__ import annotations

import random
import time

__all__ = ["RETRYABLE_STATUS", "is_retryable_status", "backoff_delay", "sleep_before_retry"]

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
BASE_DELAY_S = 0.05  # first retry waits up to this long
MAX_DELAY_S = 20.0
THROTTLE_BASE_DELAY_S = 0.5  # throttling backs off harder, as the SDKs do


def is_retryable_status(status: int) -> bool:
    """True for throttling and server errors; False for every other status."""
    return status in RETRYABLE_STATUS or 500 <= status < 600


def backoff_delay(attempt: int, throttled: bool = False) -> float:
    """Seconds to wait before retry number `attempt` (1 = first retry): full jitter over an exponential cap."""
    base = THROTTLE_BASE_DELAY_S if throttled else BASE_DELAY_S
    cap = min(MAX_DELAY_S, base * (2 ** (attempt - 1)))
    return random.uniform(0, cap)


def sleep_before_retry(attempt: int, throttled: bool = False) -> None:
    time.sleep(backoff_delay(attempt, throttled))
