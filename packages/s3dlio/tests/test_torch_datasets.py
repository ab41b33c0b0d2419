"""s3dlio.torch on real PyTorch (CPU) and SeaweedFS: the datasets, DataLoader workers under fork, spawn
and forkserver (every sample exactly once per epoch, also after the parent did I/O), one listing shared
with the workers, rank sharding with set_epoch, __getitems__ fetching a batch concurrently, and mid-epoch
resume."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest
import s3dlio
import torch
from s3dlio.torch import (
    BytesReader,
    ObjectStoreIterableDataset,
    ObjectStoreMapDataset,
    S3IterableDataset,
    S3MapDataset,
)
from s3dlio_core import add_observer, remove_observer
from s3dlio_ml.loaders.shuffle import epoch_order
from s3dlio_testsupport import server_fixtures
from torch.utils.data import DataLoader

pytestmark = pytest.mark.torch

_s3 = server_fixtures("s3")
s3_test_env = _s3.s3_test_env
seaweedfs_server = _s3.seaweedfs_server
s3_prefix = _s3.s3_prefix

N = 40
SIZE = 64


def _payload(i: int) -> bytes:
    return struct.pack("<q", i) + os.urandom(SIZE - 8)


def _ids(batch: torch.Tensor) -> list[int]:
    return [int(x) for x in batch[:, :8].contiguous().view(torch.int64).flatten()]


@pytest.fixture
def data(s3_prefix: str) -> str:
    """N objects whose first 8 bytes hold their index, in a few sub-prefixes."""
    s3dlio.put_many([(f"{s3_prefix}part{i % 3}/obj{i:03d}.bin", _payload(i)) for i in range(N)])
    return s3_prefix


def _read_all(loader: DataLoader) -> list[int]:
    return [i for b in loader for i in _ids(b)]


def test_iterable_dataset_return_types(data: str) -> None:
    ds = ObjectStoreIterableDataset.from_prefix(data)
    items = list(ds)
    assert len(ds) == N and all(isinstance(t, torch.Tensor) and t.dtype == torch.uint8 for t in items)
    assert sorted(int(t[:8].view(torch.int64)) for t in items) == list(range(N))
    items[0][0] = 7  # writable without a copy
    raw = list(ObjectStoreIterableDataset(data, loader_opts={}, return_type="bytes"))
    assert all(isinstance(v, s3dlio.BytesView) for v in raw)
    readers = list(ObjectStoreIterableDataset(data, return_type="reader"))
    r = readers[0]
    assert isinstance(r, BytesReader) and len(r) == SIZE
    assert r.read(8) + r.read() == bytes(raw[0]) and r.read() == b""
    r.seek(2)
    buf = bytearray(4)
    assert r.readinto(buf) == 4 and bytes(buf) == bytes(raw[0])[2:6]
    with r:
        pass
    with pytest.raises(ValueError, match="I/O operation on closed _BytesReader"):
        r.read()
    with pytest.raises(ValueError, match="return_type must be 'tensor', 'bytes', or 'reader'"):
        ObjectStoreIterableDataset(data, return_type="numpy")
    with pytest.raises(TypeError, match="unexpected keyword"):
        ObjectStoreIterableDataset(data, bogus=1)


def test_map_dataset(data: str) -> None:
    ds = ObjectStoreMapDataset.from_prefix(data, transform=lambda t: int(t[:8].view(torch.int64)))
    assert len(ds) == N and sorted(ds[i] for i in range(N)) == list(range(N))
    assert ds[-1] == ds[N - 1]
    with pytest.raises(IndexError):
        ds[N]
    assert ds.__getitems__([0, 5, 3]) == [ds[0], ds[5], ds[3]]
    assert ds.keys()[0].endswith("part0/obj000.bin") and ds.uris()[0].startswith("s3://")
    pat = ObjectStoreMapDataset(data, pattern="part1/*.bin", return_type="bytes")
    assert len(pat) == len(range(1, N, 3))
    loader = DataLoader(ObjectStoreMapDataset(data), batch_size=8, shuffle=True)
    assert sorted(_read_all(loader)) == list(range(N))


def test_getitems_fetches_a_batch_concurrently(data: str) -> None:
    ds = ObjectStoreMapDataset(data, return_type="bytes")
    spans: list[tuple[int, int]] = []
    lock = threading.Lock()

    def observer(rec: Any) -> None:
        if rec.op == "GET":
            with lock:
                spans.append((rec.start_ns, rec.end_ns))

    add_observer(observer)
    try:
        batch = ds.__getitems__(list(range(32)))
    finally:
        remove_observer(observer)
    assert len(batch) == 32 and len(spans) == 32
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    depth = peak = 0
    for _, d in events:
        depth += d
        peak = max(peak, depth)
    assert peak > 1, "the batch's GETs did not overlap"


@pytest.mark.parametrize("context", ["fork", "spawn", "forkserver"])
def test_dataloader_workers_read_every_sample_once(data: str, context: str) -> None:
    s3dlio.get(f"{data}part0/obj000.bin")  # the parent does I/O first (connections, pool threads)
    list(ObjectStoreIterableDataset(data))
    it = ObjectStoreIterableDataset(data, shuffle=True, seed=4)
    mp = ObjectStoreMapDataset(data)
    s3dlio.put_bytes(f"{data}part0/late.bin", _payload(999))  # after the listing: no worker may see it
    for workers in (0, 2):
        kw: dict[str, Any] = {"num_workers": workers}
        if workers:
            kw["multiprocessing_context"] = context
        got = _read_all(DataLoader(it, batch_size=4, **kw))
        assert sorted(got) == list(range(N)), (context, workers)
        got = _read_all(DataLoader(mp, batch_size=4, **kw))
        assert sorted(got) == list(range(N)), (context, workers)


def test_new_order_each_epoch_and_set_epoch(data: str) -> None:
    ds = ObjectStoreIterableDataset(data, shuffle=True, seed=11)
    e0, e1 = [int(t[:8].view(torch.int64)) for t in ds], [int(t[:8].view(torch.int64)) for t in ds]
    assert e0 != e1 and sorted(e0) == sorted(e1) == list(range(N))
    ds.set_epoch(0)
    assert [int(t[:8].view(torch.int64)) for t in ds] == e0
    loader = DataLoader(ds, batch_size=5, num_workers=2, persistent_workers=True)
    ds.set_epoch(5)
    assert sorted(_read_all(loader)) == list(range(N))


def test_rank_sharding_is_disjoint_and_shuffle_identical_across_ranks(data: str, monkeypatch: Any) -> None:
    uris = ObjectStoreMapDataset(data).uris()
    seen: list[int] = []
    orders = []
    for rank in (0, 1, 2):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "3")
        ds = ObjectStoreIterableDataset(data, shuffle=True, seed=3, enable_sharding=True)
        ds.set_epoch(2)
        mine = _read_all(DataLoader(ds, batch_size=4, num_workers=2))
        assert len(mine) == len(ds)
        orders.append(mine)
        seen += mine
        # the rank's share of the epoch order every rank computes (positions k % 3 == rank)
        order = list(epoch_order(N, True, 3, 2))
        want = {int(uris[order[k]].rsplit("obj", 1)[1][:3]) for k in range(rank, N, 3)}
        assert set(mine) == want
    assert sorted(seen) == list(range(N))


def test_resume_mid_epoch_main_process(data: str) -> None:
    ds = ObjectStoreIterableDataset(data, shuffle=True, seed=21)
    it = iter(ds)
    first = [int(next(it)[:8].view(torch.int64)) for _ in range(13)]
    state = ds.state_dict()
    assert state["num_samples"] == 13 and state["epoch"] == 0
    again = ObjectStoreIterableDataset(data, shuffle=True, seed=21)
    again.load_state_dict(state)
    rest = [int(t[:8].view(torch.int64)) for t in again]
    assert sorted(first + rest) == list(range(N)) and len(rest) == N - 13
    nxt = [int(t[:8].view(torch.int64)) for t in again]  # the next epoch is whole again
    assert sorted(nxt) == list(range(N))
    with pytest.raises(ValueError, match="seed"):
        ObjectStoreIterableDataset(data, shuffle=True, seed=22).load_state_dict(state)


def test_resume_mid_epoch_with_dataloader_workers(data: str) -> None:
    ds = ObjectStoreIterableDataset(data, shuffle=True, seed=8)
    ds.set_epoch(3)
    loader = DataLoader(ds, batch_size=3, num_workers=2)
    consumed: list[int] = []
    for step, batch in enumerate(loader):
        consumed += _ids(batch)
        if step == 4:
            break
    state = ds.state_dict(num_samples=len(consumed), loader=loader)
    assert state["epoch"] == 3 and state["loader_num_workers"] == 2
    restarted = ObjectStoreIterableDataset(data, shuffle=True, seed=8)
    restarted.load_state_dict(state)
    rest = _read_all(DataLoader(restarted, batch_size=3, num_workers=2))
    assert sorted(consumed + rest) == list(range(N))
    assert len(consumed) + len(rest) == N


def test_deprecated_names_in_both_forms(data: str, tmp_path: Path) -> None:
    with pytest.warns(DeprecationWarning) as rec:
        a = S3IterableDataset(data)  # 0.8.12: no loader_opts
    assert len(rec) == 1 and "ObjectStoreIterableDataset" in str(rec[0].message)
    assert sorted(int(t[:8].view(torch.int64)) for t in a) == list(range(N))
    with pytest.warns(DeprecationWarning) as rec:
        b = S3IterableDataset.from_prefix(data, shuffle=True, prefetch=4)
    assert len(rec) == 1 and len(b) == N
    with pytest.warns(DeprecationWarning):
        c = S3IterableDataset(uri=data, pattern="*.bin", shuffle=True, num_workers=4)
    assert c.options.shuffle and c.options.num_workers == 4
    with pytest.warns(DeprecationWarning) as rec:
        d = S3MapDataset(uri=data, pattern="part2/*.bin", transform=len)
    assert len(rec) == 1 and [d[i] for i in range(len(d))] == [SIZE] * len(range(2, N, 3))
    with pytest.warns(DeprecationWarning):
        S3IterableDataset(data, loader_opts={"batch_size": 2})


def test_top_level_names_import_torch_lazily() -> None:
    code = (
        "import sys, s3dlio\n"
        "bad = [m for m in ('torch', 'numpy', 'tensorflow', 'jax') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "from s3dlio import S3IterableDataset, S3MapDataset\n"
        "import s3dlio.torch as t\n"
        "assert S3IterableDataset is t.S3IterableDataset and S3MapDataset is t.S3MapDataset\n"
        "assert 'torch' in sys.modules\n"
        "assert s3dlio.ObjectStoreMapDataset is t.ObjectStoreMapDataset\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_file_scheme_and_listing_shared_with_spawned_workers(tmp_path: Path) -> None:
    root = tmp_path / "d"
    for i in range(12):
        s3dlio.put_bytes(f"file://{root}/{i:02d}.bin", _payload(i))
    ds = ObjectStoreMapDataset(f"file://{root}/")
    (root / "99.bin").write_bytes(_payload(99))
    loader = DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="spawn")
    assert sorted(_read_all(loader)) == list(range(12))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(list(ObjectStoreIterableDataset(f"file://{root}/"))) == 13  # a new listing sees it


def test_sharding_without_distributed_is_a_no_op(data: str) -> None:
    ds = ObjectStoreIterableDataset(data, enable_sharding=True)
    assert len(ds) == N


def test_manifest_shared_by_datasets(data: str, tmp_path: Path) -> None:
    manifest = f"file://{tmp_path}/m/{uuid.uuid4().hex}.json.zst"
    a = ObjectStoreMapDataset(data, listing_manifest=manifest)
    s3dlio.put_bytes(f"{data}part1/later.bin", _payload(500))
    b = ObjectStoreIterableDataset(data, listing_manifest=manifest)  # reads the manifest, no new listing
    assert a.uris() == b.uris() and len(b) == N


def test_map_read_ahead_reads_each_object_once(tmp_path: Path) -> None:
    """A sequential sampler's next batch is fetched ahead; no object is read twice, whatever the sampler."""
    root = tmp_path / "ra"
    for i in range(60):
        s3dlio.put_bytes(f"file://{root}/{i:03d}.bin", _payload(i))
    gets: list[str] = []
    lock = threading.Lock()

    def observer(rec: Any) -> None:
        if rec.op == "GET":
            with lock:
                gets.append(rec.uri)

    ds = ObjectStoreMapDataset(f"file://{root}/")
    add_observer(observer)
    try:
        for shuffle in (False, True):
            gets.clear()
            assert sorted(_read_all(DataLoader(ds, batch_size=8, shuffle=shuffle))) == list(range(60))
            assert sorted(gets) == sorted(ds.uris()), shuffle
        gets.clear()
        assert sorted(_read_all(DataLoader(ds, batch_size=8, num_workers=2))) == list(range(60))
    finally:
        remove_observer(observer)
