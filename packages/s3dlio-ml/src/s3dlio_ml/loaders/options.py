"""Loader options: the original's options dict (features §1.8.1), parsed once into a frozen `LoaderOptions`.

Every dataset and loader takes its options as a dict, as a `PyLoaderOptions` builder, or as None, under
either keyword (`opts=`, the original's, or `options=`, the spec's). Unlike the original, every option is
honoured (see `LoaderOptions`). An unknown key or a value of the wrong type never raises: it warns once per
process (a `LoaderOptionWarning`, naming the valid keys) and the default is used, as the original does on
stderr. A value of the right type that cannot work (a rank outside the world size) raises ValueError.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["LoaderOptions", "LoaderOptionWarning", "parse_options", "pick_options", "VALID_KEYS",
           "DESCRIPTIVE_KEYS", "DEFAULT_CONCURRENCY", "AUTO_LOOKAHEAD_BYTES"]

DEFAULT_CONCURRENCY = 32  # GETs in flight when neither num_workers nor prefetch says otherwise
AUTO_LOOKAHEAD_BYTES = 256 << 20  # with prefetch=0, fetch at most about this much ahead of the consumer
_U64 = (1 << 64) - 1


class LoaderOptionWarning(UserWarning):
    """An option the loaders do not know, or a value of the wrong type (the default is used)."""


@dataclass(frozen=True, slots=True)
class LoaderOptions:
    """Parsed loader options (the original's keys and defaults; all of them take effect).

    batch_size: items per batch of the async loaders and of dataset iteration (no 32 -> 1 quirk).
    drop_last: drop the last batch if it is partial (and, in item streams, the items it would hold).
    shuffle, seed: a new order each epoch, the same for every rank and worker for one seed; epoch 0 is
        the original's order (ChaCha20 Fisher-Yates seeded with `seed`).
    num_workers: GETs in flight (0: max(32, prefetch)).
    prefetch: objects requested ahead of the consumer, in flight or ready (0: twice the GETs in
        flight, at most 256 MiB ahead); memory stays near prefetch x object size.
    auto_tune: size the GETs in flight from the object sizes (many for small objects, few for large).
    reader_mode, part_size, max_inflight_parts: "range" reads each object as `part_size` ranged GETs,
        `max_inflight_parts` at once, into one buffer; "sequential" (default) one GET per object.
    shard_rank, shard_world_size, worker_id, num_workers_pytorch: keep position k of the epoch order
        iff k % (world * workers) == rank * workers + worker (every dataset and loader).
    skip_head: accepted; loaders never send a HEAD (object sizes come from the listing).
    format, columns, footer_cap, decode, max_threads: the Parquet path of create_async_loader.
    timeout_seconds: give up (TimeoutError) when one batch takes longer than this.
    """

    batch_size: int = 32
    drop_last: bool = False
    shuffle: bool = False
    seed: int = 0
    num_workers: int = 0
    prefetch: int = 0
    auto_tune: bool = False
    reader_mode: str = "sequential"
    part_size: int = 8 << 20
    max_inflight_parts: int = 4
    shard_rank: int = 0
    shard_world_size: int = 1
    worker_id: int = 0
    num_workers_pytorch: int = 1
    skip_head: bool = True
    format: str | None = None
    columns: tuple[int, ...] | None = None
    footer_cap: int = 4 << 20
    decode: str | None = None
    max_threads: int = 0
    timeout_seconds: float | None = None

    # ---- derived values ----
    @property
    def shard_count(self) -> int:
        return self.shard_world_size * self.num_workers_pytorch

    @property
    def shard_index(self) -> int:
        return self.shard_rank * self.num_workers_pytorch + self.worker_id

    def concurrency(self, object_size: int | None = None) -> int:
        """GETs in flight: num_workers, else max(32, prefetch); with auto_tune, enough to keep about
        64 MiB in flight (4..128) when the typical object size is known."""
        if self.num_workers > 0:
            return self.num_workers
        if self.auto_tune and object_size:
            return max(4, min(128, (64 << 20) // max(1, object_size)))
        return max(DEFAULT_CONCURRENCY, self.prefetch)

    def lookahead(self, object_size: int | None = None) -> int:
        """Objects requested ahead of the consumer (in flight or ready): prefetch, else twice the GETs in
        flight, capped at AUTO_LOOKAHEAD_BYTES when the typical object size is known (at least 2)."""
        if self.prefetch > 0:
            return self.prefetch
        n = 2 * self.concurrency(object_size)
        if object_size:
            n = min(n, max(2, AUTO_LOOKAHEAD_BYTES // max(1, object_size)))
        return n

    def with_shard(self, rank: int, world_size: int, worker_id: int = 0, num_workers: int = 1) -> LoaderOptions:
        """A copy with the shard keys replaced (validated)."""
        return _checked(replace(self, shard_rank=rank, shard_world_size=world_size, worker_id=worker_id,
                                num_workers_pytorch=num_workers))

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        if d["columns"] is not None:
            d["columns"] = list(d["columns"])
        return d


# the descriptive knobs of PyLoaderOptions.to_dict(): known (no warning), no effect on byte loaders
DESCRIPTIVE_KEYS = frozenset({
    "pin_memory", "persistent_workers", "non_blocking", "generator_seed", "enable_transforms",
    "collate_buffer_size", "multiprocessing_context", "memory_format", "sampler_type", "sampler_replacement",
    "sampler_rank", "sampler_world_size",
})
VALID_KEYS = tuple(f.name for f in fields(LoaderOptions))
_DEFAULTS = LoaderOptions()
_POSITIVE = {"batch_size", "part_size", "max_inflight_parts", "shard_world_size", "num_workers_pytorch",
             "footer_cap"}
_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _warn_once(key: str, kind: str, message: str) -> None:
    with _warned_lock:
        if (key, kind) in _warned:
            return
        _warned.add((key, kind))
    warnings.warn(message, LoaderOptionWarning, stacklevel=user_stacklevel())


_OWN_FILES = ("/s3dlio_ml/loaders/", "/s3dlio/torch/", "/s3dlio/jax_tf.py", "/s3dlio/_api_loaders.py")


def user_stacklevel() -> int:
    """The stacklevel of the first frame outside the loaders and their adapters (the user's call)."""
    import sys

    f = sys._getframe(2)
    level = 2
    while f is not None and any(p in f.f_code.co_filename.replace("\\", "/") for p in _OWN_FILES):
        f = f.f_back
        level += 1
    return level


def _valid_list() -> str:
    return ", ".join(VALID_KEYS)


def _bad_value(key: str, value: Any, expected: str) -> None:
    _warn_once(key, "type", f"Invalid value for loader option {key!r}: expected {expected}, got "
                            f"{type(value).__name__} {value!r}; using the default {getattr(_DEFAULTS, key)!r}. "
                            f"Valid options: {_valid_list()}")


def _convert(key: str, value: Any) -> Any:
    """The value for `key`, or _DEFAULTS' value after a warning."""
    default = getattr(_DEFAULTS, key)
    if key in ("drop_last", "shuffle", "auto_tune", "skip_head"):
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            return bool(value)
        _bad_value(key, value, "bool")
        return default
    if key == "reader_mode":
        if isinstance(value, str) and value.lower() in ("sequential", "range"):
            return value.lower()
        _bad_value(key, value, "'sequential' or 'range'")
        return default
    if key in ("format", "decode"):
        if value is None or isinstance(value, str):
            return value.lower() if isinstance(value, str) else None
        _bad_value(key, value, "str")
        return default
    if key == "columns":
        if value is None:
            return None
        if isinstance(value, (list, tuple)) and all(_is_uint(c) for c in value):
            return tuple(int(c) for c in value)
        _bad_value(key, value, "a list of column indices")
        return default
    if key == "timeout_seconds":
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
        _bad_value(key, value, "a positive number of seconds or None")
        return default
    # every other key is an unsigned integer (seed a u64)
    if not _is_uint(value) or (key == "seed" and int(value) > _U64):
        _bad_value(key, value, "u64" if key == "seed" else "usize")
        return default
    v = int(value)
    if key in _POSITIVE and v < 1:
        _bad_value(key, value, "an integer >= 1")
        return default
    return v


def _is_uint(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        import operator

        return operator.index(value) >= 0
    except TypeError:
        return False


def _checked(o: LoaderOptions) -> LoaderOptions:
    if not 0 <= o.shard_rank < o.shard_world_size:
        raise ValueError(f"loader option shard_rank={o.shard_rank} must be in 0..{o.shard_world_size - 1} "
                         f"(shard_world_size={o.shard_world_size})")
    if not 0 <= o.worker_id < o.num_workers_pytorch:
        raise ValueError(f"loader option worker_id={o.worker_id} must be in 0..{o.num_workers_pytorch - 1} "
                         f"(num_workers_pytorch={o.num_workers_pytorch})")
    if o.format not in (None, "parquet"):
        raise ValueError(f"loader option format={o.format!r} is not supported (only 'parquet', or None for "
                         "whole objects)")
    return o


def parse_options(opts: Any = None, **overrides: Any) -> LoaderOptions:
    """`LoaderOptions` from a dict, a `PyLoaderOptions`, a `LoaderOptions` or None, then `overrides`
    (keyword options that are not None win over the dict)."""
    if isinstance(opts, LoaderOptions):
        base: dict[str, Any] = {}
        result = opts
    else:
        base = _as_mapping(opts)
        result = None
    values: dict[str, Any] = {}
    for key, value in {**base, **{k: v for k, v in overrides.items() if v is not None}}.items():
        if not isinstance(key, str):
            _warn_once(repr(key), "unknown", f"Loader option keys must be strings, got {key!r}; ignored. "
                                             f"Valid options: {_valid_list()}")
            continue
        if key in DESCRIPTIVE_KEYS:
            continue
        if key not in VALID_KEYS:
            _warn_once(key, "unknown", f"Unknown loader option {key!r} ignored. Valid options: {_valid_list()}")
            continue
        values[key] = _convert(key, value)
    if result is None:
        return _checked(LoaderOptions(**values))
    return _checked(replace(result, **values)) if values else result


def _as_mapping(opts: Any) -> Mapping[str, Any]:
    if opts is None:
        return {}
    if isinstance(opts, Mapping):
        return opts
    to_dict = getattr(opts, "to_dict", None)
    if callable(to_dict) and type(opts).__name__ == "PyLoaderOptions":
        return to_dict()
    raise TypeError(f"loader options must be a dict, a PyLoaderOptions or None, got {type(opts).__name__}")


def pick_options(opts: Any, options: Any) -> Any:
    """The options given under either keyword (`opts=`, the original's, `options=`, the spec's)."""
    if opts is not None and options is not None:
        raise TypeError("pass the loader options as opts= or as options=, not both")
    return opts if opts is not None else options
