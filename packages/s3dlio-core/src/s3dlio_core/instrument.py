"""The one instrumentation point every store operation passes through.

Observers (the op-log, statistics) receive one `OpRecord` per operation. With no observer attached a store
pays a single truthiness check of `ACTIVE` per operation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

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


@dataclass(slots=True)
class OpRecord:
    """One storage operation: times are wall-clock nanoseconds (time.time_ns)."""

    op: str  # GET, PUT, HEAD, LIST, DELETE, ...
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
_tls = threading.local()


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
    if ACTIVE.on:
        rec = getattr(_tls, "rec", None)
        if rec is not None and not rec.first_byte_ns:
            rec.first_byte_ns = time.time_ns()


def _size_of(result: Any) -> int:
    try:
        return len(result)
    except TypeError:
        return 0


def traced(op: str, uri: str, fn: Callable[..., Any], *args: Any,
           nbytes: int | None = None, size_of: Callable[[Any], int] | None = _size_of,
           n_objects: int = 1, **kwargs: Any) -> Any:
    """Run `fn(*args, **kwargs)` as one recorded operation. Call only when `ACTIVE` is true."""
    rec = OpRecord(op, uri, n_objects=n_objects, thread_id=threading.get_ident())
    outer = getattr(_tls, "rec", None)
    _tls.rec = rec
    rec.start_ns = time.time_ns()
    try:
        result = fn(*args, **kwargs)
    except BaseException as e:
        rec.end_ns = time.time_ns()
        rec.error = f"{type(e).__name__}: {e}"
        if nbytes is not None:
            rec.bytes = nbytes
        _tls.rec = outer
        record(rec)
        raise
    rec.end_ns = time.time_ns()
    if nbytes is not None:
        rec.bytes = nbytes
    elif size_of is not None:
        rec.bytes = size_of(result)
    _tls.rec = outer
    record(rec)
    return result


def traced_pages(op: str, uri: str, pages: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """Yield each page of `pages`, recording one `op` row per page (n_objects = its length); an empty
    listing still records one row, an error records one row with the error."""
    first = True
    ident = threading.get_ident()
    while True:
        rec = OpRecord(op, uri, n_objects=0, thread_id=ident)
        rec.start_ns = time.time_ns()
        try:
            page = next(pages)
        except StopIteration:
            if first:
                rec.end_ns = time.time_ns()
                record(rec)
            return
        except BaseException as e:
            rec.end_ns = time.time_ns()
            rec.error = f"{type(e).__name__}: {e}"
            record(rec)
            raise
        rec.end_ns = time.time_ns()
        rec.n_objects = len(page)
        first = False
        record(rec)
        yield page
