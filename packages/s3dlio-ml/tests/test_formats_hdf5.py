"""HDF5 on file://, memory:// and S3 through open_reader: datasets read with h5py over range reads, only the
chunks a selection touches fetched (bytes counted through the instrumentation point), bad input typed."""

from __future__ import annotations

import io

import h5py
import numpy as np
import pytest
from s3dlio_core import store_for_uri
from s3dlio_ml.formats import FormatError, MemberNotFoundError
from s3dlio_ml.formats.hdf5 import build_hdf5, hdf5_with_payload, open_hdf5, read_hdf5

MiB = 1 << 20


def put(uri: str, data: object) -> None:
    st, _ = store_for_uri(uri)
    st.put(uri, data)


def test_datasets_round_trip_on_every_scheme(prefix: str) -> None:
    a = np.arange(1000, dtype=np.float32).reshape(10, 100)
    labels = np.arange(10, dtype=np.int64)
    uri = prefix + "d.h5"
    put(uri, build_hdf5({"images": a, "meta/labels": labels}))
    assert np.array_equal(read_hdf5(uri, "images"), a)
    assert np.array_equal(read_hdf5(uri, "meta/labels"), labels)
    assert np.array_equal(read_hdf5(uri, "images", np.s_[3:5, ::10]), a[3:5, ::10])
    with open_hdf5(uri) as f:
        assert sorted(f) == ["images", "meta"] and f["images"].shape == (10, 100)
        assert f.file.attrs is not None


def test_only_the_chunks_asked_for_are_read(prefix: str, counter: object) -> None:
    chunk_rows = 64 << 10  # 64 Ki float32 rows of 4 columns = 1 MiB per chunk
    data = np.arange(16 * chunk_rows * 4, dtype=np.float32).reshape(-1, 4)  # 16 MiB, 16 chunks
    uri = prefix + "chunked.h5"
    blob = build_hdf5({"x": data}, chunks=(chunk_rows, 4))
    put(uri, blob)
    counter.clear()  # type: ignore[attr-defined]
    got = read_hdf5(uri, "x", np.s_[5 * chunk_rows:5 * chunk_rows + 10])
    assert np.array_equal(got, data[5 * chunk_rows:5 * chunk_rows + 10])
    moved = counter.bytes_read(uri)  # type: ignore[attr-defined]
    assert MiB <= moved <= MiB + (256 << 10), moved  # one chunk + metadata, not the 16 MiB file
    assert moved < len(blob) // 8


def test_bulk_payload_is_one_u1_dataset() -> None:
    blob = hdf5_with_payload(5000, lambda dst: dst.__setitem__(slice(None), bytes(range(250)) * 20))
    with h5py.File(io.BytesIO(bytes(blob)), "r") as f:
        d = f["data"]
        assert d.shape == (5000,) and d.dtype == np.uint8 and d[:3].tolist() == [0, 1, 2]


def test_bad_input(prefix: str) -> None:
    uri = prefix + "not.h5"
    put(uri, b"definitely not HDF5" * 100)
    with pytest.raises(FormatError, match="not an HDF5 file: " + uri):
        read_hdf5(uri, "x")
    uri = prefix + "ok.h5"
    put(uri, build_hdf5({"a": np.zeros(3)}))
    with pytest.raises(MemberNotFoundError, match="'b' is not a dataset of " + uri):
        read_hdf5(uri, "b")
