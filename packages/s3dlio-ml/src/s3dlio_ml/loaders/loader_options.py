"""`PyLoaderOptions`: the original's immutable options builder (features §1.8.5).

Every builder method returns a new object (the original is unchanged); the `*_value`, `batch_size`,
`seed`, `shard_*` and `timeout_seconds` attributes are read-only. Unlike the original, a PyLoaderOptions
can be passed to every dataset and loader (`opts=` or `options=`): its loader fields take effect and the
descriptive "realism" knobs (pin_memory, sampler, memory format, ...) are recorded but change nothing in a
byte loader.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PyLoaderOptions"]

_DEFAULTS: dict[str, Any] = {
    "batch_size": 32, "drop_last": False, "shuffle": False, "seed": 0, "num_workers": 0, "prefetch": 0,
    "auto_tune": False, "pin_memory": False, "persistent_workers": False, "timeout_seconds": None,
    "non_blocking": False, "shard_rank": 0, "shard_world_size": 1, "generator_seed": None,
    "enable_transforms": False, "collate_buffer_size": 1024, "multiprocessing_context": "spawn",
    "memory_format": "auto", "sampler_type": "sequential", "sampler_replacement": None, "sampler_rank": None,
    "sampler_world_size": None,
}


def _uint(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an unsigned integer, got {type(value).__name__}")
    if value < 0:
        raise OverflowError(f"can't convert negative int to unsigned ({name}={value})")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


class PyLoaderOptions:
    """Options for the datasets and loaders, built step by step: `PyLoaderOptions().with_batch_size(64)
    .shuffle(True, 42).num_workers(8)`."""

    __slots__ = ("_d",)

    def __init__(self) -> None:
        object.__setattr__(self, "_d", dict(_DEFAULTS))

    def _with(self, **changes: Any) -> PyLoaderOptions:
        new = PyLoaderOptions.__new__(PyLoaderOptions)
        object.__setattr__(new, "_d", {**self._d, **changes})
        return new

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _GETTERS:
            raise AttributeError(f"attribute '{name}' of 'PyLoaderOptions' objects is not writable")
        raise AttributeError(f"'PyLoaderOptions' object has no attribute '{name}'")

    def __repr__(self) -> str:
        d = self._d
        return (f"PyLoaderOptions(batch_size={d['batch_size']}, shuffle={d['shuffle']}, seed={d['seed']}, "
                f"num_workers={d['num_workers']}, prefetch={d['prefetch']})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (dict(self._d),))

    # ---- builders (each returns a new object) ----
    def with_batch_size(self, size: int) -> PyLoaderOptions:
        return self._with(batch_size=_uint("size", size))

    def drop_last(self, yes: bool) -> PyLoaderOptions:
        return self._with(drop_last=_flag("yes", yes))

    def shuffle(self, on: bool, seed: int) -> PyLoaderOptions:
        return self._with(shuffle=_flag("on", on), seed=_uint("seed", seed))

    def num_workers(self, n: int) -> PyLoaderOptions:
        return self._with(num_workers=_uint("n", n))

    def prefetch(self, n: int) -> PyLoaderOptions:
        return self._with(prefetch=_uint("n", n))

    def auto_tune(self, on: bool) -> PyLoaderOptions:
        return self._with(auto_tune=_flag("on", on))

    def pin_memory(self, pin: bool) -> PyLoaderOptions:
        return self._with(pin_memory=_flag("pin", pin))

    def persistent_workers(self, persistent: bool) -> PyLoaderOptions:
        return self._with(persistent_workers=_flag("persistent", persistent))

    def with_timeout(self, seconds: float) -> PyLoaderOptions:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
        return self._with(timeout_seconds=float(seconds))

    def use_spawn(self) -> PyLoaderOptions:
        return self._with(multiprocessing_context="spawn")

    def use_fork(self) -> PyLoaderOptions:
        return self._with(multiprocessing_context="fork")

    def use_forkserver(self) -> PyLoaderOptions:
        return self._with(multiprocessing_context="forkserver")

    def random_sampling(self, replacement: bool) -> PyLoaderOptions:
        return self._with(sampler_type="random", sampler_replacement=_flag("replacement", replacement))

    def distributed_sampling(self, rank: int, world_size: int) -> PyLoaderOptions:
        return self._with(sampler_type="distributed_random", sampler_rank=_uint("rank", rank),
                          sampler_world_size=_uint("world_size", world_size))

    def channels_first(self) -> PyLoaderOptions:
        return self._with(memory_format="channels_first")

    def channels_last(self) -> PyLoaderOptions:
        return self._with(memory_format="channels_last")

    def non_blocking(self, non_blocking: bool) -> PyLoaderOptions:
        return self._with(non_blocking=_flag("non_blocking", non_blocking))

    def with_generator_seed(self, seed: int) -> PyLoaderOptions:
        return self._with(generator_seed=_uint("seed", seed))

    def enable_transforms(self, enable: bool) -> PyLoaderOptions:
        return self._with(enable_transforms=_flag("enable", enable))

    def collate_buffer_size(self, size: int) -> PyLoaderOptions:
        return self._with(collate_buffer_size=_uint("size", size))

    # ---- presets ----
    def gpu_optimized(self) -> PyLoaderOptions:
        """pin_memory, persistent_workers and non_blocking on; channels-first memory format."""
        return self._with(pin_memory=True, persistent_workers=True, non_blocking=True,
                          memory_format="channels_first")

    def distributed_optimized(self, rank: int, world_size: int) -> PyLoaderOptions:
        """The GPU preset, this rank's shard, and the distributed random sampler."""
        rank, world_size = _uint("rank", rank), _uint("world_size", world_size)
        return self.gpu_optimized()._with(shard_rank=rank, shard_world_size=world_size,
                                          sampler_type="distributed_random", sampler_rank=rank,
                                          sampler_world_size=world_size)

    def debug_mode(self) -> PyLoaderOptions:
        """A 10-second timeout, so a stalled fetch shows up as an error."""
        return self._with(timeout_seconds=10.0)

    # ---- export ----
    def to_dict(self) -> dict[str, Any]:
        """Every field (the original's exact keys and defaults)."""
        return dict(self._d)


def _rebuild(d: dict[str, Any]) -> PyLoaderOptions:
    new = PyLoaderOptions.__new__(PyLoaderOptions)
    object.__setattr__(new, "_d", d)
    return new


def _getter(key: str) -> property:
    return property(lambda self: self._d[key], doc=f"The {key.replace('_', ' ')} (read-only).")


_GETTERS = {
    "batch_size": "batch_size", "drop_last_value": "drop_last", "shuffle_value": "shuffle", "seed": "seed",
    "num_workers_value": "num_workers", "prefetch_value": "prefetch", "pin_memory_value": "pin_memory",
    "persistent_workers_value": "persistent_workers", "non_blocking_value": "non_blocking",
    "timeout_seconds": "timeout_seconds", "shard_rank": "shard_rank", "shard_world_size": "shard_world_size",
}
for _name, _key in _GETTERS.items():
    setattr(PyLoaderOptions, _name, _getter(_key))
del _name, _key
