"""The one instrumentation point every store operation passes through.

Observers (the op-log, statistics) receive one `OpRecord` per operation. With no observer attached a store
pays a single truthiness check of `ACTIVE` per operation. With one attached, the traced path stays short
(two clock reads, one tuple): an observer that must do real work hands the record to a thread of its own.
"""

from __future__ import annotations

import os
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
    "traced_read",
    "read_done",
    "read_failed",
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

_observers: tuple[Callable[[tuple], None], ...] = ()  # what traced calls
_registered: list[tuple[Observer, Callable[[tuple], None]]] = []  # (as attached, as called)
_lock = threading.Lock()
_time_ns = time_ns = time.time_ns
_get_ident = get_ident = threading.get_ident
_new = tuple.__new__


# first-byte time reported by the store, per thread id; taken (popped) when the operation ends, and
# ignored when older than the operation's start (a mark made outside any traced operation)
_fb: dict[int, int] = {}
_fb_pop = _fb.pop


def _after_fork_in_child() -> None:
    """A forked child may need to change observers (the op-log detaches); a lock held by a parent thread
    at fork time would never be released there."""
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Active:
    """`bool(ACTIVE)` is True while any observer is attached (read on every operation)."""

    __slots__ = ("on",)

    def __init__(self) -> None:
        self.on = False

    def __bool__(self) -> bool:
        return self.on


ACTIVE = _Active()


def _rich(fn: Observer) -> Callable[[tuple], None]:
    def call(t: tuple) -> None:
        fn(t if type(t) is OpRecord else _new(OpRecord, t))

    return call


def add_observer(fn: Observer, *, raw: bool = False) -> None:
    """Attach `fn`; it is called (on the operation's thread) after each operation ends with an `OpRecord`.

    With `raw=True` it gets the plain tuple in OpRecord's field order instead: no object is built for it,
    and plain tuples of str/int leave the garbage collector's tracking, so an observer that keeps records
    a while (the op-log's buffer) costs the operation the least.
    """
    global _observers
    with _lock:
        _registered.append((fn, fn if raw else _rich(fn)))  # type: ignore[arg-type]  # raw takes tuples
        _observers = tuple(c for _, c in _registered)
        ACTIVE.on = True


def remove_observer(fn: Observer) -> None:
    """Detach `fn` (no error if it was not attached)."""
    global _observers
    with _lock:
        _registered[:] = [(f, c) for f, c in _registered if f != fn]
        _observers = tuple(c for _, c in _registered)
        ACTIVE.on = bool(_observers)


def observers() -> tuple[Observer, ...]:
    return tuple(f for f, _ in _registered)


def is_active() -> bool:
    return ACTIVE.on


def record(rec: tuple) -> None:
    """Hand a finished record (an OpRecord or a tuple in its field order) to every observer; an observer's
    exception never breaks the caller."""
    for fn in _observers:
        try:
            fn(rec)
        except Exception:
            pass


def mark_first_byte() -> None:
    """Called by a store when the first byte of a response arrives (cheap no-op when inactive)."""
    if ACTIVE.on:
        ident = _get_ident()
        if ident not in _fb:
            _fb[ident] = _time_ns()


def _first_byte(ident: int, start: int) -> int:
    fb = _fb_pop(ident, 0)
    return fb if fb >= start else 0


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
    ident = _get_ident()
    start = _time_ns()
    try:
        result = fn(*args, **kwargs)
    except BaseException as e:
        end = _time_ns()
        sent = (nbytes or 0) if op == "PUT" else 0
        record((op, uri, sent, start, _first_byte(ident, start), end, f"{type(e).__name__}: {e}", n_objects,
                ident))
        raise
    end = _time_ns()
    if nbytes is None:
        nbytes = size_of(result) if size_of is not None else 0
    if count_of is not None:
        n_objects = count_of(result)
    fb = _fb_pop(ident, 0) if _fb else 0
    rec = (op, uri, nbytes, start, fb if fb >= start else 0, end, None, n_objects, ident)
    for obs in _observers:
        try:
            obs(rec)
        except Exception:
            pass
    return result


def traced_read(op: str, uri: str, fn: Callable[..., Any], *args: Any) -> Any:
    """`traced` for reads, positional only: bytes = len(result). The GET hot path."""
    ident = _get_ident()
    start = _time_ns()
    try:
        result = fn(*args)
    except BaseException as e:
        read_failed(op, uri, start, ident, e)
        raise
    read_done(op, uri, result, start, ident)
    return result


def read_done(op: str, uri: str, data: Any, start: int, ident: int) -> None:
    """Record a successful read traced inline by a store (`start` = time_ns(), `ident` = get_ident()
    taken before it); bytes = len(data)."""
    end = _time_ns()
    fb = _fb_pop(ident, 0) if _fb else 0
    rec = (op, uri, len(data), start, fb if fb >= start else 0, end, None, 1, ident)
    for obs in _observers:
        try:
            obs(rec)
        except Exception:
            pass


def read_failed(op: str, uri: str, start: int, ident: int, e: BaseException) -> None:
    """Record a failed read traced inline by a store."""
    record((op, uri, 0, start, _first_byte(ident, start), _time_ns(), f"{type(e).__name__}: {e}", 1, ident))


def traced_pages(op: str, uri: str, pages: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """Yield each page of `pages`, recording one `op` row per page (n_objects = its length); an empty
    listing still records one row, an error records one row with the error."""
    first = True
    ident = _get_ident()
    while True:
        start = _time_ns()
        try:
            page = next(pages)
        except StopIteration:
            if first:
                record((op, uri, 0, start, _first_byte(ident, start), _time_ns(), None, 0, ident))
            return
        except BaseException as e:
            record((op, uri, 0, start, _first_byte(ident, start), _time_ns(), f"{type(e).__name__}: {e}", 0,
                    ident))
            raise
        first = False
        record((op, uri, 0, start, _first_byte(ident, start), _time_ns(), None, len(page), ident))
        yield page
