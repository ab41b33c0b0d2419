"""S3DLIO_PUT_VERIFY / S3DLIO_MPU_PUT_VERIFY for the S3, Azure and GCS stores (the original's §5 behaviour).

Verified single PUT: PUT, then HEAD; equal size = done; a failed HEAD = warn and assume it landed; a size
mismatch = delete the object, wait S3DLIO_PUT_RETRY_DELAY_MS and try again, up to S3DLIO_PUT_MAX_RETRIES
attempts. PUT errors are retried with the same delay. Large (block / resumable) uploads only check the
size once when S3DLIO_MPU_PUT_VERIFY is on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from s3dlio_core.errors import S3dlioError, StorageIOError
from s3dlio_core.settings import Settings
from s3dlio_core.uri import ObjectUri

__all__ = ["put_verified", "verify_size"]

log = logging.getLogger("s3dlio.put_verify")


def put_verified(u: ObjectUri, data: memoryview, put: Callable[[], Any], stat: Callable[[], dict[str, Any]],
                 delete: Callable[[], Any], s: Settings) -> None:
    """Run `put` until `stat` reports `data`'s size (see the module docstring; `s`: the store's settings)."""
    want = data.nbytes
    last: BaseException | None = None
    for attempt in range(1, s.put_max_retries + 1):
        try:
            put()
        except S3dlioError as e:
            last = e
            log.warning("PUT %s failed (attempt %d of %d): %s", u.uri, attempt, s.put_max_retries, e)
            time.sleep(s.put_retry_delay_ms / 1000)
            continue
        try:
            got = stat()["size"]
        except S3dlioError as e:
            log.warning("PUT verify: HEAD %s failed (%s); assuming the PUT succeeded", u.uri, e)
            return
        if got == want:
            return
        last = StorageIOError(f"PUT size mismatch for {u.uri}: wrote {want} bytes but HEAD reports {got} bytes. "
                              "Truncated object has been deleted.", u.uri)
        delete()
        time.sleep(s.put_retry_delay_ms / 1000)
    assert last is not None
    raise last


def verify_size(u: ObjectUri, want: int, stat: Callable[[], dict[str, Any]]) -> None:
    """After a block / resumable upload (S3DLIO_MPU_PUT_VERIFY): the object must be `want` bytes."""
    got = stat()["size"]
    if got != want:
        raise StorageIOError(f"multipart upload size mismatch for {u.uri}: wrote {want} bytes but HEAD "
                             f"reports {got} bytes", u.uri)
