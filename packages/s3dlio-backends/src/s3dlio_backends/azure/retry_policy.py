"""The Azure SDK pipeline's retry policy, built from our settings instead of the SDK's defaults.

azure-storage-blob's default (ExponentialRetry) waits about 15 s before the first retry, makes 3 retries
whatever S3DLIO_MAX_RETRY_ATTEMPTS says, and never retries 429. `AzureRetryPolicy` keeps the SDK's
mechanics (rewinding a request body, counting connect/read/status retries) and decides with retry.py's
classifier, waits with retry.py's backoff (milliseconds, harder when throttled), and makes
`max_retry_attempts` attempts in all (the first included), read from the store's settings at each request.

Each attempt holds a slot of the account endpoint's adaptive in-flight limit (retry.py's `endpoint_limit`;
one per pipeline, which is one per account, store and process) from its send until the answer's head is
in, and reports the answer (`settle`): 503 ServerBusy and 429 cut the limit, answers let it grow.

As in retry.py, a throttled attempt the limit can still answer for (`absorbs_throttle`) does not use up
one of the request's attempts (at most THROTTLED_FREE_RETRIES per request).

How many retries the last request on this thread made is kept for the typed errors (`last_retried`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import AzureError, ServiceRequestError, ServiceResponseError
from azure.storage.blob._shared.policies import StorageRetryPolicy
from s3dlio_core.settings import Settings

from ..retry import (
    THROTTLED_FREE_RETRIES,
    Retry,
    absorbs_throttle,
    backoff_delay,
    classify,
    endpoint_limit,
    settle,
)

__all__ = ["AzureRetryPolicy", "last_retried"]

_state = threading.local()


def last_retried() -> int:
    """Retries the last request sent on this thread made (0 if none)."""
    return int(getattr(_state, "retried", 0))


class AzureRetryPolicy(StorageRetryPolicy):
    """Retries as retry.py decides (see the module docstring)."""

    def __init__(self, settings_of: Callable[[], Settings]) -> None:
        super().__init__(retry_to_secondary=False)
        self._settings_of = settings_of
        #: the endpoint's adaptive in-flight limit (None: S3DLIO_ADAPTIVE_CONCURRENCY=0)
        self.limit = endpoint_limit(settings_of())

    def configure_retries(self, request: Any) -> dict[str, Any]:
        s = super().configure_retries(request)
        retries = max(1, self._settings_of().max_retry_attempts) - 1
        for k in ("total", "connect", "read", "status"):
            s[k] = retries
        s["throttled"] = False
        return s

    def get_backoff_time(self, settings: dict[str, Any]) -> float:
        return backoff_delay(settings["count"], settings.get("throttled", False))

    def send(self, request: Any) -> Any:
        s = self.configure_retries(request)
        _state.retried = 0
        lim = self.limit
        free = THROTTLED_FREE_RETRIES if lim is not None and s["total"] > 0 else 0
        extra = 0
        while True:
            epoch = 0
            if lim is not None:
                lim.acquire()
                epoch = lim.epoch
            try:
                response = self.next.send(request)
            except BaseException as err:
                if lim is not None:
                    lim.release(False)
                if not isinstance(err, AzureError):
                    raise
                retryable = isinstance(err, (ServiceRequestError, ServiceResponseError))
                if not retryable or not self.increment(s, request=request.http_request, error=err):
                    _state.retried = s["count"] + extra
                    raise
                s["throttled"] = False
                self.sleep(s, request.context.transport)
                continue
            http = response.http_response
            verdict = classify(http.status_code, http.headers.get("x-ms-error-code"))
            if lim is not None:
                settle(lim, verdict, epoch)
            if verdict is Retry.THROTTLED and free > 0 and absorbs_throttle(lim):
                free -= 1  # the limit answers for this one: no attempt used, the back-off does not grow
                extra += 1
                _drain(http)
                s["throttled"] = True
                self.sleep(s, request.context.transport)
                continue
            if verdict and self.increment(s, request=request.http_request, response=http):
                _drain(http)
                s["throttled"] = verdict is Retry.THROTTLED
                self.sleep(s, request.context.transport)
                continue
            _state.retried = s["count"] + extra
            if s["history"]:
                response.context["history"] = s["history"]
            http.location_mode = s["mode"]  # the SDK's paging reads it (primary/secondary)
            return response


def _drain(http_response: Any) -> None:
    """Read (small error bodies) and release a response that will be retried."""
    inner = getattr(http_response, "internal_response", None)
    if inner is None:
        return
    try:
        inner.content  # noqa: B018 - reads the body so the connection goes back to the pool
    except Exception:
        pass
    inner.close()
