"""create_dataset / PyDataset and the loaders on every scheme: file://, direct://, memory://, s3://
(SeaweedFS), gs:// (fake-gcs-server), az:// (Azurite) and a MultiEndpointStore."""

from __future__ import annotations

import asyncio
import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import s3dlio
from s3dlio_core import ObjectNotFoundError, add_observer, remove_observer
from s3dlio_ml.loaders import (
    DatasetIndexError,
    PyAsyncDataLoader,
    PyBytesAsyncDataLoader,
    PyDataset,
    PyLoaderOptions,
    PyObjectItem,
    PyS3AsyncDataLoader,
    PyS3AsyncDataLoaderCompat,
    PyS3Dataset,
    PyS3DatasetCompat,
    create_async_loader,
    create_dataset,
)
from s3dlio_testsupport import server_fixtures

_s3 = server_fixtures("s3")
_gcs = server_fixtures("gcs")
_az = server_fixtures("azure")
s3_test_env = _s3.s3_test_env
seaweedfs_server = _s3.seaweedfs_server
s3_seaweedfs_prefix = _s3.s3_seaweedfs_prefix
fake_gcs = _gcs.fake_gcs
gcs_bucket = _gcs.gcs_bucket
gcs_prefix = _gcs.gcs_prefix
azurite = _az.azurite
azure_container = _az.azure_container
azure_prefix = _az.azure_prefix

# relative key -> content (sizes differ so a mix-up shows)
TREE = {"a.bin": b"A" * 10, "b.npz": b"B" * 20, "sub/c.bin": b"C" * 30, "sub/deep/d.npz": b"D" * 40,
        "sub/e.bin": b"E" * 5}
KEYS = sorted(TREE)


def _write_tree(prefix: str) -> None:
    for k, v in TREE.items():
        s3dlio.put_bytes(prefix + k, v)


@pytest.fixture(params=["file", "direct", "memory", "s3", "gs", "az"])
def tree(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A prefix holding TREE on each scheme."""
    scheme = request.param
    if scheme == "file":
        prefix = f"file://{tmp_path}/data/"
    elif scheme == "direct":
        prefix = f"direct://{tmp_path}/data/"
    elif scheme == "memory":
        prefix = f"memory://ds-{uuid.uuid4().hex[:8]}/data/"
    elif scheme == "s3":
        prefix = request.getfixturevalue("s3_seaweedfs_prefix")
    elif scheme == "gs":
        prefix = request.getfixturevalue("gcs_prefix") + "data/"
    else:
        prefix = request.getfixturevalue("azure_prefix") + "data/"
    _write_tree(prefix)
    return prefix


def _key_base(prefix: str) -> str:
    """What keys() are relative to: the root directory for file/direct, the bucket for object stores."""
    if prefix.startswith(("file://", "direct://")):
        return prefix
    u = s3dlio.parse_s3_uri_full(prefix) if prefix.startswith("s3://") else None
    if u is not None:
        return u["key"]
    rest = prefix.split("://", 1)[1]
    if prefix.startswith("az://"):
        return rest.split("/", 2)[2]
    return rest.split("/", 1)[1]


def test_dataset_lists_once_sorted_with_sizes(tree: str) -> None:
    ds = create_dataset(tree)
    assert len(ds) == len(TREE)
    assert ds.uris() == [tree + k for k in KEYS]
    base = _key_base(tree)
    want_keys = KEYS if tree.startswith(("file://", "direct://")) else [base + k for k in KEYS]
    assert ds.keys() == want_keys
    sizes = [len(TREE[k]) for k in KEYS]
    if tree.startswith(("file://", "direct://", "memory://")):
        assert ds.sizes() == sizes
    else:  # sizes come from the listing pages once the backend reports them (ListedObject)
        assert ds.sizes() in (sizes, [None] * len(sizes))
    assert [bytes(ds[i]) for i in range(len(ds))] == [TREE[k] for k in KEYS]
    assert bytes(ds[-1]) == TREE[KEYS[-1]]
    assert [bytes(v) for v in ds[1:3]] == [TREE[k] for k in KEYS[1:3]]


def test_pattern_transform_and_iteration(tree: str) -> None:
    ds = create_dataset(tree, {"batch_size": 2}, pattern="*.npz", transform=bytes)
    assert ds.uris() == [tree + "b.npz", tree + "sub/deep/d.npz"]
    assert list(ds) == [[TREE["b.npz"], TREE["sub/deep/d.npz"]]]
    sub = create_dataset(tree, pattern="sub/*.bin")
    assert sub.uris() == [tree + "sub/c.bin", tree + "sub/e.bin"]
    batches = list(create_dataset(tree, options={"batch_size": 2}))
    assert [len(b) for b in batches] == [2, 2, 1]
    assert [bytes(v) for b in batches for v in b] == [TREE[k] for k in KEYS]


def test_loaders_on_every_scheme(tree: str) -> None:
    loader = create_async_loader(tree, {"batch_size": 2, "shuffle": True, "seed": 3})

    async def batches() -> list[list[bytes]]:
        return [[bytes(v) for v in b] async for b in loader]

    e0, e1 = asyncio.run(batches()), asyncio.run(batches())
    assert [len(b) for b in e0] == [2, 2, 1]
    assert sorted(v for b in e0 for v in b) == sorted(TREE.values())
    assert sorted(v for b in e1 for v in b) == sorted(TREE.values())
    items = [bytes(v) for v in create_async_loader(tree, opts={"batch_size": 32})]  # sync: one per object
    assert items == [TREE[k] for k in KEYS]
    it = create_async_loader(tree).items()
    got = it.collect_batch(3) + it.collect_batch(3)
    assert it.collect_batch(3) == []
    assert all(isinstance(x, PyObjectItem) for x in got)
    assert [bytes(x) for x in got] == [TREE[k] for k in KEYS]
    assert [x.byte_count for x in got] == [len(TREE[k]) for k in KEYS]
    assert [memoryview(x).nbytes for x in got] == [len(TREE[k]) for k in KEYS]
    assert got[0].data is got[0] and got[0].uri == create_dataset(tree).keys()[0]


def test_get_item_is_awaitable(tree: str) -> None:
    ds = create_dataset(tree)

    async def main() -> list[bytes]:
        return [bytes(await ds.get_item(i)) for i in range(len(ds))]

    assert asyncio.run(main()) == [TREE[k] for k in KEYS]
    with pytest.raises(RuntimeError, match=r"Index 99 out of bounds \(dataset has 5 files\)"):
        ds.get_item(99)


def test_range_reader_mode(tree: str) -> None:
    ds = create_dataset(tree, {"reader_mode": "range", "part_size": 7, "max_inflight_parts": 3})
    assert [bytes(ds[i]) for i in range(len(ds))] == [TREE[k] for k in KEYS]
    assert [bytes(v) for b in ds for v in b] == [TREE[k] for k in KEYS]


def test_single_object_is_one_item(tree: str) -> None:
    ds = create_dataset(tree + "sub/c.bin")
    assert ds.uris() == [tree + "sub/c.bin"] and bytes(ds[0]) == TREE["sub/c.bin"]


def test_from_uris(tree: str, tmp_path: Path) -> None:
    other = f"file://{tmp_path}/other.bin"
    s3dlio.put_bytes(other, b"xyz")
    uris = [tree + "sub/c.bin", other, tree + "a.bin"]
    ds = PyDataset.from_uris(uris)
    assert ds.keys() == ds.uris() == uris
    assert [bytes(v) for v in ds[:]] == [TREE["sub/c.bin"], b"xyz", TREE["a.bin"]]
    assert [bytes(v) for v in PyBytesAsyncDataLoader(ds, {"batch_size": 2})] == [TREE["sub/c.bin"], b"xyz",
                                                                                    TREE["a.bin"]]
    with pytest.raises(RuntimeError, match="non-empty"):
        PyDataset.from_uris([])


def test_multi_endpoint_store(tmp_path: Path) -> None:
    eps = []
    for name in ("ep1", "ep2"):
        d = tmp_path / name
        d.mkdir()
        eps.append(d.as_uri())
        _write_tree(d.as_uri() + "/data/")
    store = s3dlio.create_multi_endpoint_store(uris=eps, strategy="round_robin")
    ds = create_dataset(eps[0] + "/data/", store=store)
    assert [bytes(v) for v in ds[:]] == [TREE[k] for k in KEYS]
    assert [bytes(v) for v in create_async_loader(eps[0] + "/data/", store=store)] == [TREE[k] for k in KEYS]
    assert store.get_total_stats()["total_requests"] >= len(TREE)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFoundError, match="Path does not exist"):
        create_dataset(f"file://{tmp_path}/missing/")
    with pytest.raises(RuntimeError):
        create_dataset("ftp://invalid/scheme")
    (tmp_path / "empty").mkdir()
    assert len(create_dataset(f"file://{tmp_path}/empty/")) == 0
    ds = create_dataset(f"file://{tmp_path}/empty/")
    assert list(ds) == []
    _write_tree(f"file://{tmp_path}/d/")
    ds = create_dataset(f"file://{tmp_path}/d/")
    with pytest.raises(DatasetIndexError):
        ds[5]
    with pytest.raises(IndexError):
        ds[-6]
    with pytest.raises(OverflowError):
        ds.get_item(-1)


def test_options_are_honoured(tmp_path: Path) -> None:
    prefix = f"file://{tmp_path}/n/"
    for i in range(23):
        s3dlio.put_bytes(prefix + f"{i:03d}", bytes([i]))

    def run(opts: Any) -> list[list[int]]:
        return [[v[0] for v in b] for b in create_dataset(prefix, opts)]

    assert [len(b) for b in run({"batch_size": 32})] == [23]  # no 32 -> 1 quirk
    assert [len(b) for b in run({"batch_size": 5, "drop_last": True})] == [5, 5, 5, 5]
    flat = [x for b in run({"batch_size": 23, "shuffle": True, "seed": 9}) for x in b]
    assert sorted(flat) != flat and sorted(flat) == list(range(23))
    assert [x for b in run({"batch_size": 23, "shard_rank": 1, "shard_world_size": 4}) for x in b] == \
        list(range(1, 23, 4))
    loader = create_async_loader(prefix, PyLoaderOptions().with_batch_size(23).shuffle(True, 9))
    epochs = [[v[0] for v in loader] for _ in range(2)]
    assert epochs[0] == flat and epochs[1] != flat and sorted(epochs[1]) == list(range(23))
    loader.set_epoch(0)
    assert [v[0] for v in loader] == flat
    assert len(create_async_loader(prefix, {"batch_size": 5})) == 5
    assert len(create_async_loader(prefix, {"batch_size": 5, "drop_last": True})) == 4
    vec = PyAsyncDataLoader(create_dataset(prefix), {"batch_size": 10})
    assert [[v[0] for v in b] for b in vec] == [list(range(10)), list(range(10, 20)), [20, 21, 22]]


def test_prefetch_keeps_requests_in_flight(tmp_path: Path) -> None:
    """With prefetch=P, up to P objects are requested ahead of a slow consumer: the GETs overlap."""
    prefix = f"file://{tmp_path}/p/"
    for i in range(64):
        s3dlio.put_bytes(prefix + f"{i:03d}", os.urandom(64 << 10))
    starts: list[int] = []

    def observer(rec: Any) -> None:
        if rec.op == "GET":
            starts.append(rec.start_ns)

    add_observer(observer)
    try:
        it = iter(create_async_loader(prefix, {"prefetch": 16, "batch_size": 1}))
        next(it)
        import time

        time.sleep(0.3)  # a slow consumer: the pipeline runs ahead, bounded by prefetch
        ahead = len(starts)
        rest = list(it)
    finally:
        remove_observer(observer)
    assert 8 <= ahead <= 16 + 8  # the lookahead (one chunk may be on its way as the first is taken)
    assert len(rest) == 63


def test_deprecated_names_work_on_every_scheme(tree: str) -> None:
    for cls in (PyS3Dataset, PyS3DatasetCompat):
        with pytest.warns(DeprecationWarning, match="deprecated"):
            ds = cls(tree)
        assert ds.uris() == [tree + k for k in KEYS]
    for cls in (PyS3AsyncDataLoader, PyS3AsyncDataLoaderCompat):
        with pytest.warns(DeprecationWarning):
            loader = cls(tree, {"batch_size": 4})

        async def run(ld: Any = loader) -> list[int]:
            return [len(b) async for b in ld]

        assert asyncio.run(run()) == [4, 1]


def test_timeout_option(tmp_path: Path) -> None:
    prefix = f"file://{tmp_path}/t/"
    s3dlio.put_bytes(prefix + "x", b"1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = create_dataset(prefix, PyLoaderOptions().debug_mode())
    assert ds.options.timeout_seconds == 10.0 and [bytes(v) for b in ds for v in b] == [b"1"]


def _iter_all(it: Iterator[Any]) -> list[Any]:
    return list(it)


def test_parquet_format_path(tmp_path: Path) -> None:
    """create_async_loader(uri, {"format": "parquet"}) -> PyParquetStreamLoader over the formats package's
    row-group reads; until s3dlio_ml.formats.parquet is installed it fails clearly."""
    import importlib.util

    from s3dlio_core import UnsupportedOperationError

    prefix = f"file://{tmp_path}/pq/"
    if importlib.util.find_spec("s3dlio_ml.formats") is None:
        s3dlio.put_bytes(prefix + "a.parquet", b"PAR1")
        with pytest.raises(UnsupportedOperationError, match="Parquet loader needs"):
            create_async_loader(prefix, {"format": "parquet"})
        return
    from s3dlio_ml.formats.parquet import generate_and_write_parquet

    for i in range(3):
        generate_and_write_parquet(f"{prefix}f{i}.parquet", 2, 10, 4)
    loader = create_async_loader(prefix, {"format": "parquet", "decode": "raw", "prefetch": 4})
    items = list(loader)
    assert type(loader).__name__ == "PyParquetStreamLoader" and len(items) == 12
    assert sorted((it.file_uri.rsplit("/", 1)[1], it.rg_idx) for it in items) == \
        [(f"f{i}.parquet", rg) for i in range(3) for rg in range(4)]

    async def run() -> int:
        return sum([1 async for _ in create_async_loader(prefix, {"format": "parquet", "shard_rank": 1,
                                                                   "shard_world_size": 3})])

    assert asyncio.run(run()) == 4


@pytest.mark.parametrize("mode", ["sequential", "range"])
def test_read_into_fills_the_callers_buffers(tmp_path, mode: str) -> None:
    """PyDataset.read_into: each object straight into its buffer (in "range" mode its parts land there);
    a buffer of the wrong size raises LengthMismatchError naming the object."""
    import os

    from s3dlio_core import LengthMismatchError
    from s3dlio_ml.loaders.dataset import PyDataset

    data = [os.urandom(3000 + i) for i in range(4)]
    for i, d in enumerate(data):
        (tmp_path / f"o{i}.bin").write_bytes(d)
    ds = PyDataset(f"file://{tmp_path}/", {"reader_mode": mode, "part_size": 1024})
    bufs = [bytearray(len(d)) for d in data]
    assert ds.read_into(range(4), bufs) == [len(d) for d in data]
    assert [bytes(b) for b in bufs] == data
    if mode == "sequential":
        with pytest.raises(LengthMismatchError) as ei:
            ds.read_into([1], [bytearray(10)])
        assert ei.value.uri.endswith("o1.bin")
