"""The spec's examples that name s3://, gs:// and az:// (python-api-guide-v0.9.25.md), run as written against
the local servers: only bucket names, containers and endpoints are changed to local ones."""

from __future__ import annotations

import asyncio
import os

import pytest
import s3dlio


@pytest.fixture
def clouds(seaweedfs_server, azurite, azure_container, fake_gcs, gcs_bucket) -> dict[str, str]:
    """One fresh bucket per service; `s3dlio.create_bucket` makes the S3 one as the guide does."""
    bucket = f"spec-{os.urandom(4).hex()}"
    s3dlio.create_bucket(bucket)  # "S3 bucket management"
    return {"s3": bucket, "gs": gcs_bucket, "az": azure_container}


def test_quick_start_on_every_scheme(clouds, tmp_path) -> None:
    my_bucket, gcs, container = clouds["s3"], clouds["gs"], clouds["az"]
    # Put data to storage
    s3dlio.put(f"s3://{my_bucket}/data.bin", b"Hello, World!")
    s3dlio.put(f"file://{tmp_path}/local.bin", b"Local data")
    s3dlio.put(f"gs://{gcs}/cloud.bin", b"GCS data")
    s3dlio.put(f"az://devstoreaccount1/{container}/blob.bin", b"Azure data")

    # Get data from storage
    data = s3dlio.get(f"s3://{my_bucket}/data.bin")
    print(data)  # b'Hello, World!'
    assert bytes(data) == b"Hello, World!"
    assert bytes(s3dlio.get(f"gs://{gcs}/cloud.bin")) == b"GCS data"
    assert bytes(s3dlio.get(f"az://devstoreaccount1/{container}/blob.bin")) == b"Azure data"

    # List objects
    objects = s3dlio.list(f"s3://{my_bucket}/")
    for uri in objects:
        print(uri)
    assert objects == [f"s3://{my_bucket}/data.bin"]

    # Get metadata
    metadata = s3dlio.stat(f"s3://{my_bucket}/data.bin")
    print(f"Size: {metadata['size']} bytes")
    print(f"Last modified: {metadata['last_modified']}")
    assert metadata["size"] == 13 and metadata["etag"]

    # Delete objects
    s3dlio.delete(f"s3://{my_bucket}/data.bin")
    assert not s3dlio.exists(f"s3://{my_bucket}/data.bin")
    s3dlio.delete_bucket(my_bucket)


def test_multi_backend_unified_api(clouds, tmp_path) -> None:
    data = os.urandom(3000)
    uris = [f"s3://{clouds['s3']}/data.bin", f"gs://{clouds['gs']}/data.bin",
            f"az://devstoreaccount1/{clouds['az']}/data.bin", f"file://{tmp_path}/data.bin",
            f"direct://{tmp_path}/direct/data.bin"]
    for uri in uris:
        s3dlio.put(uri, data)
        assert bytes(s3dlio.get(uri)) == data
        assert bytes(s3dlio.get_range(uri, offset=1024, length=1000)) == data[1024:2024]
        assert s3dlio.stat(uri)["size"] == 3000
        assert s3dlio.exists(uri)


def test_custom_endpoint_forms(clouds, fake_gcs, monkeypatch) -> None:
    # GCS: the emulator convention without a scheme ("localhost:4443" form)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"127.0.0.1:{fake_gcs.port}")
    from s3dlio_core.registry import clear_store_cache

    clear_store_cache()
    s3dlio.put(f"gs://{clouds['gs']}/testkey", b"emulated")
    data = s3dlio.get(f"gs://{clouds['gs']}/testkey")
    assert bytes(data) == b"emulated"
    clear_store_cache()


def test_async_examples_on_s3(clouds) -> None:
    bucket = clouds["s3"]

    async def main() -> None:
        await s3dlio.put_async(f"s3://{bucket}/key", b"data")
        exists = await s3dlio.exists_async(f"s3://{bucket}/key")
        assert exists
        s3dlio.put(f"s3://{bucket}/key1", b"1")
        s3dlio.put(f"s3://{bucket}/key2", b"2")
        data = await s3dlio.get_many_async([f"s3://{bucket}/key1", f"s3://{bucket}/key2"])
        assert [bytes(v) for _, v in data] == [b"1", b"2"]
        stats = await s3dlio.stat_many_async([f"s3://{bucket}/key1", f"s3://{bucket}/key2"])
        assert [s["size"] for s in stats] == [1, 1]

    asyncio.run(main())


def test_streaming_writer_example(clouds) -> None:
    chunk1, chunk2, chunk3 = (os.urandom(1 << 20) for _ in range(3))
    writer = s3dlio.create_s3_writer(
        f"s3://{clouds['s3']}/large_file.bin.zst",
        options=s3dlio.PyWriterOptions()
    )
    writer.write(chunk1)
    writer.write(chunk2)
    writer.write(chunk3)
    stats = writer.finalize()
    print(f"Wrote {stats['bytes_written']} bytes")
    print(f"Compressed size: {stats['compressed_size']}")
    assert stats["bytes_written"] == 3 << 20
    assert bytes(s3dlio.get(f"s3://{clouds['s3']}/large_file.bin.zst")) == chunk1 + chunk2 + chunk3


def test_operation_logging_example(clouds, tmp_path) -> None:
    from s3dlio_oplog import read_op_log

    data = b"payload"
    s3dlio.init_op_log(str(tmp_path / "operations.log"))
    s3dlio.put(f"s3://{clouds['s3']}/key", data)
    s3dlio.get(f"s3://{clouds['s3']}/key")
    if s3dlio.is_op_log_active():
        print("Logging enabled")
    s3dlio.finalize_op_log()
    rows = [r for r in read_op_log(str(tmp_path / "operations.log")) if r.op in ("PUT", "GET")]
    assert [(r.op, r.bytes) for r in rows] == [("PUT", 7), ("GET", 7)]
