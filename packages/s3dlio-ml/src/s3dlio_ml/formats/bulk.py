"""The formats of bulk put's `object_type`: the generated payload is written straight into the object's
bytes (NPZ member, TFRecord record) instead of being generated and then copied into a wrapper.

* "npz": one '|u1' member `data.npy` of shape (size,) (the original's header says (1,); see `npz`).
* "tfrecord": one record of `size` bytes (the original's layout).
* "hdf5": one 1-D '|u1' dataset "data" (needs h5py).
* anything else ("zeros", "raw", "random", ...): the payload as is, as in the original.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["OBJECT_TYPES", "object_kind", "wrap_payload"]

OBJECT_TYPES = ("npz", "tfrecord", "hdf5")


def object_kind(object_type: Any) -> str:
    """'npz', 'tfrecord', 'hdf5' (case-insensitive), else 'raw'."""
    t = str(object_type).strip().lower()
    return t if t in OBJECT_TYPES else "raw"


def wrap_payload(kind: str, size: int, fill: Callable[[memoryview], None]) -> Any:
    """The bytes of one object of `kind` holding a `size`-byte payload that `fill(dst)` writes in place."""
    if kind == "npz":
        from .npz import npz_with_payload

        return npz_with_payload(size, fill)
    if kind == "tfrecord":
        from .tfrecord import tfrecord_with_payload

        return tfrecord_with_payload(size, fill)
    if kind == "hdf5":
        from .hdf5 import hdf5_with_payload

        return hdf5_with_payload(size, fill)
    if kind != "raw":
        raise ValueError(f"unknown object kind {kind!r}")
    from s3dlio_core import BytesView

    out = BytesView.allocate(size)
    if size:
        fill(memoryview(out))
    return out
