"""Data formats on any store: NPZ, TFRecord (with both indexes), HDF5 and Parquet.

Each format is one module (`npz`, `tfrecord`, `hdf5`, `parquet`); all I/O goes through the store protocol
of s3dlio-core (ranges, suffix ranges, get_ranges, open_reader, open_writer, put), so every scheme works,
and no backend is imported here. Importing this package imports neither numpy nor the optional h5py and
pyarrow: names resolve on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import ChecksumError, FormatError, MemberNotFoundError, TruncatedError

_NAMES = {
    "npz": ["read_npz", "NpzFile", "build_multi_npz", "write_npz", "generate_npz_bytes", "npz_with_payload",
            "npy_header"],
    "tfrecord": ["TFRecordWriter", "TFRecordIndexEntry", "iter_tfrecords", "read_tfrecord_records",
                 "build_tfrecord_with_index", "tfrecord_with_payload", "frame_record", "index_tfrecord_bytes",
                 "get_tfrecord_index_entries", "create_tfrecord_index", "read_tfrecord_index",
                 "read_tfrecord_binary_index", "binary_index_bytes", "dali_index_text"],
    "hdf5": ["hdf5_with_payload", "build_hdf5", "open_hdf5", "read_hdf5"],
    "parquet": ["generate_parquet_bytes", "generate_parquet_bytes_schema", "generate_and_write_parquet",
                "generate_and_write_parquet_schema", "generate_and_write_parquet_schema_streaming",
                "parquet_rg_row_offsets", "parquet_get_rg", "parquet_cache_len", "parquet_cache_invalidate",
                "parquet_cache_clear", "PyParquetIndex", "PyParquetItem", "iter_parquet_row_groups",
                "parquet_metadata"],
    "bulk": ["wrap_payload", "OBJECT_TYPES"],
}
_WHERE = {name: mod for mod, names in _NAMES.items() for name in names}

__all__ = ["ChecksumError", "FormatError", "MemberNotFoundError", "TruncatedError", *_WHERE]


def __getattr__(name: str) -> Any:
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
