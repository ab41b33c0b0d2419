"""S3dlioFileSystem over every store of ours (the conformance backends: file, direct, memory, S3 on SeaweedFS
and moto, GCS on fake-gcs-server, Azure on Azurite): the same fsspec calls work on each, given either the
s3dlio URI or the `s3dlio://` URL, and what they write is what s3dlio itself reads back."""

from __future__ import annotations

import fsspec
import pytest
import s3dlio
from s3dlio.fsspec import to_path, to_url


@pytest.fixture
def fs() -> fsspec.AbstractFileSystem:
    return fsspec.filesystem("s3dlio")


def _azure_list_info_ignores_account_form() -> bool:
    """Until the backends' listing-metadata work lands, AzureStore normalises the account form
    (az://account/container/...) in `_list_pages` only, so `list_info` asks for a container named after
    the account (ContainerNotFound)."""
    from s3dlio_backends.azure.store import AzureStore

    return "_list_entries" not in AzureStore.__dict__


def test_round_trip_on_every_store(fs: fsspec.AbstractFileSystem, store_prefix: str, backend_name: str,
                                   request: pytest.FixtureRequest) -> None:
    if backend_name == "azure" and _azure_list_info_ignores_account_form():
        request.applymarker(pytest.mark.xfail(strict=True, raises=FileNotFoundError,
                                              reason="AzureStore.list_info ignores the account form (backends)"))
    root = to_path(store_prefix)
    payload = bytes(range(256)) * 64  # 16 KiB
    fs.pipe_file(store_prefix + "a/one.bin", payload)  # an s3dlio URI as the path
    with fsspec.open(to_url(store_prefix + "a/sub/two.txt"), "w") as f:  # a URL, text mode
        f.write("hello fsspec\n")
    fs.pipe({to_url(store_prefix + f"b/{i}.bin"): bytes([i]) * (i + 1) for i in range(5)})

    # what fsspec wrote, s3dlio reads
    assert bytes(s3dlio.get(store_prefix + "a/one.bin")) == payload
    assert bytes(s3dlio.get(store_prefix + "a/sub/two.txt")) == b"hello fsspec\n"

    assert fs.ls(root + "/a", detail=False) == [root + "/a/one.bin", root + "/a/sub"]
    info = fs.info(root + "/a/one.bin")
    assert info["type"] == "file" and info["size"] == len(payload) and info["name"] == root + "/a/one.bin"
    assert fs.info(root + "/a")["type"] == "directory"
    assert fs.isdir(root + "/a/sub") and fs.isfile(root + "/a/sub/two.txt") and not fs.exists(root + "/nope")
    assert fs.find(root) == sorted([root + "/a/one.bin", root + "/a/sub/two.txt",
                                    *(f"{root}/b/{i}.bin" for i in range(5))])
    assert fs.du(root) == len(payload) + 13 + sum(i + 1 for i in range(5))
    assert fs.glob(root + "/b/[0-2].bin") == [f"{root}/b/{i}.bin" for i in range(3)]
    assert fs.modified(root + "/a/one.bin").tzinfo is not None

    assert fs.cat_file(root + "/a/one.bin", 10, 20) == payload[10:20]
    assert fs.cat_file(root + "/a/one.bin", -7) == payload[-7:]
    assert fs.cat_ranges([root + "/a/one.bin"] * 3, [0, 100, -5], [4, 110, None]) == [
        payload[0:4], payload[100:110], payload[-5:]]
    with fs.open(root + "/a/one.bin", "rb") as f:
        f.seek(-16, 2)
        assert f.read() == payload[-16:]
    assert fs.cat(root + "/b/*.bin") == {f"{root}/b/{i}.bin": bytes([i]) * (i + 1) for i in range(5)}

    fs.rm(root + "/a", recursive=True)
    assert not fs.exists(root + "/a/one.bin") and fs.find(root + "/a") == []
    assert s3dlio.list(store_prefix + "a/", recursive=True) == []
    fs.rm(root + "/b/0.bin")
    with pytest.raises(FileNotFoundError):
        fs.rm(root + "/b/0.bin")
    with pytest.raises(FileNotFoundError):
        fs.cat_file(root + "/b/0.bin")
    assert fs.find(root) == [f"{root}/b/{i}.bin" for i in range(1, 5)]


def test_directory_marker_objects(fs: fsspec.AbstractFileSystem, s3_moto_prefix: str) -> None:
    """Other tools (the S3 console, s3fs users) write zero-byte 'dir/' objects for empty folders: the
    directory then exists and lists empty, and a recursive rm takes the marker too."""
    s3dlio.put_bytes(s3_moto_prefix + "empty/", b"")
    root = to_path(s3_moto_prefix)
    assert fs.ls(root + "/empty") == []
    assert fs.isdir(root + "/empty") and fs.ls(root, detail=False) == [root + "/empty"]
    fs.pipe_file(root + "/empty/f", b"1")
    assert fs.find(root, withdirs=True) == [root, root + "/empty", root + "/empty/f"]
    fs.rm(root + "/empty", recursive=True)
    assert s3dlio.list(s3_moto_prefix, recursive=True) == []


def test_listing_details_need_no_head_per_entry(fs: fsspec.AbstractFileSystem, store_prefix: str,
                                                backend_name: str, request: pytest.FixtureRequest) -> None:
    """ls / find / du take sizes and mtimes from the listing pages. Where a backend's listing carries no
    metadata yet, the sizes still come out right, from one stat per file (bounded fan-out)."""
    from s3dlio_core import instrument, store_for_uri

    if backend_name == "azure" and _azure_list_info_ignores_account_form():
        request.applymarker(pytest.mark.xfail(strict=True, raises=FileNotFoundError,
                                              reason="AzureStore.list_info ignores the account form (backends)"))
    root = to_path(store_prefix)
    fs.pipe({f"{root}/d/{i}.bin": b"x" * (100 + i) for i in range(12)})
    store, _ = store_for_uri(store_prefix)
    with_metadata = all(i.size is not None for i in store.list_info(store_prefix, recursive=True))
    seen: list[str] = []

    def observe(rec: instrument.OpRecord) -> None:
        seen.append(rec.op)

    instrument.add_observer(observe)
    try:
        sizes = {e["name"]: e["size"] for e in fs.ls(root + "/d")}
        found = fs.find(root, detail=True)
        total = fs.du(root)
    finally:
        instrument.remove_observer(observe)
    want = {f"{root}/d/{i}.bin": 100 + i for i in range(12)}
    assert sizes == want and {n: e["size"] for n, e in found.items()} == want and total == sum(want.values())
    assert all(e.get("mtime") is not None for e in found.values())
    assert seen.count("HEAD") == (0 if with_metadata else 3 * 12)
