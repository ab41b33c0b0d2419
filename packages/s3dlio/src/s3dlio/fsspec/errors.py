"""The exceptions fsspec users expect, from s3dlio's typed errors.

Most of s3dlio's errors already are what fsspec code catches: ObjectNotFoundError is a FileNotFoundError,
PermissionDeniedError a PermissionError, InvalidUriError a ValueError, UnsupportedOperationError a
NotImplementedError. The one gap is an I/O failure (StorageIOError, ThrottledError: RuntimeErrors), which
fsspec code (pyarrow's handler, zarr, dask) expects to be an OSError. `translated` re-raises such an error as
a subclass of both its own class and OSError, so `except StorageIOError`, `except ThrottledError` and
`except OSError` all keep working, with the same message, URI, status, code and retry count.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from s3dlio_core.errors import StorageIOError

__all__ = ["translated", "as_os_error"]

F = TypeVar("F", bound=Callable[..., Any])
_OS_TYPES: dict[type[StorageIOError], type[StorageIOError]] = {}


def _os_type(cls: type[StorageIOError]) -> type[StorageIOError]:
    t = _OS_TYPES.get(cls)
    if t is None:
        t = type(cls.__name__, (cls, OSError), {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__,
            "__doc__": f"{cls.__doc__ or cls.__name__}\n\nRaised through the fsspec filesystem: also an OSError."})
        _OS_TYPES[cls] = t
    return t


def as_os_error(e: StorageIOError) -> StorageIOError:
    """`e` as an instance of a subclass of its class and OSError (itself if it already is an OSError)."""
    if isinstance(e, OSError):
        return e
    new = _os_type(type(e))(str(e), e.uri, status=e.status, code=e.code, retried=e.retried)
    new.__traceback__ = e.__traceback__
    return new


def translated(fn: F) -> F:
    """Decorate a filesystem method so that storage I/O failures leave it as OSErrors."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StorageIOError as e:
            if isinstance(e, OSError):
                raise
            raise as_os_error(e) from e

    return wrapper  # type: ignore[return-value]
