"""The spec's code examples for the core storage API, run as written on file:// (only bucket names and
endpoints changed to local ones). Examples for other schemes join as their stores land."""

from __future__ import annotations

import asyncio
import os

import pytest
import s3dlio


@pytest.fixture
def bucket(tmp_path) -> str:
    """Stands in for `s3://bucket` / `s3://my-bucket` of the examples."""
    return f"file://{tmp_path}/bucket"


def test_guide_quick_start_basic_operations(bucket, capsys) -> None:
    # Initialize logging (optional)
    s3dlio.init_logging("info")  # Options: trace, debug, info, warn, error

    # Put data to storage
    s3dlio.put(f"{bucket}/data.bin", b"Hello, World!")
    s3dlio.put(f"{bucket}/local.bin", b"Local data")

    # Get data from storage
    data = s3dlio.get(f"{bucket}/data.bin")
    print(data)  # b'Hello, World!'
    assert bytes(data) == b"Hello, World!"

    # List objects
    objects = s3dlio.list(f"{bucket}/")
    for uri in objects:
        print(uri)
    assert objects == [f"{bucket}/data.bin", f"{bucket}/local.bin"]

    # Get metadata
    metadata = s3dlio.stat(f"{bucket}/data.bin")
    print(f"Size: {metadata['size']} bytes")
    print(f"Last modified: {metadata['last_modified']}")
    assert metadata["size"] == 13

    # Delete objects
    s3dlio.delete(f"{bucket}/data.bin")
    assert not s3dlio.exists(f"{bucket}/data.bin")


def test_guide_core_operations(bucket, tmp_path) -> None:
    # put(): basic upload and upload from file
    s3dlio.put(f"{bucket}/key", b"data")
    (tmp_path / "local_file.bin").write_bytes(os.urandom(5000))
    with open(tmp_path / "local_file.bin", "rb") as f:
        data = f.read()
        s3dlio.put(f"{bucket}/key2", data)

    # get(): basic download and range request
    data = s3dlio.get(f"{bucket}/key2")
    part = s3dlio.get_range(f"{bucket}/key2", offset=1024, length=4096)
    assert bytes(part) == bytes(data)[1024:5120]

    # list(): full URIs
    objects = s3dlio.list(f"{bucket}/")
    for uri in objects:
        print(uri)
    assert objects == [f"{bucket}/key", f"{bucket}/key2"]

    # stat()
    metadata = s3dlio.stat(f"{bucket}/key")
    print(metadata["size"], metadata["last_modified"], metadata["etag"])

    # exists()
    if s3dlio.exists(f"{bucket}/key"):
        print("Object exists")
    if not s3dlio.exists(f"{bucket}/config.json"):
        s3dlio.put(f"{bucket}/config.json", b"{}")
    assert bytes(s3dlio.get(f"{bucket}/config.json")) == b"{}"

    # delete(): multiple objects with a list comprehension
    objects = s3dlio.list(f"{bucket}/")
    for uri in objects:
        s3dlio.delete(uri)
    assert s3dlio.list(f"{bucket}/") == []


def test_guide_async_examples(bucket) -> None:
    async def main() -> None:
        await s3dlio.put_async(f"{bucket}/key", b"data")
        exists = await s3dlio.exists_async(f"{bucket}/key")
        assert exists
        s3dlio.put(f"{bucket}/key1", b"1")
        s3dlio.put(f"{bucket}/key2", b"2")
        data = await s3dlio.get_many_async([f"{bucket}/key1", f"{bucket}/key2"])
        assert [bytes(v) for _, v in data] == [b"1", b"2"]
        stats = await s3dlio.stat_many_async([f"{bucket}/key1", f"{bucket}/key2"])
        assert [s["size"] for s in stats] == [1, 1]
        uris = [f"{bucket}/file1", f"{bucket}/file2", f"{bucket}/file3"]
        for u in uris:
            s3dlio.put(u, b"x")
        results = await s3dlio.get_many_async(uris)
        assert len(results) == 3

    asyncio.run(main())


def test_guide_batch_operations(tmp_path, bucket) -> None:
    files = tmp_path / "data" / "files"
    files.mkdir(parents=True)
    for i in range(3):
        (files / f"f{i}.dat").write_bytes(b"d" * (i + 1))
    (files / "other.txt").write_bytes(b"t")
    # Upload multiple files
    s3dlio.upload(local_dir=str(files) + "/", remote_uri=f"{bucket}/uploads/", pattern="*.dat")
    assert len(s3dlio.list(f"{bucket}/uploads/")) == 3
    # Download multiple files
    s3dlio.download(remote_uri=f"{bucket}/uploads/", local_dir=str(tmp_path / "data" / "output") + "/",
                    pattern="*.dat")
    assert sorted(os.listdir(tmp_path / "data" / "output")) == ["f0.dat", "f1.dat", "f2.dat"]


def test_guide_performance_examples(bucket) -> None:
    for i in range(20):
        s3dlio.put(f"{bucket}/dataset/obj_{i}.dat", b"z" * 100)
    # Pre-stat all objects once
    uris = s3dlio.list(f"{bucket}/dataset/")
    s3dlio.get_many_stats(uris, concurrency=100)
    for uri in uris:
        data = s3dlio.get(uri)
        assert len(data) == 100
    # Parallel downloads
    uris = [f"{bucket}/dataset/obj_{i}.dat" for i in range(20)]
    results = s3dlio.get_many(uris, workers=64)
    assert len(results) == 20


def test_guide_zero_copy_access(bucket) -> None:
    s3dlio.put(f"{bucket}/key", b"zero-copy")
    view = s3dlio.get(f"{bucket}/key")  # Returns BytesView
    memview = view.memoryview()
    data = bytes(view)
    assert memview.tobytes() == data == b"zero-copy"


def test_v0812_legacy_examples(bucket) -> None:
    s3dlio.put(f"{bucket}/object.txt", b"data")
    data = s3dlio.get(f"{bucket}/object.txt")
    keys = s3dlio.list(f"{bucket}/")
    metadata = s3dlio.stat(f"{bucket}/object.txt")
    assert bytes(data) == b"data" and keys == [f"{bucket}/object.txt"] and metadata["size"] == 4
    get_func = s3dlio.get
    put_func = s3dlio.put
    list_func = s3dlio.list
    stat_func = s3dlio.stat
    assert all(callable(f) for f in (get_func, put_func, list_func, stat_func))


def test_migration_table_old_names_still_work(bucket) -> None:
    s3dlio.put(f"{bucket}/prefix/a", b"1")
    with pytest.warns(DeprecationWarning):
        assert s3dlio.list_objects(f"{bucket}/prefix/") == ["a"]
    assert bytes(s3dlio.get_object(f"{bucket}/prefix/a")) == b"1"
    assert s3dlio.stat_object(f"{bucket}/prefix/a")["size"] == 1
