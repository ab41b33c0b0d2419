"""Listing a dataset once: the parallel listing (core's list_info_parallel) gives what a serial recursive
listing gives, and listing manifests share one listing between ranks."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
import s3dlio
from s3dlio_core import InvalidUriError, ObjectNotFoundError, store_for_uri
from s3dlio_core.parallel_listing import list_info_parallel
from s3dlio_ml.loaders import PyDataset, list_dataset
from s3dlio_ml.loaders.manifest import read_manifest, shared_listing, write_manifest
from s3dlio_testsupport import server_fixtures

_s3 = server_fixtures("s3")
s3_test_env = _s3.s3_test_env
seaweedfs_server = _s3.seaweedfs_server
s3_seaweedfs_prefix = _s3.s3_seaweedfs_prefix


def _nested(prefix: str) -> list[str]:
    keys = [f"top{i}.bin" for i in range(3)]
    keys += [f"d{a}/x{b}.bin" for a in range(20) for b in range(4)]
    keys += [f"d{a}/e{b}/f{c}.bin" for a in range(3) for b in range(5) for c in range(3)]
    keys += ["z/deep/er/still/deeper/leaf.bin"]
    s3dlio.put_many([(prefix + k, b"%d" % i) for i, k in enumerate(keys)])
    return sorted(keys)


@pytest.fixture(params=["file", "memory", "s3"])
def prefix(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "file":
        return f"file://{tmp_path}/tree/"
    if request.param == "memory":
        return f"memory://pl-{uuid.uuid4().hex[:8]}/tree/"
    return request.getfixturevalue("s3_seaweedfs_prefix")


@pytest.mark.parametrize("width", [1, 4, 16, 64])
def test_parallel_listing_equals_serial(prefix: str, width: int) -> None:
    keys = _nested(prefix)
    store, _ = store_for_uri(prefix)
    serial = sorted(i.uri for i in store.list_info(prefix, recursive=True) if not i.is_dir)
    got = list_info_parallel(store, prefix, max_in_flight=width)
    assert [i.uri for i in got] == serial == [prefix + k for k in keys]
    no_slash = prefix.rstrip("/")  # "dir" selects dir itself and what is under dir/
    assert [i.uri for i in list_info_parallel(store, no_slash, max_in_flight=width)] == serial
    rx = [i.uri for i in list_info_parallel(store, prefix, max_in_flight=width, pattern=r"^d1/")]
    assert rx == [u for u in serial if u[len(prefix):].startswith("d1/")]


def test_parallel_listing_of_one_object_and_globs(prefix: str) -> None:
    _nested(prefix)
    store, _ = store_for_uri(prefix)
    assert [i.uri for i in list_info_parallel(store, prefix + "d3/x1.bin")] == [prefix + "d3/x1.bin"]
    if not prefix.startswith("file://"):
        assert [i.uri for i in list_info_parallel(store, prefix + "d1*/x0.bin")] == \
            [prefix + "d1/x0.bin"] + [prefix + f"d1{n}/x0.bin" for n in range(10)]


def test_manifest_roundtrip_and_shared_listing(prefix: str, tmp_path: Path) -> None:
    keys = _nested(prefix)
    manifest = f"file://{tmp_path}/manifests/listing.json.zst"
    listing = list_dataset(prefix, pattern="*.bin")
    write_manifest(listing, manifest)
    back, header = read_manifest(manifest)
    assert back.uris == listing.uris and list(back.sizes) == list(listing.sizes)
    assert back.keys() == listing.keys() and header["source"] == prefix
    assert PyDataset.from_listing(back).keys() == PyDataset(prefix, pattern="*.bin").keys()
    assert len(back) == len(keys)

    # two ranks, no process group: rank 1 waits for the manifest rank 0 writes
    fresh = f"file://{tmp_path}/manifests/fresh.json.zst"
    results: dict[int, list[str]] = {}

    def rank(r: int) -> None:
        results[r] = shared_listing(prefix, fresh, rank=r, poll=0.05, timeout=60).uris

    t1 = threading.Thread(target=rank, args=(1,))
    t1.start()
    rank(0)
    t1.join(60)
    assert results[0] == results[1] == [prefix + k for k in keys]
    # a later job reuses it without listing, even on rank 0
    s3dlio.put_bytes(prefix + "new.bin", b"new")
    assert shared_listing(prefix, fresh, rank=0).uris == results[0]
    assert prefix + "new.bin" in shared_listing(prefix, fresh, rank=0, refresh=True).uris


def test_manifest_errors(tmp_path: Path) -> None:
    bad = f"file://{tmp_path}/not-a-manifest.json"
    s3dlio.put_bytes(bad, b'{"hello": 1}')
    with pytest.raises(InvalidUriError, match="not an s3dlio listing manifest"):
        read_manifest(bad)
    with pytest.raises(ObjectNotFoundError):
        read_manifest(f"file://{tmp_path}/missing.json")
    with pytest.raises(TimeoutError, match="rank 1"):
        shared_listing(f"file://{tmp_path}/", f"file://{tmp_path}/never.json", rank=1, timeout=0.2, poll=0.05)


def test_shared_listing_with_a_barrier_calls_it_once_on_every_rank(tmp_path: Path) -> None:
    prefix = f"file://{tmp_path}/b/"
    _nested(prefix)
    manifest = f"file://{tmp_path}/b-manifest.json.zst"
    for refresh in (False, False, True):  # a fresh manifest, then an existing one, then a refresh
        barrier = threading.Barrier(2, timeout=30)
        out: dict[int, list[str]] = {}

        def rank(r: int, b: threading.Barrier = barrier, rf: bool = refresh,
                 res: dict[int, list[str]] = out) -> None:
            res[r] = shared_listing(prefix, manifest, rank=r, barrier=b.wait, refresh=rf).uris

        t = threading.Thread(target=rank, args=(1,))
        t.start()
        rank(0)
        t.join(30)
        assert not barrier.broken and out[0] == out[1] and len(out[0]) == len(_nested_keys())


def _nested_keys() -> list[str]:
    return [f"top{i}.bin" for i in range(3)] + [f"d{a}/x{b}.bin" for a in range(20) for b in range(4)] + \
        [f"d{a}/e{b}/f{c}.bin" for a in range(3) for b in range(5) for c in range(3)] + \
        ["z/deep/er/still/deeper/leaf.bin"]
