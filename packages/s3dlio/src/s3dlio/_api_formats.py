"""Data formats in the flat API: NPZ, TFRecord (both indexes), HDF5 and Parquet, on every scheme.

The code lives in `s3dlio_ml.formats` (one module per format, I/O only through the store protocol). These
modules import neither numpy, h5py nor pyarrow until a call needs them, so `import s3dlio` stays cheap.
"""

from __future__ import annotations

from s3dlio_ml.formats.errors import ChecksumError, FormatError, MemberNotFoundError, TruncatedError
from s3dlio_ml.formats.hdf5 import build_hdf5, open_hdf5, read_hdf5
from s3dlio_ml.formats.npz import NpzFile, build_multi_npz, generate_npz_bytes, read_npz, write_npz
from s3dlio_ml.formats.parquet import (
    PyParquetIndex,
    PyParquetItem,
    generate_and_write_parquet,
    generate_and_write_parquet_schema,
    generate_and_write_parquet_schema_streaming,
    generate_parquet_bytes,
    generate_parquet_bytes_schema,
    iter_parquet_row_groups,
    parquet_cache_clear,
    parquet_cache_invalidate,
    parquet_cache_len,
    parquet_get_rg,
    parquet_rg_row_offsets,
)
from s3dlio_ml.formats.tfrecord import (
    TFRecordIndexEntry,
    TFRecordWriter,
    build_tfrecord_with_index,
    create_tfrecord_index,
    get_tfrecord_index_entries,
    index_tfrecord_bytes,
    iter_tfrecords,
    read_tfrecord_index,
    read_tfrecord_records,
)

__all__ = [
    # NPZ
    "read_npz", "generate_npz_bytes", "build_multi_npz", "write_npz", "NpzFile",
    # TFRecord
    "create_tfrecord_index", "index_tfrecord_bytes", "get_tfrecord_index_entries", "read_tfrecord_index",
    "TFRecordWriter", "TFRecordIndexEntry", "build_tfrecord_with_index", "iter_tfrecords",
    "read_tfrecord_records",
    # HDF5
    "open_hdf5", "read_hdf5", "build_hdf5",
    # Parquet (the original 0.10.0 API)
    "generate_parquet_bytes", "generate_parquet_bytes_schema", "generate_and_write_parquet",
    "generate_and_write_parquet_schema", "generate_and_write_parquet_schema_streaming",
    "parquet_rg_row_offsets", "parquet_get_rg", "parquet_cache_len", "parquet_cache_invalidate",
    "parquet_cache_clear", "PyParquetIndex", "PyParquetItem", "iter_parquet_row_groups",
    # errors
    "FormatError", "ChecksumError", "TruncatedError", "MemberNotFoundError",
]
