"""The typed errors of the HTTP backends, made in one place: an HTTP status (and the service's error code)
becomes the s3dlio_core error a caller can catch, and the few data-path failures every backend can meet
have one message each.

* 404 -> ObjectNotFoundError; 401/403 -> PermissionDeniedError; throttling (429, 503, slow-down codes)
  -> ThrottledError; every other status -> StorageIOError. I/O errors carry `status`, `code` and
  `retried` (set by the retry loop).
* `length_mismatch`: an object's size is not what the destination buffer holds.
* `object_changed`: a later range of a split read came from another version of the object.
* `short_body`: a response body ended before its announced length.
"""

from __future__ import annotations

from s3dlio_core.errors import (
    ObjectNotFoundError,
    PermissionDeniedError,
    S3dlioError,
    StorageIOError,
    ThrottledError,
    length_mismatch,  # re-exported: the backends' error helpers in one place
)

from .retry import is_throttle

__all__ = ["error_for_status", "http_error", "length_mismatch", "object_changed", "short_body"]


def error_for_status(message: str, uri: str | None, status: int | None, code: str | None = None,
                     retried: int = 0) -> S3dlioError:
    """The typed error for an HTTP answer (`message` already names the URI and says what failed)."""
    if status == 404:
        return ObjectNotFoundError(message, uri)
    if status in (401, 403):
        return PermissionDeniedError(message, uri)
    cls = ThrottledError if is_throttle(status, code) else StorageIOError
    return cls(message, uri, status=status, code=code, retried=retried)


def http_error(service: str, op: str, uri: str, status: int, code: str | None = None,
               detail: str | None = None, hint: str | None = None) -> S3dlioError:
    """`error_for_status` with the backends' one message shape:
    '<service> <op> for <uri> failed: <code> (<detail>) (HTTP <status>)[ — <hint>]'."""
    what = code or {404: "NotFound", 403: "Forbidden", 401: "Unauthorized"}.get(status, f"HTTP {status}")
    text = f"{service} {op} for {uri} failed: {what}"
    if detail:
        text += f" ({detail})"
    text += f" (HTTP {status})"
    if hint is None:
        hint = {404: "not found", 401: "access denied", 403: "access denied"}.get(status)
    if hint:
        text += f" — {hint}"
    return error_for_status(text, uri, status, code)


def object_changed(uri: str, detail: str = "") -> StorageIOError:
    """A range of a split read did not come from the version the first response came from."""
    extra = f" ({detail})" if detail else ""
    return StorageIOError(f"GET failed for {uri}: the object changed while it was read{extra}", uri)


def short_body(uri: str, got: int, want: int) -> StorageIOError:
    return StorageIOError(f"GET failed for {uri}: body ended after {got} of {want} bytes", uri)
