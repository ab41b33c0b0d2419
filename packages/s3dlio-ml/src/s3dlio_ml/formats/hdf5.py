"""HDF5 objects on any store (needs h5py: `pip install 's3dlio-ml[hdf5]'`).

Reading goes through the store's `open_reader` (a seekable file object over range reads), which h5py
accepts in place of a file: only the metadata h5py walks and the chunks a selection touches are fetched,
never the whole object. The reader's read-ahead is kept small (64 KiB) because h5py's metadata reads are
small and scattered; chunk reads larger than it go straight into h5py's buffers.

Writing: `build_hdf5` (named datasets, in memory) and `hdf5_with_payload` (bulk put's object_type="hdf5":
one 1-D '|u1' dataset "data" of the payload, as the original's HDF5 objects).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from s3dlio_core import BytesView, ObjectStore
from s3dlio_core.errors import UnsupportedOperationError

from ._store import resolve
from .errors import FormatError, MemberNotFoundError

__all__ = ["hdf5_with_payload", "build_hdf5", "open_hdf5", "read_hdf5", "HDF5_READ_BUFFER"]

HDF5_READ_BUFFER = 64 << 10


def _h5py(what: str) -> Any:
    try:
        import h5py  # type: ignore[import-untyped]
    except ImportError:
        raise UnsupportedOperationError(
            f"HDF5 needs h5py: pip install 's3dlio-ml[hdf5]' (or 's3dlio[hdf5]') ({what})", what) from None
    return h5py


def _image(bio: io.BytesIO) -> BytesView:
    with bio.getbuffer() as mv:
        return BytesView.wrap(mv)


def build_hdf5(datasets: Mapping[str, Any] | Iterable[tuple[str, Any]], **create_kw: Any) -> BytesView:
    """An HDF5 file image (BytesView) holding each (name, array) as a dataset; `create_kw` goes to
    h5py's create_dataset (chunks=, compression=, ...). Names may contain '/' (groups are made)."""
    h5py = _h5py("build_hdf5")
    import numpy as np

    items = list(datasets.items()) if isinstance(datasets, Mapping) else list(datasets)
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        for name, arr in items:
            f.create_dataset(name, data=np.asanyarray(arr), **create_kw)
    return _image(bio)


def hdf5_with_payload(size: int, fill: Callable[[memoryview], None], name: str = "data") -> BytesView:
    """An HDF5 file image with one 1-D '|u1' dataset `name` of `size` bytes that `fill(dst)` writes."""
    h5py = _h5py("object_type='hdf5'")
    import numpy as np

    arr = np.empty(size, dtype=np.uint8)
    if size:
        fill(memoryview(arr.data))
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        f.create_dataset(name, data=arr)
    return _image(bio)


class _Hdf5Object:
    """An h5py.File over a store reader; closing it closes both (a context manager)."""

    def __init__(self, file: Any, reader: Any) -> None:
        self.file = file
        self.reader = reader

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)

    def __getitem__(self, key: str) -> Any:
        return self.file[key]

    def __contains__(self, key: str) -> bool:
        return key in self.file

    def __iter__(self) -> Any:
        return iter(self.file)

    def __len__(self) -> int:
        return len(self.file)

    def close(self) -> None:
        try:
            self.file.close()
        finally:
            self.reader.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<HDF5 object {self.reader.name!r} ({'open' if self.file.id.valid else 'closed'})>"


def open_hdf5(uri: str | os.PathLike[str], *, store: ObjectStore | None = None,
              buffer_size: int = HDF5_READ_BUFFER, **h5py_kw: Any) -> Any:
    """Open the HDF5 object `uri` (any scheme, or a local path) read-only: an h5py.File-like object over
    range reads (use it as a context manager; `.file` is the h5py.File). Raises FormatError when the
    object is not HDF5."""
    h5py = _h5py(os.fspath(uri))
    st, u = resolve(uri, store)
    reader = st.open_reader(u, buffer_size=buffer_size)
    try:
        f = h5py.File(reader, "r", **h5py_kw)
    except OSError as e:
        reader.close()
        raise FormatError(f"not an HDF5 file: {u} ({e})", u) from None
    except BaseException:
        reader.close()
        raise
    return _Hdf5Object(f, reader)


def read_hdf5(uri: str | os.PathLike[str], dataset: str, selection: Any = (), *,
              store: ObjectStore | None = None) -> Any:
    """`selection` (default: all) of dataset `dataset` of the HDF5 object `uri` as a numpy array, reading
    only the chunks the selection touches. Raises MemberNotFoundError when there is no such dataset."""
    with open_hdf5(uri, store=store) as f:
        obj = f.file.get(dataset)
        if obj is None or not hasattr(obj, "shape"):
            raise MemberNotFoundError(f"{dataset!r} is not a dataset of {f.reader.name}", f.reader.name)
        return obj[selection]
