"""Synthetic data generation and the bulk `put(prefix, num, template, ...)` generator, for every store.

The generator lives in s3dlio-ml (`s3dlio_ml.datagen`; numpy is imported on first use, not here).
Bulk put names objects as the original does (the prefix is a directory; the template's first `{}` is the
index, the second the total) but, unlike the original, gives every object its own content. The format
wrappers of `object_type` ("npz", "tfrecord", "hdf5") live in `s3dlio_ml.formats.bulk`; the payload is
generated straight into the object's bytes.
"""

from __future__ import annotations

import logging
import queue
from typing import Any

from s3dlio_core import BytesView, bounded_map, store_for_uri, validate_max_in_flight
from s3dlio_ml.datagen import (
    DataLayout,
    Generator,
    XorStream,
    default_data_gen_threads,
    fill_buffer,
    generate_data,
    generate_data_with_threads,
    generate_into_buffer,
    new_seed,
)
from s3dlio_ml.formats.bulk import object_kind, wrap_payload

from ._mp_get import mp_get

__all__ = [
    "generate_data", "generate_data_with_threads", "generate_into_buffer", "Generator", "XorStream",
    "py_default_data_gen_threads", "default_data_gen_threads", "mp_get",
]

log = logging.getLogger("s3dlio.datagen")

DEFAULT_OBJECT_SIZE = 20 << 20  # the original's DEFAULT_OBJECT_SIZE
DEFAULT_TEMPLATE = "object-{}"
MIN_STREAM_PIECE = 1 << 20  # streaming writes at least this much per call (smaller costs more per byte)
_SINGLE_PASS = frozenset({"single-pass", "single_pass", "singlepass"})
_M64 = (1 << 64) - 1


def py_default_data_gen_threads() -> int:
    """Threads a generation call uses by default ($DGEN_THREADS, else every logical CPU)."""
    return default_data_gen_threads()


def object_names(num: int, template: str | None = None) -> list[str]:
    """The names bulk put gives its objects: template's first `{}` = index, second `{}` = num."""
    t = DEFAULT_TEMPLATE if template is None else template
    n = str(num)
    return [t.replace("{}", str(i), 1).replace("{}", n, 1) for i in range(num)]


def object_uris(prefix: str, num: int, template: str | None = None) -> list[str]:
    """Full URIs of bulk put's objects: the prefix is a directory (a '/' is implied)."""
    base = prefix if prefix.endswith("/") else prefix + "/"
    return [base + name for name in object_names(num, template)]


def _check_count(num: Any, name: str = "num") -> int:
    if isinstance(num, bool) or not isinstance(num, int):
        raise TypeError(f"argument '{name}': '{type(num).__name__}' object cannot be interpreted as an integer")
    if num < 0:
        raise OverflowError(f"can't convert negative int to unsigned: {name} {num}")
    return num


def put_objects(prefix: str, num: Any, template: str | None = None, max_in_flight: int = 64,
                size: int | None = None, should_create_bucket: bool = False, object_type: str = "zeros",
                dedup_factor: int = 1, compress_factor: int = 1, data_gen_algorithm: str = "random",
                data_gen_mode: str = "streaming", chunk_size: int = 262144, *,
                progress: Any = None) -> None:
    """Generate `num` synthetic objects of `size` bytes under `prefix` (the bulk form of `put`).

    Each object gets its own seed, so no two objects share content. Raw objects are generated into buffers
    reused across objects (at most `max_in_flight` of them, freed on return): "single-pass" makes each
    object whole and writes it with one put; "streaming" (the default) bounds memory, streaming objects
    larger than max(chunk_size, 1 MiB) through the store's writer in pieces of that size.
    `progress(nbytes)` is called once per object.
    """
    num = _check_count(num)
    validate_max_in_flight(max_in_flight)
    size = DEFAULT_OBJECT_SIZE if size is None else _check_count(size, "size")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    uris = object_uris(prefix, num, template)
    base = prefix if prefix.endswith("/") else prefix + "/"
    store, _ = store_for_uri(base)
    if should_create_bucket:
        _create_bucket(store, base)
    if not uris:
        return
    kind = object_kind(object_type)
    streaming = str(data_gen_mode).lower() not in _SINGLE_PASS
    piece = min(size, max(chunk_size, MIN_STREAM_PIECE)) if streaming else size
    seed0 = new_seed()
    threads = 1 if num > 1 else None
    buffers: queue.SimpleQueue[Any] = queue.SimpleQueue()  # reused: no page faults per object

    def one(i: int) -> None:
        seed = (seed0 + (i << 40)) & _M64  # 2**40 blocks apart: objects never share a block
        uri = uris[i]
        if kind != "raw":
            layout = DataLayout(size, dedup_factor, compress_factor, seed, exact=False)
            store.put(uri, wrap_payload(kind, size, lambda dst: fill_buffer(dst, layout, 0, threads)))
        else:
            try:
                buf = buffers.get_nowait()
            except queue.Empty:
                buf = memoryview(BytesView.allocate(piece))
            try:
                gen = Generator(size, dedup_factor, compress_factor, threads=threads, seed=seed, exact=False)
                if size <= piece:
                    gen.fill_chunk(buf[:size])
                    store.put(uri, buf[:size])
                else:
                    with store.open_writer(uri) as w:  # an exception aborts: no half object
                        while n := gen.fill_chunk(buf):
                            w.write(buf[:n])
            finally:
                buffers.put(buf)
        if progress is not None:
            progress(size)

    bounded_map(one, range(num), min(max_in_flight, num))


def _create_bucket(store: Any, prefix: str) -> None:
    """Best effort, as the original: a bucket that exists (or cannot be made) only logs a warning.

    The store gets the prefix URI and takes its bucket (container) from it; file:// makes the directory.
    """
    try:
        if store.capabilities.buckets:
            store.create_bucket(prefix)
        else:
            store.mkdir(prefix)
    except Exception as e:  # the puts that follow report any real problem
        log.warning("create bucket for %s: %s", prefix, e)
