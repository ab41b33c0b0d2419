"""The one retry policy of the HTTP backends: which failures are worth another attempt (the classifier),
how long to wait (exponential backoff with full jitter, like the AWS SDKs' "standard" mode), and the loop
that runs an attempt function under them.

* `classify(status, code)` says what an HTTP answer deserves: no retry, a retry, or a throttled retry
  (which backs off harder). Throttling: 429, 503 and the services' slow-down codes (SlowDown, ServerBusy,
  rateLimitExceeded, ...). Other retries: 408, 5xx except 501/505, and the transient codes of a 4xx or a
  200 answer (RequestTimeout, InternalError). Every other 4xx is final.
* `classify_error(e)` does the same for an exception: a typed StorageIOError by its status and code (one
  with neither, such as "the object changed while it was read", is final); a broken connection or a timeout (ConnectionError, TimeoutError, other OSErrors, requests' errors) is
  retried; a certificate failure, a typed client error (not found, denied, bad URI) or a bug is not.
* `call_with_retries(attempt, attempts=...)` runs `attempt()` until it returns, the classifier says
  stop, or the attempts (the first one included: S3DLIO_MAX_RETRY_ATTEMPTS, default 3) are used up. The
  error that ends it carries `retried`, the number of further attempts that were made.

The S3 client, the GCS store, the Azure pipeline policy (azure/retry_policy.py) and the GET multiplexer
(s3/mux.py) all decide with `classify` and wait with `backoff_delay`.

Adaptive concurrency: each endpoint (one store's client, per process) has an `AdaptiveLimit`
(s3dlio_core.adaptive; `endpoint_limit`, None with S3DLIO_ADAPTIVE_CONCURRENCY=0). Every HTTP attempt
holds one of its slots from the moment it is sent until its answer's head is in (`call_with_retries(...,
limit=)` does that around each attempt; the S3 client and the multiplexer do it around their own send
and head read), and `settle` reports the answer: a throttle halves the limit, an answer raises it
additively. So get_many, put_many, bulk put, multipart parts, loaders and checkpoints all back off
together when an endpoint answers 503 SlowDown or 429, without knowing. A body being read holds no slot:
a reader that fans out range requests for the rest of its object must not wait for slots its own first
request holds.

Under an adaptive limit a throttled attempt is the limit's business, not the request's: while the limit
can still back off (it is above its floor of one request in flight after the cut), the attempt does not
use up one of the request's S3DLIO_MAX_RETRY_ATTEMPTS (at most THROTTLED_FREE_RETRIES such attempts per
request, and none when the setting allows no retries at all); its back-off does not grow either. AIMD
finds an endpoint's capacity by crossing it now and then, and a request that meets one of those probes on
its last attempt should not fail for it. Every other failure, and throttling that goes on with one
request in flight, uses attempts as before.
"""

from __future__ import annotations

import enum
import logging
import random
import ssl
import time
from collections.abc import Callable
from typing import TypeVar

from s3dlio_core.adaptive import AdaptiveLimit
from s3dlio_core.errors import S3dlioError, StorageIOError
from s3dlio_core.settings import Settings

__all__ = [
    "Retry", "classify", "classify_error", "call_with_retries", "retry_after", "backoff_delay",
    "sleep_before_retry", "endpoint_limit", "settle", "limited", "absorbs_throttle", "THROTTLED_FREE_RETRIES",
    "is_retryable_status", "is_throttle", "THROTTLE_CODES", "TRANSIENT_CODES",
]

log = logging.getLogger("s3dlio.retry")
T = TypeVar("T")

THROTTLED_FREE_RETRIES = 10  # throttled attempts per request that an adaptive limit answers for (see above)
BASE_DELAY_S = 0.05  # first retry waits up to this long
MAX_DELAY_S = 20.0
THROTTLE_BASE_DELAY_S = 0.5  # throttling backs off harder, as the SDKs do

#: error codes that mean "slow down" whatever the status (S3, Azure, GCS spellings)
THROTTLE_CODES = frozenset({
    "SlowDown", "SlowDownRead", "SlowDownWrite", "Throttling", "ThrottlingException", "ThrottledException",
    "RequestThrottled", "RequestLimitExceeded", "TooManyRequests", "TooManyRequestsException",
    "ServerBusy", "rateLimitExceeded", "userRateLimitExceeded",
})
#: error codes of transient failures that may come with a 4xx or even a 200 (S3 CompleteMultipartUpload)
TRANSIENT_CODES = frozenset({
    "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable", "OperationTimedOut",
    "backendError", "internalError",
})
_NEVER_RETRIED = frozenset({501, 505})  # Not Implemented, HTTP Version Not Supported: asking again won't help


class Retry(enum.IntEnum):
    """The classifier's verdict (false when no retry is due)."""

    NO = 0
    YES = 1
    THROTTLED = 2


def is_throttle(status: int | None, code: str | None = None) -> bool:
    """True when the answer asks us to slow down (429, 503 or a slow-down code)."""
    return status in (429, 503) or (code is not None and code in THROTTLE_CODES)


def classify(status: int | None, code: str | None = None) -> Retry:
    """What an HTTP answer with `status` and service error `code` deserves (see the module docstring)."""
    if is_throttle(status, code):
        return Retry.THROTTLED
    if code is not None and code in TRANSIENT_CODES:
        return Retry.YES
    if status is None:
        return Retry.NO
    if status == 408 or (500 <= status < 600 and status not in _NEVER_RETRIED):
        return Retry.YES
    return Retry.NO


def is_retryable_status(status: int, code: str | None = None) -> bool:
    """True for throttling and transient server errors; False for every other status."""
    return classify(status, code) is not Retry.NO


def classify_error(e: BaseException) -> Retry:
    """What a failed attempt's exception deserves (see the module docstring)."""
    if isinstance(e, StorageIOError):  # typed by a lower layer: by its status and code (none: final)
        return classify(e.status, e.code)
    if isinstance(e, S3dlioError):  # not found, denied, bad URI, length mismatch: the request is wrong
        return Retry.NO
    if isinstance(e, ssl.SSLCertVerificationError):
        return Retry.NO
    if isinstance(e, (ConnectionError, TimeoutError, OSError)):  # requests' errors are OSErrors too
        return Retry.YES
    return Retry.NO


def backoff_delay(attempt: int, throttled: bool = False) -> float:
    """Seconds to wait before retry number `attempt` (1 = first retry): full jitter over an exponential cap."""
    base = THROTTLE_BASE_DELAY_S if throttled else BASE_DELAY_S
    cap = min(MAX_DELAY_S, base * (2 ** (max(1, attempt) - 1)))
    return random.uniform(0, cap)


def sleep_before_retry(attempt: int, throttled: bool = False) -> None:
    time.sleep(backoff_delay(attempt, throttled))


def endpoint_limit(s: Settings) -> AdaptiveLimit | None:
    """A new adaptive in-flight limit for one endpoint, or None when `s.adaptive_concurrency` is off
    (S3DLIO_ADAPTIVE_CONCURRENCY=0, or a StoreConfig field)."""
    return AdaptiveLimit() if s.adaptive_concurrency else None


def settle(limit: AdaptiveLimit, verdict: Retry, epoch: int | None = None) -> None:
    """Give back an attempt's slot, reporting its answer: THROTTLED cuts the limit (unless it was cut
    since `epoch`, the limit's epoch when the attempt got its slot); NO (an answer, even an error one such
    as 404) lets it grow; YES (a server error, a broken connection) leaves it."""
    if verdict is Retry.THROTTLED:
        limit.throttled(epoch)
        limit.release(False)
    else:
        limit.release(verdict is Retry.NO)


def absorbs_throttle(limit: AdaptiveLimit | None) -> bool:
    """True when a throttled attempt, already reported to `limit`, leaves it room to back off further (so
    the attempt need not count against the request; see the module docstring)."""
    return limit is not None and limit.limit > limit.floor


def limited(attempt: Callable[[], T], limit: AdaptiveLimit,
            classify_exc: Callable[[BaseException], Retry] = classify_error) -> Callable[[], T]:
    """`attempt` holding one slot of `limit` while it runs, its outcome reported by `settle`."""

    def run() -> T:
        limit.acquire()
        epoch = limit.epoch
        try:
            result = attempt()
        except Exception as e:
            settle(limit, classify_exc(e), epoch)
            raise
        except BaseException:
            limit.release(False)
            raise
        limit.release(True)
        return result

    return run


def call_with_retries(attempt: Callable[[], T], *, attempts: int, first_attempt: int = 1,
                      classify_exc: Callable[[BaseException], Retry] = classify_error,
                      give_up: Callable[[BaseException, int], BaseException | None] | None = None,
                      what: str = "request", limit: AdaptiveLimit | None = None) -> T:
    """`attempt()`, retried while `classify_exc` allows and attempts remain; with `limit`, every attempt
    holds a slot of the endpoint's adaptive limit and reports its outcome (see the module docstring).

    `first_attempt` > 1 continues a request whose earlier attempts were made elsewhere (the GET
    multiplexer). When the loop ends with an error: a StorageIOError is re-raised with `retried` set to the
    number of retries made; any other exception goes through `give_up(e, attempts_made)`, which returns
    the typed error to raise instead (or None to re-raise `e` as it is).
    """
    if limit is not None:
        attempt = limited(attempt, limit, classify_exc)
    try:
        return attempt()
    except Exception as e:
        return retry_after(e, attempt, attempts=attempts, first_attempt=first_attempt, classify_exc=classify_exc,
                           give_up=give_up, what=what, limit=limit)


def retry_after(error: Exception, attempt: Callable[[], T], *, attempts: int, first_attempt: int = 1,
                classify_exc: Callable[[BaseException], Retry] = classify_error,
                give_up: Callable[[BaseException, int], BaseException | None] | None = None,
                what: str = "request", limit: AdaptiveLimit | None = None) -> T:
    """The rest of `call_with_retries` once attempt number `first_attempt` failed with `error` (a hot path
    calls `attempt()` itself and comes here only on a failure, so success costs nothing extra). `limit`:
    the endpoint's adaptive limit the attempts report to (throttled attempts it absorbs are not counted;
    see the module docstring)."""
    n = first_attempt if first_attempt > 1 else 1
    free = THROTTLED_FREE_RETRIES if limit is not None and attempts > 1 else 0
    extra = 0  # attempts the limit answered for
    e: Exception = error
    while True:
        verdict = classify_exc(e)
        if not verdict:
            break
        absorbed = verdict is Retry.THROTTLED and free > 0 and absorbs_throttle(limit)
        if not absorbed and n >= attempts:
            break
        log.debug("%s failed (%s: %s); retrying (attempt %d of %d%s)", what, type(e).__name__, e,
                  n + (0 if absorbed else 1), attempts, ", throttled: not counted" if absorbed else "")
        sleep_before_retry(n, throttled=verdict is Retry.THROTTLED)
        if absorbed:
            free -= 1
            extra += 1
        else:
            n += 1
        try:
            return attempt()
        except Exception as again:
            e = again
    if isinstance(e, StorageIOError):
        e.retried = n - 1 + extra
        raise e
    typed = give_up(e, n + extra) if give_up is not None else None
    if typed is None:
        raise e
    if isinstance(typed, StorageIOError):
        typed.retried = n - 1 + extra
    raise typed from None
