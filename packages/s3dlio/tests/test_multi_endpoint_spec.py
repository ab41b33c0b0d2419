"""The spec's multi-endpoint examples (python-api-guide-v0.9.25.md), on file:// endpoints under tmp_path;
only bucket names/endpoints are adapted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import s3dlio


def _dirs(tmp_path: Path, names: list[str]) -> list[str]:
    out = []
    for n in names:
        (tmp_path / n).mkdir(parents=True, exist_ok=True)
        out.append((tmp_path / n).as_uri())
    return out


@pytest.mark.asyncio
async def test_multi_endpoint_operations(tmp_path: Path) -> None:
    """Test multi-endpoint store with pytest (the guide's example, paths under tmp_path)."""
    e1, e2 = _dirs(tmp_path, ["endpoint1", "endpoint2"])
    store = s3dlio.create_multi_endpoint_store(
        uris=[e1, e2],
        strategy="round_robin"
    )

    # Test put/get
    test_data = b"test data"
    await store.put(f"{e1}/test.bin", test_data)

    result = await store.get(f"{e1}/test.bin")
    assert bytes(result) == test_data

    # Test statistics
    stats = store.get_total_stats()
    assert stats['total_requests'] >= 2  # put + get


def test_async_operations_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b1, b2 = _dirs(tmp_path, ["bucket-1", "bucket-2"])

    async def main() -> None:
        store = s3dlio.create_multi_endpoint_store(uris=[b1, b2], strategy="round_robin")
        await store.put(f"{b1}/data.bin", b"Hello, World!")
        result = await store.get(f"{b1}/data.bin")
        print(bytes(result))
        await store.put(f"{b1}/prefix/a.bin", b"12345")
        objects = await store.list(f"{b1}/prefix/", recursive=True)
        for obj in objects:
            print(f"URI: {obj['uri']}, Size: {obj['size']}")
        await store.delete(f"{b1}/data.bin")

    asyncio.run(main())
    out = capsys.readouterr().out
    assert "b'Hello, World!'" in out and f"URI: {b1}/prefix/a.bin, Size: 5" in out
    assert not (tmp_path / "bucket-1" / "data.bin").exists() and not (tmp_path / "bucket-2" / "data.bin").exists()


def test_zero_copy_and_range_examples(tmp_path: Path) -> None:
    b1, b2 = _dirs(tmp_path, ["bucket-1", "bucket-2"])
    arr = np.arange(1024, dtype=np.float32)
    big = bytes(range(256)) * 16

    async def process_data() -> tuple[tuple[int, ...], bool]:
        store = s3dlio.create_multi_endpoint_store(uris=[b1, b2], strategy="round_robin")
        await store.put(f"{b1}/array.bin", arr.tobytes())
        view = await store.get(f"{b1}/array.bin")
        mv = view.memoryview()
        array = np.frombuffer(mv, dtype=np.float32)
        return array.shape, bool((array == arr).all()) and bytes(view) == arr.tobytes()

    async def get_ranges() -> int:
        store = s3dlio.create_multi_endpoint_store(uris=[b1, b2], strategy="least_connections")
        await store.put(f"{b1}/large_file.bin", big)
        view = await store.get_range(f"{b1}/large_file.bin", offset=1000, length=1000)
        data = bytes(view)
        assert data == big[1000:2000]
        return len(data)

    assert asyncio.run(process_data()) == ((1024,), True)
    assert asyncio.run(get_ranges()) == 1000


def test_statistics_example(tmp_path: Path) -> None:
    uris = _dirs(tmp_path, ["bucket-1", "bucket-2", "bucket-3"])
    base = tmp_path.as_uri()

    async def monitor_stats() -> tuple[list[dict], dict]:
        store = s3dlio.create_multi_endpoint_store(uris=uris, strategy="round_robin")
        for i in range(100):
            await store.put(f"{base}/bucket-{(i % 3) + 1}/file{i}.bin", b"data")
        return store.get_endpoint_stats(), store.get_total_stats()

    per, total = asyncio.run(monitor_stats())
    assert [p["uri"] for p in per] == uris
    assert [p["total_requests"] for p in per] == [34, 33, 33]
    assert total == {"total_requests": 100, "bytes_read": 0, "bytes_written": 400, "error_count": 0,
                     "active_requests": 0}


def test_store_properties_example() -> None:
    store = s3dlio.create_multi_endpoint_store(uris=["s3://bucket-1", "s3://bucket-2"],
                                               strategy="least_connections")
    assert store.endpoint_count() == 2
    assert store.strategy() == "least_connections"


def test_template_examples() -> None:
    store = s3dlio.create_multi_endpoint_store_from_template(uri_template="s3://my-bucket-{1...10}",
                                                             strategy="round_robin")
    assert store.endpoint_count() == 10
    with pytest.raises(RuntimeError, match="Too many endpoints: 297"):  # 3 x 99 > MAX_ENDPOINTS
        s3dlio.create_multi_endpoint_store_from_template(uri_template="s3://region-{1...3}/shard-{01...99}",
                                                         strategy="least_connections")
    padded = s3dlio.create_multi_endpoint_store_from_template("s3://region-{1...2}/shard-{01...03}")
    assert [e["uri"] for e in padded.get_endpoint_stats()][:3] == [
        "s3://region-1/shard-01", "s3://region-1/shard-02", "s3://region-1/shard-03"]


def test_from_file_example(tmp_path: Path) -> None:
    f = tmp_path / "endpoints.txt"
    f.write_text("s3://bucket-1\ns3://bucket-2\ns3://bucket-3\n")
    store = s3dlio.create_multi_endpoint_store_from_file(file_path=str(f), strategy="round_robin")
    assert store.endpoint_count() == 3


def test_complete_example_distributed_upload(tmp_path: Path) -> None:
    """Upload 1000 files across 10 endpoints (the guide's complete example, buckets as directories)."""
    for i in range(1, 11):
        (tmp_path / f"my-bucket-{i}").mkdir()
    base = tmp_path.as_uri()

    async def distributed_upload() -> tuple[dict, int]:
        store = s3dlio.create_multi_endpoint_store_from_template(
            uri_template=f"{base}/my-bucket-{{1...10}}", strategy="round_robin")
        assert store.endpoint_count() == 10 and store.strategy() == "round_robin"
        tasks = []
        for i in range(1000):
            bucket_num = (i % 10) + 1
            uri = f"{base}/my-bucket-{bucket_num}/file{i:04d}.dat"
            data = f"File {i} data".encode()
            tasks.append(store.put(uri, data))
        await asyncio.gather(*tasks)
        total_stats = store.get_total_stats()
        objects = await store.list(f"{base}/my-bucket-1/", recursive=False)
        return total_stats, len(objects)

    total, n_listed = asyncio.run(distributed_upload())
    assert total["total_requests"] >= 1000 and total["error_count"] == 0
    assert total["bytes_written"] == sum(len(f"File {i} data") for i in range(1000))
    assert n_listed == 1000  # the merged view of every endpoint


# ---------------------------------------------------------------- the async facade over the backend ObjectStore
@pytest.mark.asyncio
async def test_facade_routing_relative_keys_and_stats(tmp_path: Path) -> None:
    e1, e2, e3 = _dirs(tmp_path, ["ep1", "ep2", "ep3"])
    store = s3dlio.create_multi_endpoint_store([e1, e2, e3])
    for i in range(6):
        await store.put(f"{e1}/k{i}.bin", b"v" * 10)
    assert sorted(p.name for p in (tmp_path / "ep2").iterdir()) == ["k1.bin", "k4.bin"]
    await store.put("rel/x.bin", b"r")  # a relative key lands under the chosen endpoint
    assert (tmp_path / "ep1" / "rel" / "x.bin").read_bytes() == b"r"
    assert bytes(await store.get("rel/x.bin")) == b"r"
    assert bytes(await store.get_range(f"{e3}/k2.bin", 2, 3)) == b"vvv"
    assert (await store.stat(f"{e2}/k0.bin"))["size"] == 10
    # 7 puts, a get that missed on ep2 then hit ep1 (the endpoint it names), a range, a stat
    assert [p["total_requests"] for p in store.get_endpoint_stats()] == [5, 3, 3]
    assert store.get_total_stats()["bytes_written"] == 61 and store.endpoint_health()[0]["healthy"]
    listed = await store.list(f"{e2}/", recursive=True)
    assert {d["uri"]: d["size"] for d in listed} == {**{f"{e2}/k{i}.bin": 10 for i in range(6)},
                                                     f"{e2}/rel/x.bin": 1}
    assert await store.list_all_endpoints(f"{e1}/rel/") == [f"{e1}/rel/x.bin"]
    await store.put_to_endpoint(2, f"{e1}/only3", b"3")
    assert bytes(await store.get_from_endpoint(2, f"{e1}/only3")) == b"3"
    await store.delete_from_endpoint(2, f"{e1}/only3")
    await store.put_all_endpoints(f"{e1}/all", b"a")
    assert all((tmp_path / n / "all").exists() for n in ("ep1", "ep2", "ep3"))
    await store.delete(f"{e1}/all")
    assert not any((tmp_path / n / "all").exists() for n in ("ep1", "ep2", "ep3"))
    with pytest.raises(s3dlio.ObjectNotFoundError):
        await store.get(f"{e1}/nope")
    with pytest.raises(TypeError):
        await store.put(f"{e1}/b", 12345)
    with pytest.raises(OverflowError):
        await store.get_range(f"{e1}/k0.bin", -1, 2)


@pytest.mark.asyncio
async def test_facade_keys_never_escape_the_endpoint_root(tmp_path: Path) -> None:
    (r,) = _dirs(tmp_path, ["R"])
    store = s3dlio.create_multi_endpoint_store([r])
    for bad in ("../x", f"{r}/../x"):
        with pytest.raises(s3dlio.InvalidUriError) as ei:
            await store.put(bad, b"escaped")
        assert bad in str(ei.value)
    assert not (tmp_path / "x").exists() and list((tmp_path / "R").iterdir()) == []


def test_the_object_store_behind_the_facade_serves_loaders_and_readers(tmp_path: Path) -> None:
    import zipfile

    from s3dlio_core import ObjectStore

    e1, e2 = _dirs(tmp_path, ["a", "b"])
    facade = s3dlio.create_multi_endpoint_store([e1, e2])
    store = facade.store
    assert isinstance(store, ObjectStore)
    zpath = tmp_path / "z.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("inner.txt", "from a zip on an endpoint")
    store.put_all_endpoints(f"{e1}/z.zip", zpath.read_bytes())
    with zipfile.ZipFile(store.open_reader(f"{e2}/z.zip")) as z:
        assert z.read("inner.txt") == b"from a zip on an endpoint"
    assert [i.size for i in store.list_info(f"{e1}/")] == [zpath.stat().st_size]
    assert facade.get_total_stats()["total_requests"] >= 3  # one set of counters behind both APIs
