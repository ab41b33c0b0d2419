"""The libraries that speak fsspec, through `s3dlio://` URLs, on memory:// and S3 (SeaweedFS): pandas writes
and reads Parquet, pyarrow writes and reads a partitioned dataset through
`PyFileSystem(FSSpecHandler(fs))`, and zarr (v3) creates and opens an array. Each test also checks, through
s3dlio itself, that the objects really are in the store."""

from __future__ import annotations

import uuid

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
import s3dlio
import zarr
from pyarrow.fs import FSSpecHandler, PyFileSystem
from s3dlio.fsspec import to_path, to_url


@pytest.fixture(params=["memory", "s3"])
def root_uri(request: pytest.FixtureRequest) -> str:
    """A fresh, empty prefix URI (ending in '/') on memory:// or on SeaweedFS."""
    if request.param == "memory":
        return f"memory://fw-{uuid.uuid4().hex[:10]}/data/"
    return request.getfixturevalue("s3_seaweedfs_prefix")


def _frame(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({"id": np.arange(n, dtype=np.int64), "x": rng.standard_normal(n),
                         "label": [f"row-{i % 17}" for i in range(n)]})


def test_pandas_parquet_round_trip(root_uri: str) -> None:
    df = _frame()
    url = to_url(root_uri + "table.parquet")
    assert url.startswith("s3dlio://")
    df.to_parquet(url, index=False)
    assert s3dlio.stat(root_uri + "table.parquet")["size"] > 0  # a real object in the store
    back = pd.read_parquet(url)
    pd.testing.assert_frame_equal(back, df)
    cols = pd.read_parquet(url, columns=["x"])
    np.testing.assert_array_equal(cols["x"].to_numpy(), df["x"].to_numpy())


def test_pandas_reads_parquet_written_by_s3dlio(root_uri: str) -> None:
    df = _frame(300)
    table = pa.Table.from_pandas(df, preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=50)
    s3dlio.put_bytes(root_uri + "written.parquet", sink.getvalue())
    back = pd.read_parquet(to_url(root_uri + "written.parquet"))
    pd.testing.assert_frame_equal(back, df)


def test_pandas_csv_text_mode(root_uri: str) -> None:
    df = _frame(50)
    url = to_url(root_uri + "t.csv")
    df.to_csv(url, index=False)
    pd.testing.assert_frame_equal(pd.read_csv(url), df)


def test_pyarrow_dataset(root_uri: str) -> None:
    fs = fsspec.filesystem("s3dlio")
    pafs = PyFileSystem(FSSpecHandler(fs))
    base = to_path(root_uri + "ds")
    df = _frame(600)
    df["part"] = df["id"] % 3
    pads.write_dataset(pa.Table.from_pandas(df, preserve_index=False), base, filesystem=pafs, format="parquet",
                       partitioning=pads.partitioning(pa.schema([("part", pa.int64())]), flavor="hive"))
    # the partitions are objects in the store, found by an s3dlio listing
    listed = s3dlio.list(root_uri + "ds/", recursive=True)
    assert sorted({u.split("/ds/", 1)[1].split("/", 1)[0] for u in listed}) == ["part=0", "part=1", "part=2"]
    dataset = pads.dataset(base, filesystem=pafs, format="parquet", partitioning="hive")
    assert dataset.count_rows() == 600
    table = dataset.to_table(filter=pads.field("part") == 1, columns=["id", "x"])
    want = df[df["part"] == 1]
    assert sorted(table.column("id").to_pylist()) == sorted(want["id"].tolist())
    full = dataset.to_table().to_pandas().sort_values("id").reset_index(drop=True)
    np.testing.assert_allclose(full["x"].to_numpy(), df["x"].to_numpy())


def test_zarr_v3_array(root_uri: str) -> None:
    assert zarr.__version__.split(".")[0] == "3"
    url = to_url(root_uri + "arr.zarr")
    data = np.arange(40 * 30, dtype="float32").reshape(40, 30)
    z = zarr.create_array(store=url, shape=data.shape, chunks=(16, 16), dtype="float32")
    z[:] = data
    keys = [u.split("arr.zarr/", 1)[1] for u in s3dlio.list(root_uri + "arr.zarr/", recursive=True)]
    assert "zarr.json" in keys and sum(k.startswith("c/") for k in keys) == 3 * 2  # 6 chunk objects
    back = zarr.open_array(url, mode="r")
    assert back.shape == data.shape
    np.testing.assert_array_equal(back[:], data)
    np.testing.assert_array_equal(back[5:21, 3:9], data[5:21, 3:9])


def test_zarr_v3_group_and_sharding(root_uri: str) -> None:
    url = to_url(root_uri + "grp.zarr")
    g = zarr.open_group(url, mode="w")
    a = g.create_array("sharded", shape=(64,), chunks=(8,), shards=(32,), dtype="int32")
    a[:] = np.arange(64, dtype="int32")
    g2 = zarr.open_group(url, mode="r")
    assert list(g2.array_keys()) == ["sharded"]
    # a sharded read asks for byte ranges inside the shard objects (cat_ranges / suffix reads)
    np.testing.assert_array_equal(g2["sharded"][10:20], np.arange(10, 20, dtype="int32"))
