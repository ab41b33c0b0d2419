"""The one instrumentation point every store operation passes through.

Observers (the op-log, statistics) receive one `OpRecord` per operation. With no observer attached a store
pays a single truthiness check of `ACTIVE` per operation. With one attached, the traced path stays short
(two clock reads, one tuple): an observer that must do real work hands the record to a thread of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

__all__ = [
    "OpRecord",
    "Observer",
    "add_observer",
    "remove_observer",
    "observers",
    "is_active",
    "traced",
    "mark_first_byte",
    "record",
    "traced_pages",
]


class OpRecord(NamedTuple):
    """One finished storage operation: times are wall-clock nanoseconds (time.time_ns)."""

    op: str  # GET, GET_RANGE, PUT, HEAD, LIST, DELETE, ...
    uri: str
    bytes: int = 0
    start_ns: int = 0
    first_byte_ns: int = 0  # 0 = not reported
    end_ns: int = 0
    error: str | None = None
    n_objects: int = 1
    thread_id: int = 0


Observer = Callable[[OpRecord], None]

_observers: tuple[Observer, ...] = ()
_lock = threading.Lock()
_time_ns = time.time_ns
_get_ident = threading.get_ident
_new = tuple.__new__


class _Tls(threading.local):
    fb = 0  # first-byte time of the operation running on this thread (0 = not yet)


_tls = _Tls()


class _Active:
    """`bool(ACTIVE)` is True while any observer is attached (read on every operation)."""

    __slots__ = ("on",)

    def __init__(self) -> None:
        self.on = False

    def __bool__(self) -> bool:
        return self.on


ACTIVE = _Active()


def add_observer(fn: Observer) -> None:
    """Attach `fn`; it is called (on the operation's thread) after each operation ends."""
    global _observers
    with _lock:
        _observers = (*_observers, fn)
        ACTIVE.on = True


def remove_observer(fn: Observer) -> None:
    """Detach `fn` (no error if it was not attached)."""
    global _observers
    with _lock:
        _observers = tuple(o for o in _observers if o != fn)
        ACTIVE.on = bool(_observers)


def observers() -> tuple[Observer, ...]:
    return _observers


def is_active() -> bool:
    return ACTIVE.on


def record(rec: OpRecord) -> None:
    """Hand a finished record to every observer; an observer's exception never breaks the caller."""
    for fn in _observers:
        try:
            fn(rec)
        except Exception:
            pass


def mark_first_byte() -> None:
    """Called by a store when the first byte of a response arrives (cheap no-op when inactive)."""
    if ACTIVE.on and not _tls.fb:
        _tls.fb = _time_ns()


def _size_of(result: Any) -> int:
    try:
        return len(result)
    except TypeError:
        return 0


def traced(op: str, uri: str, fn: Callable[..., Any], *args: Any,
           nbytes: int | None = None, size_of: Callable[[Any], int] | None = _size_of,
           n_objects: int = 1, count_of: Callable[[Any], int] | None = None, **kwargs: Any) -> Any:
    """Run `fn(*args, **kwargs)` as one recorded operation. Call only when `ACTIVE` is true.

    Bytes are `nbytes`, else `size_of(result)`; `count_of(result)` (e.g. a LIST page's length), if
    given, replaces `n_objects`. A failed operation records its error and transferred no bytes (PUT
    keeps `nbytes`, the size it tried to write).
    """
    tls = _tls
    tls.fb = 0
    start = _time_ns()
    try:
        result = fn(*args, **kwargs)
    except BaseException as e:
        end = _time_ns()
        sent = (nbytes or 0) if op == "PUT" else 0
        record(_new(OpRecord, (op, uri, sent, start, tls.fb, end, f"{type(e).__name__}: {e}", n_objects,
                               _get_ident())))
        raise
    end = _time_ns()
    if nbytes is None:
        nbytes = size_of(result) if size_of is not None else 0
    if count_of is not None:
        n_objects = count_of(result)
    rec = _new(OpRecord, (op, uri, nbytes, start, tls.fb, end, None, n_objects, _get_ident()))
    for obs in _observers:
        try:
            obs(rec)
        except Exception:
            pass
    return result


def traced_pages(op: str, uri: str, pages: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """Yield each page of `pages`, recording one `op` row per page (n_objects = its length); an empty
    listing still records one row, an error records one row with the error."""
    first = True
    ident = _get_ident()
    while True:
        _tls.fb = 0
        start = _time_ns()
        try:
            page = next(pages)
        except StopIteration:
            if first:
                record(_new(OpRecord, (op, uri, 0, start, _tls.fb, _time_ns(), None, 0, ident)))
            return
        except BaseException as e:
            record(_new(OpRecord, (op, uri, 0, start, _tls.fb, _time_ns(), f"{type(e).__name__}: {e}", 0,
                                   ident)))
            raise
        first = False
        record(_new(OpRecord, (op, uri, 0, start, _tls.fb, _time_ns(), None, len(page), ident)))
        yield page
