"""Typed errors. Every one is a RuntimeError (code written for the original keeps working) and names its URI."""

from __future__ import annotations

__all__ = [
    "S3dlioError",
    "ObjectNotFoundError",
    "PermissionDeniedError",
    "InvalidUriError",
    "UnsupportedOperationError",
    "LengthMismatchError",
    "length_mismatch",
    "BackendNotInstalledError",
    "ExportStillReferencedError",
    "StorageIOError",
    "ThrottledError",
]


class S3dlioError(RuntimeError):
    """Base of every s3dlio error; `uri` is the URI at fault (or None)."""

    def __init__(self, message: str, uri: str | None = None) -> None:
        super().__init__(message)
        self.uri = uri


class StorageIOError(S3dlioError):
    """An I/O failure talking to a store (network, server error, disk).

    `status` is the HTTP status (None for a network or disk failure), `code` the service's error code
    (e.g. 'InternalError', 'SlowDown'), `retried` how many further attempts were made before giving up.
    """

    def __init__(self, message: str, uri: str | None = None, *, status: int | None = None,
                 code: str | None = None, retried: int = 0) -> None:
        super().__init__(message, uri)
        self.status = status
        self.code = code
        self.retried = retried


class ThrottledError(StorageIOError):
    """The store asked us to slow down (HTTP 503 SlowDown, 429 Too Many Requests) and kept doing so
    through every retry."""


class ObjectNotFoundError(S3dlioError, FileNotFoundError):
    """The object (or bucket) does not exist. Also a FileNotFoundError."""


class PermissionDeniedError(S3dlioError, PermissionError):
    """The store refused access. Also a PermissionError."""


class InvalidUriError(S3dlioError, ValueError):
    """The URI (or bucket name) cannot be parsed. Also a ValueError."""


class UnsupportedOperationError(S3dlioError, NotImplementedError):
    """The store cannot do this operation. Also a NotImplementedError."""


class BackendNotInstalledError(UnsupportedOperationError, ImportError):
    """The URI's scheme is known, but the package that implements it is not installed."""


class ExportStillReferencedError(S3dlioError):
    """A borrowed buffer was still referenced when it had to be released."""


class LengthMismatchError(S3dlioError, ValueError):
    """An object's size differs from the size the caller expected; `.expected` and `.actual` say how."""

    def __init__(self, message: str, uri: str | None = None, expected: int | None = None,
                 actual: int | None = None) -> None:
        super().__init__(message, uri)
        self.expected = expected
        self.actual = actual


def length_mismatch(uri: str, expected: int, actual: int) -> LengthMismatchError:
    """The object is `actual` bytes but the caller's destination holds `expected` (the one wording every
    store uses)."""
    return LengthMismatchError(
        f"length mismatch (expected {expected} bytes, got {actual}): object {uri} is {actual} bytes but "
        f"the destination holds {expected}", uri, expected=expected, actual=actual)
