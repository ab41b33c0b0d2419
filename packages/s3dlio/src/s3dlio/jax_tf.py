"""s3dlio for JAX and TensorFlow: `JaxIterable` (numpy arrays, for jax.numpy / jax.device_put),
`S3JaxIterable` (its deprecated name, with the spec's `pattern=` and `batch_size=`) and `make_tf_dataset`
(a tf.data.Dataset). numpy is imported with this module; tensorflow only inside `make_tf_dataset`.

Every object under the URI (any scheme) is one uint8 array over the object's bytes (no copy), passed
through `transform` / `map_fn`. The listing is made once; each iteration is a new epoch (a new shuffle
order when shuffle is on), prefetched through the store's bulk path.

Batches: the original's loader `batch_size` (in `loader_opts` or `from_prefix`) only groups fetches and
every object is still yielded on its own; `batch_size=` given to `JaxIterable(...)`/`S3JaxIterable(...)`
(the spec's form) yields lists of that many arrays, and `make_tf_dataset(..., batch_size=n)` with n > 1
batches the tf.data elements (ragged when the objects differ in length).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from s3dlio_ml.loaders.dataset import PyDataset
from s3dlio_ml.loaders.options import parse_options

__all__ = ["JaxIterable", "S3JaxIterable", "make_tf_dataset"]

_DEFAULTS = {"batch_size": 1, "prefetch": 0}  # the original's jax_tf defaults; prefetch 0 = auto


def _as_array(data: Any) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)


class JaxIterable:
    """Iterates the objects under `uri` as numpy uint8 arrays (`transform` applied), one epoch per
    iteration."""

    def __init__(self, uri: str | None = None, *, loader_opts: Any = None,
                 transform: Callable[[np.ndarray], Any] | None = None, writable: bool = False,
                 suppress_nonwritable_warning: bool = True, pattern: str | None = None,
                 batch_size: int | None = None, store: Any = None, **options: Any) -> None:
        if not isinstance(uri, str):
            raise TypeError(f"uri must be a str, got {type(uri).__name__}")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        base: dict[str, Any] = dict(_DEFAULTS)
        if loader_opts is not None:
            base.update(loader_opts if isinstance(loader_opts, dict) else loader_opts.to_dict())
        if batch_size is not None:
            base["batch_size"] = batch_size
        opts = parse_options(base, **options)
        self._batched = batch_size is not None and opts.batch_size > 1
        self._transform = transform
        self._ds = PyDataset(uri, opts, pattern=pattern, transform=self._convert, store=store)
        self.writable = writable  # arrays over a BytesView are writable without a copy
        self.suppress_nonwritable_warning = suppress_nonwritable_warning

    def _convert(self, data: Any) -> Any:
        arr = _as_array(data)
        return self._transform(arr) if self._transform is not None else arr

    @classmethod
    def from_prefix(cls, uri: str, *, prefetch: int = 0, num_workers: int = 0, batch_size: int = 1,
                    drop_last: bool = False, shuffle: bool = False, seed: int = 0, auto_tune: bool = False,
                    transform: Callable[[np.ndarray], Any] | None = None, writable: bool = False,
                    suppress_nonwritable_warning: bool = True, **kw: Any) -> JaxIterable:
        """The original's constructor (objects yielded one by one)."""
        opts = {"prefetch": prefetch, "num_workers": num_workers, "batch_size": batch_size, "drop_last": drop_last,
                "shuffle": shuffle, "seed": seed, "auto_tune": auto_tune}
        return cls(uri, loader_opts=opts, transform=transform, writable=writable,
                   suppress_nonwritable_warning=suppress_nonwritable_warning, **kw)

    def __len__(self) -> int:
        return len(self._ds)

    def keys(self) -> list[str]:
        return self._ds.keys()

    def set_epoch(self, epoch: int) -> None:
        self._ds.set_epoch(epoch)

    def __iter__(self) -> Iterator[Any]:
        s = self._ds.stream()
        try:
            if self._batched:
                while (batch := s.next_batch()) is not None:
                    yield batch
            else:
                yield from s.items()
        finally:
            s.close()


class S3JaxIterable(JaxIterable):
    """Deprecated name of JaxIterable; also the spec's `S3JaxIterable(uri=..., pattern="*.npz",
    batch_size=32)`, which yields lists of 32 arrays."""

    def __init__(self, uri: str | None = None, **kw: Any) -> None:
        warnings.warn("S3JaxIterable is deprecated. Use JaxIterable instead - it supports all URI schemes.",
                      DeprecationWarning, stacklevel=2)
        super().__init__(uri, **kw)


def make_tf_dataset(uri: str | None = None, *, prefetch: int = 0, num_workers: int = 0, batch_size: int = 1,
                    drop_last: bool = False, shuffle: bool = False, seed: int = 0, auto_tune: bool = False,
                    map_fn: Callable[[Any], Any] | None = None, writable: bool = False,
                    suppress_nonwritable_warning: bool = True, pattern: str | None = None, store: Any = None,
                    **options: Any) -> Any:
    """A tf.data.Dataset of the objects under `uri` (uint8 vectors), `map_fn` applied in parallel,
    batched when `batch_size` > 1 (ragged if the elements differ in shape), prefetched. Each pass over
    the dataset is a new epoch (a new order when `shuffle`)."""
    import tensorflow as tf

    if map_fn is not None and not callable(map_fn):
        raise TypeError(f"map_fn must be callable, got {type(map_fn).__name__}")
    if not isinstance(uri, str):
        raise TypeError(f"uri must be a str, got {type(uri).__name__}")
    opts = parse_options({"prefetch": prefetch, "num_workers": num_workers, "batch_size": batch_size,
                          "drop_last": drop_last, "shuffle": shuffle, "seed": seed, "auto_tune": auto_tune},
                         **options)
    ds = PyDataset(uri, opts, pattern=pattern, transform=_as_array, store=store)

    def gen() -> Iterator[np.ndarray]:
        s = ds.stream()
        try:
            yield from s.items()
        finally:
            s.close()

    out = tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec(shape=(None,), dtype=tf.uint8))
    if map_fn is not None:
        out = out.map(map_fn, num_parallel_calls=tf.data.AUTOTUNE)
    if opts.batch_size > 1:
        if out.element_spec.shape.is_fully_defined() if hasattr(out.element_spec, "shape") else False:
            out = out.batch(opts.batch_size, drop_remainder=drop_last)
        else:
            out = out.ragged_batch(opts.batch_size, drop_remainder=drop_last)
    return out.prefetch(tf.data.AUTOTUNE)
