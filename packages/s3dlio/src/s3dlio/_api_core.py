"""The flat storage API: put/get/list/stat/delete and friends over every URI scheme, their `*_async`
twins and the original's legacy names. Each call finds the URI's store and delegates to it."""

from __future__ import annotations

import builtins
import logging
import os
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any

from s3dlio_core import (
    BytesView,
    InvalidUriError,
    ObjectNotFoundError,
    UnsupportedOperationError,
    bounded_map,
    parse_s3_uri_full,
    store_for_uri,
    submit_async,
    validate_max_in_flight,
)
from s3dlio_core import settings as _settings_mod
from s3dlio_core.bytes_view import as_buffer
from s3dlio_core.uri import parse_uri, scheme_of

__all__ = [
    "put", "put_bytes", "get", "get_range", "get_many", "get_many_stats", "put_many", "list", "stat",
    "exists", "delete", "mkdir", "create_bucket", "delete_bucket", "list_containers",
    "object_capabilities", "parse_s3_uri_full",
    "put_async", "put_bytes_async", "get_async", "get_range_async", "get_many_async",
    "get_many_stats_async", "put_many_async", "stat_async", "stat_many_async", "exists_async",
    "mkdir_async", "delete_async", "list_async", "head_async", "get_into", "get_into_async",
    "init_logging", "configure_tokio_threads", "py_total_cpus", "drop_page_cache",
    "_put_export_stats", "_put_test_queue_export", "_put_test_retain_next_clone", "_put_test_retained",
    "_put_test_release_retained",
]

_list = builtins.list
_DEFAULT_IN_FLIGHT = 64


def _in_flight(max_in_flight: int | None, *aliases: int | None) -> int:
    """The concurrency a caller asked for, under any of the names the spec uses."""
    for v in (max_in_flight, *aliases):
        if v is not None:
            return validate_max_in_flight(v)
    return _DEFAULT_IN_FLIGHT


# ---------------------------------------------------------------- single-object calls
def put(prefix: str | None = None, num: Any = None, template: str | None = None,
        max_in_flight: int = 64, size: int | None = None, should_create_bucket: bool = False,
        object_type: str = "zeros", dedup_factor: int = 1, compress_factor: int = 1,
        data_gen_algorithm: str = "random", data_gen_mode: str = "streaming", chunk_size: int = 262144,
        *, uri: str | None = None, data: Any = None) -> None:
    """Write one object (`put(uri, data)`) or generate `num` synthetic objects (`put(prefix, num, ...)`).

    The second argument decides: an int is the bulk generator's object count, anything bytes-like (or a
    readable stream) is the object's content.
    """
    target = uri if uri is not None else prefix
    if target is None:
        raise TypeError("put() needs a URI (or prefix) as its first argument")
    if data is None and (num is None or isinstance(num, bool) or not isinstance(num, int)):
        data = num
    if data is not None:
        put_bytes(target, data)
        return
    from ._api_datagen import put_objects

    put_objects(target, num, template=template, max_in_flight=max_in_flight, size=size,
                should_create_bucket=should_create_bucket, object_type=object_type,
                dedup_factor=dedup_factor, compress_factor=compress_factor,
                data_gen_algorithm=data_gen_algorithm, data_gen_mode=data_gen_mode, chunk_size=chunk_size)


def put_bytes(uri: str, data: Any) -> None:
    """Write one object from bytes-like `data` (or a readable binary stream)."""
    store, _ = store_for_uri(uri)
    store.put(uri, data)


def get(uri: str) -> BytesView:
    """The whole object, as a zero-copy BytesView."""
    store, _ = store_for_uri(uri)
    return store.get(uri)


def get_range(uri: str, offset: int = 0, length: int | None = None) -> BytesView:
    """`length` bytes from `offset` (to the end when None)."""
    store, _ = store_for_uri(uri)
    return store.get_range(uri, offset, length)


def get_into(uri: str, dst: Any, *, expected_len: int | None = None) -> int:
    """Fill the caller's writable buffer with the object; returns the bytes read."""
    store, _ = store_for_uri(uri)
    return store.get_into(uri, dst, expected_len=expected_len)


def stat(uri: str) -> dict[str, Any]:
    """Object metadata: the 16-key dict (size, last_modified, etag, ...)."""
    store, _ = store_for_uri(uri)
    return store.stat(uri)


def exists(uri: str) -> bool:
    """True iff the object exists (every failure, bad URIs included, is False)."""
    try:
        store, _ = store_for_uri(uri)
    except Exception:
        return False
    return store.exists(uri)


def delete(uri: str, recursive: bool = False) -> None:
    """Delete exactly `uri`; with `recursive=True`, everything the URI selects."""
    store, _ = store_for_uri(uri)
    store.delete(uri, recursive=recursive)


def mkdir(uri: str) -> None:
    """Create a directory (file://, direct://); a validated no-op on object stores."""
    store, _ = store_for_uri(uri)
    store.mkdir(uri)


def list(uri: str, recursive: bool = False, pattern: str | None = None) -> builtins.list[str]:
    """Full URIs under `uri` (see the selection rules); `pattern` is a regex on the relative path."""
    store, _ = store_for_uri(uri)
    return store.list(uri, recursive=recursive, pattern=pattern)


def _bucket_uri(bucket_name: str) -> str:
    if not isinstance(bucket_name, str) or not bucket_name.strip("/"):
        raise InvalidUriError(f"invalid bucket name: {bucket_name!r}")
    if "://" in bucket_name:
        scheme_of(bucket_name)
        name = bucket_name.rstrip("/")
        return name + "/"
    return f"s3://{bucket_name.strip('/')}/"


def create_bucket(bucket_name: str) -> None:
    """Create a bucket: a bare name means S3; a URI (`gs://b`, `az://acct/c`, `file:///d`) picks the store."""
    uri = _bucket_uri(bucket_name)
    store, _ = store_for_uri(uri)
    store.create_bucket(uri)


def delete_bucket(bucket_name: str) -> None:
    """Delete an (empty) bucket; names as for `create_bucket`."""
    uri = _bucket_uri(bucket_name)
    store, _ = store_for_uri(uri)
    store.delete_bucket(uri)


def list_containers(uri: str, /) -> builtins.list[dict[str, Any]]:
    """Buckets / containers / sub-directories under `uri`: dicts with name, uri, creation_date."""
    target = uri if not uri.endswith("://") else uri + "_/"
    if "://" in target and "/" not in target.split("://", 1)[1]:  # "az://account" (the spec's form)
        target += "/"
    store, _ = store_for_uri(target)
    return store.list_buckets(target)


def object_capabilities(uri: str) -> dict[str, Any]:
    """What the URI's store can do, from its scheme alone (no I/O)."""
    try:
        scheme = scheme_of(uri)
    except InvalidUriError:
        return {"provider": "unknown", "get_into": False, "head": False}
    if scheme not in ("file", "direct"):
        try:
            parse_uri(uri)
        except InvalidUriError as e:
            raise ValueError(str(e)) from None
    try:
        from s3dlio_core.registry import store_class

        caps = store_class(scheme, uri).capabilities
        return {"provider": scheme, "get_into": bool(caps.get_into), "head": bool(caps.head)}
    except ImportError:
        return {"provider": scheme, "get_into": False, "head": False}


# ---------------------------------------------------------------- bulk calls
def _same_store(uris: Sequence[str]) -> Any:
    """The one store serving every URI, or None. URIs under the first one's scheme, endpoint and bucket
    share its store without being parsed here (the store parses each one anyway)."""
    first, u0 = store_for_uri(uris[0])
    head = u0.base
    for u in uris[1:]:
        if not u.startswith(head) and store_for_uri(u)[0] is not first:
            return None
    return first


def get_many(uris: Sequence[str], max_in_flight: int | None = None, *, workers: int | None = None,
             concurrency: int | None = None) -> builtins.list[tuple[str, BytesView]]:
    """Fetch every URI, at most `max_in_flight` (alias `workers`) at once; `(uri, data)` in input order."""
    n = _in_flight(max_in_flight, workers, concurrency)
    uris = _list(uris)
    if not uris:
        return []
    store = _same_store(uris)
    if store is not None:
        return store.get_many(uris, n)
    return bounded_map(lambda u: (u, get(u)), uris, n)


def get_many_stats(uris: Sequence[str], max_in_flight: int | None = None, *, workers: int | None = None,
                   concurrency: int | None = None) -> tuple[int, int]:
    """Fetch and discard every URI; returns (count, total_bytes)."""
    n = _in_flight(max_in_flight, workers, concurrency)
    uris = _list(uris)
    if not uris:
        return (0, 0)
    sizes = bounded_map(lambda u: len(get(u)), uris, n)
    return (len(sizes), sum(sizes))


def put_many(items: Iterable[tuple[str, Any]], max_in_flight: int | None = None, *,
             workers: int | None = None) -> None:
    """Write every `(uri, data)` pair, at most `max_in_flight` at once; the first failure is raised."""
    n = _in_flight(max_in_flight, workers)
    items = _list(items)
    for i, it in enumerate(items):
        if not isinstance(it, tuple) or len(it) != 2:
            raise TypeError(f"item {i}: expected a (uri, data) tuple, got {type(it).__name__}")
        try:
            as_buffer(it[1])
        except TypeError as e:
            raise TypeError(f"item {i} ({it[0]}): {e}") from None
    if not items:
        return
    store = _same_store([u for u, _ in items])
    if store is not None:
        store.put_many(items, n)
        return
    bounded_map(lambda it: put_bytes(it[0], it[1]), items, n)


def stat_many(uris: Sequence[str], max_in_flight: int | None = None) -> builtins.list[dict[str, Any]]:
    """Stat every URI; dicts in input order."""
    return bounded_map(stat, _list(uris), _in_flight(max_in_flight))


# ---------------------------------------------------------------- async twins
def put_async(prefix: str | None = None, num: Any = None, *args: Any, **kwargs: Any) -> Awaitable[None]:
    """Awaitable `put` (either form)."""
    return submit_async(put, prefix, num, *args, **kwargs)


def put_bytes_async(uri: str, data: Any, *, borrow: bool = True) -> Awaitable[None]:
    """Awaitable `put_bytes`; `borrow=False` copies `data` first so the caller may reuse it at once."""
    if not borrow:
        data = bytes(as_buffer(data))
    return submit_async(put_bytes, uri, data)


def get_async(uri: str) -> Awaitable[BytesView]:
    return submit_async(get, uri)


def get_range_async(uri: str, offset: int = 0, length: int | None = None) -> Awaitable[BytesView]:
    return submit_async(get_range, uri, offset, length)


def get_into_async(uri: str, dst: Any, *, expected_len: int | None = None) -> Awaitable[int]:
    return submit_async(get_into, uri, dst, expected_len=expected_len)


def get_many_async(uris: Sequence[str], max_in_flight: int | None = None, **kw: Any
                   ) -> Awaitable[builtins.list[tuple[str, BytesView]]]:
    return submit_async(get_many, _list(uris), max_in_flight, **kw)


def get_many_stats_async(uris: Sequence[str], max_in_flight: int | None = None, **kw: Any
                         ) -> Awaitable[tuple[int, int]]:
    return submit_async(get_many_stats, _list(uris), max_in_flight, **kw)


def put_many_async(items: Iterable[tuple[str, Any]], max_in_flight: int | None = None, *,
                   borrow: bool = True) -> Awaitable[None]:
    items = _list(items)
    if not borrow:
        items = [(u, bytes(as_buffer(d))) for u, d in items]
    return submit_async(put_many, items, max_in_flight)


def stat_async(uri: str) -> Awaitable[dict[str, Any]]:
    return submit_async(stat, uri)


def stat_many_async(uris: Sequence[str], max_in_flight: int | None = None
                    ) -> Awaitable[builtins.list[dict[str, Any]]]:
    return submit_async(stat_many, _list(uris), max_in_flight)


def exists_async(uri: str) -> Awaitable[bool]:
    scheme_of(uri)  # like the original: a bad scheme raises before the stat
    return submit_async(exists, uri)


def mkdir_async(uri: str) -> Awaitable[None]:
    return submit_async(mkdir, uri)


def delete_async(uri: str, recursive: bool = False) -> Awaitable[None]:
    return submit_async(delete, uri, recursive)


def list_async(uri: str, recursive: bool = False, pattern: str | None = None
               ) -> Awaitable[builtins.list[str]]:
    return submit_async(list, uri, recursive, pattern)


def _head(uri: str) -> Any:
    from s3dlio_core.metadata import ObjectMetadata

    try:
        return ObjectMetadata.from_stat(uri, stat(uri))
    except ObjectNotFoundError:
        return None


def head_async(uri: str) -> Awaitable[Any]:
    """Awaitable metadata of `uri` as an ObjectMetadata, or None when the object does not exist."""
    return submit_async(_head, uri)


# ---------------------------------------------------------------- logging and runtime
_LEVELS = {"trace": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
           "warning": logging.WARNING, "error": logging.ERROR}
_logging_ready = False


def init_logging(level: str = "info") -> None:
    """Send s3dlio's log records to stderr at `level` (trace, debug, info, warn, error). Once only."""
    global _logging_ready
    if _logging_ready:
        return
    _logging_ready = True
    logger = logging.getLogger("s3dlio")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(_LEVELS.get(str(level).lower(), logging.INFO))


def configure_tokio_threads(n: int = 0) -> None:
    """Size the I/O thread pool (the original sized its Tokio runtime); 0 = automatic."""
    if n < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if n == 0:
        world = next((int(os.environ[v]) for v in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "WORLD_SIZE")
                      if os.environ.get(v, "").isdigit()), 1)
        n = 0 if world <= 1 else max(4, (os.cpu_count() or 1) // world)
    _settings_mod.configure(rt_threads=n)


def drop_page_cache(uri: str) -> int:
    """Drop a file:// (or direct://) object, or every file under a directory URI, from the page cache
    (posix_fadvise DONTNEED), so the next read comes from the disk: benchmark hygiene between epochs.
    Returns how many files were advised; other schemes raise UnsupportedOperationError."""
    store, _ = store_for_uri(uri)
    drop = getattr(store, "drop_cache", None)
    if drop is None:
        raise UnsupportedOperationError(f"drop_page_cache works on file:// and direct:// URIs, not {uri}", uri)
    return int(drop(uri))


# ---- the original's borrowed-buffer barrier (0.10.0). Its native code could still read a caller's buffer
# after a put returned; these counted that. Ours never keeps a reference past the call that was given the
# buffer (a put or put_many returns only when every read of it is done), so there is nothing to wait for:
# the counters are always zero and the test hooks report that nothing is retained.
_EXPORT_STATS_KEYS = ("quiesce_timeouts", "queued", "internal_errors", "shutdown_attach_waits",
                      "shutdown_attach_wait_timeouts", "releaser_attaches", "test_releaser_parked")


def _put_export_stats() -> dict[str, int]:
    """The original's export-barrier counters; always zero here (no buffer outlives its put)."""
    return dict.fromkeys(_EXPORT_STATS_KEYS, 0)


def _put_test_queue_export(*args: Any, **kwargs: Any) -> int:
    """Test hook of the original (queue an export for the releaser); nothing is ever queued here: 0."""
    return 0


def _put_test_retain_next_clone(*args: Any, **kwargs: Any) -> None:
    """Test hook of the original (keep the next buffer clone alive); a no-op: puts keep no clone."""


def _put_test_retained(*args: Any, **kwargs: Any) -> int:
    """Test hook of the original: how many buffers are retained past their put (always 0 here)."""
    return 0


def _put_test_release_retained(*args: Any, **kwargs: Any) -> int:
    """Test hook of the original: release retained buffers; returns how many (always 0 here)."""
    return 0


def py_total_cpus() -> int:
    """Logical CPUs of this machine."""
    return os.cpu_count() or 1


logging.getLogger("s3dlio").addHandler(logging.NullHandler())
_ = UnsupportedOperationError  # re-exported by the package
