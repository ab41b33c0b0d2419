"""retry.py: the one classifier and the one loop every HTTP backend (and the GET multiplexer) uses."""

from __future__ import annotations

import ssl

import pytest
from s3dlio_backends import retry
from s3dlio_backends.http_errors import error_for_status, http_error, length_mismatch
from s3dlio_backends.retry import Retry, call_with_retries, classify, classify_error
from s3dlio_core.errors import (
    InvalidUriError,
    LengthMismatchError,
    ObjectNotFoundError,
    PermissionDeniedError,
    StorageIOError,
    ThrottledError,
)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    waits: list[tuple[int, bool]] = []
    monkeypatch.setattr(retry, "sleep_before_retry", lambda n, throttled=False: waits.append((n, throttled)))
    return waits


def test_the_classifier() -> None:
    assert classify(503, "SlowDown") is Retry.THROTTLED and classify(429) is Retry.THROTTLED
    assert classify(503) is Retry.THROTTLED and classify(400, "SlowDown") is Retry.THROTTLED
    assert classify(503, "ServerBusy") is Retry.THROTTLED and classify(403, "rateLimitExceeded") is Retry.THROTTLED
    for status in (500, 502, 504, 408):
        assert classify(status) is Retry.YES
    assert classify(400, "RequestTimeout") is Retry.YES and classify(200, "InternalError") is Retry.YES
    for status in (400, 401, 403, 404, 409, 412, 416, 501, 505, 200, 206):
        assert classify(status) is Retry.NO, status
    assert classify(None) is Retry.NO
    assert retry.is_retryable_status(500) and not retry.is_retryable_status(404)


def test_exceptions_are_classified_by_kind() -> None:
    assert classify_error(ConnectionResetError()) is Retry.YES
    assert classify_error(TimeoutError()) is Retry.YES
    assert classify_error(ssl.SSLCertVerificationError()) is Retry.NO
    assert classify_error(StorageIOError("x", status=500)) is Retry.YES
    assert classify_error(ThrottledError("x", status=503, code="SlowDown")) is Retry.THROTTLED
    assert classify_error(StorageIOError("changed while it was read")) is Retry.NO  # typed, no status: final
    for e in (ObjectNotFoundError("x"), PermissionDeniedError("x"), InvalidUriError("x"),
              LengthMismatchError("x"), ValueError("bug"), KeyError("bug")):
        assert classify_error(e) is Retry.NO, e


def test_backoff_is_bounded_and_throttling_waits_longer() -> None:
    for attempt in range(1, 12):
        d = retry.backoff_delay(attempt)
        assert 0 <= d <= min(retry.MAX_DELAY_S, retry.BASE_DELAY_S * 2 ** (attempt - 1))
        t = retry.backoff_delay(attempt, throttled=True)
        assert 0 <= t <= min(retry.MAX_DELAY_S, retry.THROTTLE_BASE_DELAY_S * 2 ** (attempt - 1))


def test_the_loop_retries_until_success_and_backs_off_per_verdict(no_sleep: list[tuple[int, bool]]) -> None:
    answers: list[BaseException | str] = [ThrottledError("slow", status=503), ConnectionResetError(), "ok"]

    def attempt() -> str:
        a = answers.pop(0)
        if isinstance(a, BaseException):
            raise a
        return a

    assert call_with_retries(attempt, attempts=3) == "ok"
    assert no_sleep == [(1, True), (2, False)]


def test_the_last_error_says_how_many_retries_were_made() -> None:
    calls = []

    def attempt() -> None:
        calls.append(1)
        raise StorageIOError("boom", "s3://b/k", status=500, code="InternalError")

    with pytest.raises(StorageIOError) as ei:
        call_with_retries(attempt, attempts=4)
    assert len(calls) == 4 and ei.value.retried == 3 and ei.value.status == 500
    calls.clear()
    with pytest.raises(StorageIOError) as ei:  # two attempts were made elsewhere (the multiplexer)
        call_with_retries(attempt, attempts=4, first_attempt=3)
    assert len(calls) == 2 and ei.value.retried == 3


def test_final_errors_stop_at_once_and_network_errors_become_typed() -> None:
    calls = []

    def refused() -> None:
        calls.append(1)
        raise PermissionDeniedError("no", "s3://b/k")

    with pytest.raises(PermissionDeniedError):
        call_with_retries(refused, attempts=5)
    assert len(calls) == 1

    def broken() -> None:
        raise ConnectionResetError("peer reset")

    def typed(e: BaseException, n: int) -> BaseException:
        return StorageIOError(f"GET failed after {n} attempt(s): {e}", "s3://b/k")

    with pytest.raises(StorageIOError, match=r"after 2 attempt\(s\): peer reset") as ei:
        call_with_retries(broken, attempts=2, give_up=typed)
    assert ei.value.retried == 1 and ei.value.__cause__ is None
    with pytest.raises(ConnectionResetError):  # no converter: the exception itself
        call_with_retries(broken, attempts=1)


def test_status_to_typed_error() -> None:
    assert isinstance(error_for_status("m", "u", 404), ObjectNotFoundError)
    assert isinstance(error_for_status("m", "u", 403), PermissionDeniedError)
    assert isinstance(error_for_status("m", "u", 401), PermissionError)
    t = error_for_status("m", "u", 503, "SlowDown", retried=2)
    assert type(t) is ThrottledError and (t.status, t.code, t.retried) == (503, "SlowDown", 2)
    e = error_for_status("m", "u", 500, "InternalError")
    assert type(e) is StorageIOError and e.status == 500
    msg = str(http_error("GCS", "GET", "gs://b/k", 404, "notFound", "No such object"))
    assert msg == "GCS GET for gs://b/k failed: notFound (No such object) (HTTP 404) — not found"
    lm = length_mismatch("gs://b/k", 10, 12)
    assert (lm.expected, lm.actual, lm.uri) == (10, 12, "gs://b/k") and "destination holds 10" in str(lm)
