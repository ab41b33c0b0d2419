"""The flat API over file://: every calling form of both spec documents, legacy names, async twins."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import s3dlio


@pytest.fixture
def root(tmp_path) -> str:
    return f"file://{tmp_path}/"


def test_import_is_light() -> None:
    code = ("import sys, s3dlio; "
            "print([m for m in ('boto3','botocore','numpy','torch','azure.storage','google.cloud','asyncio') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_put_forms(root) -> None:
    s3dlio.put(root + "a.bin", b"Hello, World!")
    s3dlio.put(uri=root + "b.bin", data=bytearray(b"xy"))
    s3dlio.put_bytes(root + "c.bin", memoryview(b"abc"))
    s3dlio.put_bytes(root + "d.bin", np.arange(3, dtype=np.uint8))
    assert bytes(s3dlio.get(root + "a.bin")) == b"Hello, World!"
    assert bytes(s3dlio.get(root + "b.bin")) == b"xy"
    assert bytes(s3dlio.get(root + "c.bin")) == b"abc"
    assert bytes(s3dlio.get(root + "d.bin")) == b"\x00\x01\x02"
    with pytest.raises(TypeError, match="Cannot convert data to bytes"):
        s3dlio.put_bytes(root + "e.bin", "a str is not bytes")


def test_get_range_forms(root) -> None:
    s3dlio.put(root + "r", b"0123456789")
    assert bytes(s3dlio.get_range(root + "r", 2, 3)) == b"234"
    assert bytes(s3dlio.get_range(root + "r", offset=7)) == b"789"
    assert bytes(s3dlio.get_range(root + "r", offset=1, length=2)) == b"12"


def test_get_many_forms(root) -> None:
    uris = [root + f"m/{i}.bin" for i in range(10)]
    s3dlio.put_many([(u, u.encode()) for u in uris], max_in_flight=4)
    for kwargs in ({}, {"max_in_flight": 3}, {"workers": 64}):
        got = s3dlio.get_many(uris, **kwargs)
        assert [u for u, _ in got] == uris
        assert all(bytes(v) == u.encode() for u, v in got)
    assert s3dlio.get_many(uris, 2) == s3dlio.get_many(uris)
    assert s3dlio.get_many_stats(uris, concurrency=100) == (10, sum(len(u) for u in uris))
    assert s3dlio.get_many([]) == []
    with pytest.raises(ValueError, match="max_in_flight must be an integer >= 1"):
        s3dlio.get_many(uris, max_in_flight=0)
    with pytest.raises(s3dlio.ObjectNotFoundError):
        s3dlio.get_many([*uris, root + "m/missing"])


def test_put_many_rejects_bad_items(root) -> None:
    with pytest.raises(TypeError, match=r"item 0 \(.*x\)"):
        s3dlio.put_many([(root + "x", 5)])


def test_list_stat_exists_delete(root) -> None:
    for k in ("a.bin", "sub/b.bin"):
        s3dlio.put(root + k, b"1")
    assert s3dlio.list(root) == [root + "a.bin", root + "sub/"]
    assert s3dlio.list(root, recursive=True) == [root + "a.bin", root + "sub/b.bin"]
    assert s3dlio.list(root, True, r"b\.bin$") == [root + "sub/b.bin"]
    assert s3dlio.stat(root + "a.bin")["size"] == 1
    assert s3dlio.exists(root + "a.bin") and not s3dlio.exists(root + "zz")
    assert s3dlio.exists("not a uri") is False
    assert s3dlio.exists("ftp://x/y") is False
    s3dlio.delete(root + "a.bin")
    s3dlio.delete(root, recursive=True)
    assert s3dlio.list(root, recursive=True) == []


def test_legacy_names(root) -> None:
    for k in ("a.bin", "foobar.bin", "sub/c.dat"):
        s3dlio.put(root + k, b"z")
    assert s3dlio.list_keys(root) == ["a.bin", "foobar.bin", "sub/"]
    assert s3dlio.list_full_uris(root) == s3dlio.list(root)
    assert bytes(s3dlio.get_object(root + "a.bin")) == b"z"
    assert s3dlio.stat_object(root + "a.bin")["size"] == 1
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert s3dlio.list_objects(root) == ["a.bin", "foobar.bin", "sub/"]
    assert any(issubclass(x.category, DeprecationWarning) for x in w)


def test_mkdir_and_buckets_on_file(root, tmp_path) -> None:
    s3dlio.mkdir(root + "new/dir")
    assert (tmp_path / "new" / "dir").is_dir()
    s3dlio.create_bucket(root + "bkt")
    assert (tmp_path / "bkt").is_dir()
    s3dlio.delete_bucket(root + "bkt")
    assert not (tmp_path / "bkt").exists()
    names = {d["name"] for d in s3dlio.list_containers(root)}
    assert names == {"new"}
    with pytest.raises(s3dlio.InvalidUriError):
        s3dlio.create_bucket("")


def test_object_capabilities() -> None:
    assert s3dlio.object_capabilities("file:///x") == {"provider": "file", "get_into": True, "head": True}
    assert s3dlio.object_capabilities("ftp://x")["provider"] == "unknown"
    with pytest.raises(ValueError):
        s3dlio.object_capabilities("s3://")


def test_parse_s3_uri_full() -> None:
    assert s3dlio.parse_s3_uri_full("s3://10.0.0.1:9000/b/k") == {
        "endpoint": "10.0.0.1:9000", "bucket": "b", "key": "k"}


def test_bulk_put_form_is_dispatched(root) -> None:
    from s3dlio import _api_datagen

    calls = []
    orig = _api_datagen.put_objects
    _api_datagen.put_objects = lambda prefix, num, **kw: calls.append((prefix, num, kw))
    try:
        s3dlio.put(root + "object-{}.bin", 10, "obj-{}-of-{}", size=4096, max_in_flight=8)
        s3dlio.put(prefix=root + "o-{}", num=2, template="t-{}")
    finally:
        _api_datagen.put_objects = orig
    assert calls[0][0] == root + "object-{}.bin" and calls[0][1] == 10
    assert calls[0][2]["template"] == "obj-{}-of-{}" and calls[0][2]["size"] == 4096
    assert calls[1][1] == 2


def test_async_twins(root) -> None:
    s3dlio.put(root + "x", b"outside")
    # made outside a running loop: a coroutine that asyncio.run takes (the original raises here)
    assert bytes(asyncio.run(s3dlio.get_async(root + "x"))) == b"outside"
    early = [s3dlio.get_range_async(root + "x", 0, 3), s3dlio.stat_async(root + "x")]

    async def gather_early() -> list:
        return await asyncio.gather(*early)

    head, meta = asyncio.run(gather_early())
    assert bytes(head) == b"out" and meta["size"] == 7

    async def main() -> None:
        await s3dlio.put_async(root + "a", b"data")
        await s3dlio.put_bytes_async(root + "b", bytearray(b"more"), borrow=False)
        assert bytes(await s3dlio.get_async(root + "a")) == b"data"
        assert bytes(await s3dlio.get_range_async(root + "b", 1, 2)) == b"or"
        assert (await s3dlio.stat_async(root + "a"))["size"] == 4
        assert await s3dlio.exists_async(root + "a")
        got = await s3dlio.get_many_async([root + "a", root + "b"])
        assert [bytes(v) for _, v in got] == [b"data", b"more"]
        assert [s["size"] for s in await s3dlio.stat_many_async([root + "a", root + "b"])] == [4, 4]
        await s3dlio.put_many_async([(root + "c", b"c")], max_in_flight=2)
        await s3dlio.mkdir_async(root + "d")
        buf = bytearray(4)
        assert await s3dlio.get_into_async(root + "a", buf, expected_len=4) == 4 and buf == b"data"
        meta = await s3dlio.head_async(root + "a")
        assert meta.size == 4
        assert await s3dlio.head_async(root + "missing") is None
        assert await s3dlio.get_many_stats_async([root + "a"]) == (1, 4)

    asyncio.run(main())


def test_upload_download_both_forms(root, tmp_path) -> None:
    src = tmp_path / "src"
    (src / "nested").mkdir(parents=True)
    files = {f"f{i}.dat": os.urandom(1000 + i) for i in range(3)}
    for n, d in files.items():
        (src / n).write_bytes(d)
    (src / "skip.txt").write_bytes(b"no")
    (src / "nested" / "inner.dat").write_bytes(b"not top-level")
    s3dlio.upload([str(src / "*.dat")], root + "up")  # the original's form, '/' implied
    assert s3dlio.list(root + "up/") == [root + f"up/{n}" for n in sorted(files)]
    s3dlio.upload(local_dir=str(src), remote_uri=root + "up2/", pattern="*.txt")
    assert s3dlio.list(root + "up2/") == [root + "up2/skip.txt"]
    s3dlio.upload([str(src)], root + "up3/", max_in_flight=2)  # a directory: its top-level files
    assert len(s3dlio.list(root + "up3/")) == 4
    s3dlio.upload([str(src / r"f[12]\.dat")], root + "re/")  # a regex
    assert s3dlio.list(root + "re/") == [root + "re/f1.dat", root + "re/f2.dat"]
    with pytest.raises(s3dlio.S3dlioError, match="No files matched for upload"):
        s3dlio.upload([str(src / "*.none")], root + "x/")

    s3dlio.put(root + "tree/sub/s.dat", b"deep")
    s3dlio.put(root + "tree/top.dat", b"top")
    dl = tmp_path / "dl"
    s3dlio.download(root + "up/", str(dl))
    assert {p: (dl / p).read_bytes() for p in os.listdir(dl)} == files
    s3dlio.download(root + "tree/", str(tmp_path / "dl2"))
    assert (tmp_path / "dl2" / "sub" / "s.dat").read_bytes() == b"deep"
    s3dlio.download(root + "tree/", str(tmp_path / "dl3"), recursive=False)
    assert os.listdir(tmp_path / "dl3") == ["top.dat"]
    s3dlio.download(remote_uri=root + "up/", local_dir=str(tmp_path / "dl4"), pattern="f0*")
    assert os.listdir(tmp_path / "dl4") == ["f0.dat"]


def test_upload_reports_failed_files_by_name(root, tmp_path, monkeypatch) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        (src / f"g{i}.dat").write_bytes(b"x")
    os.chmod(src / "g2.dat", 0)
    if os.access(src / "g2.dat", os.R_OK):  # running as root: make one destination fail instead
        os.chmod(src / "g2.dat", 0o644)
        (tmp_path / "dst").mkdir()
        (tmp_path / "dst" / "g2.dat").mkdir()
    with pytest.raises(s3dlio.TransferError) as ei:
        s3dlio.upload([str(src / "*.dat")], f"file://{tmp_path}/dst/")
    assert "g2.dat" in str(ei.value) and "1 of 4" in str(ei.value)
    assert sorted(os.listdir(tmp_path / "dst")) == ["g0.dat", "g1.dat", "g2.dat", "g3.dat"]


def test_errors_are_runtime_errors_naming_the_uri(root) -> None:
    with pytest.raises(RuntimeError) as ei:
        s3dlio.get(root + "nope")
    assert "nope" in str(ei.value)
    with pytest.raises(RuntimeError, match="Unable to infer backend"):
        s3dlio.get("ftp://invalid/scheme")


def test_logging_is_quiet_by_default(root, capfd) -> None:
    s3dlio.put(root + "q", b"1")
    s3dlio.get(root + "q")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_gcs_tuning_calls_and_reserved_buffer() -> None:
    assert s3dlio.gcs_get_channel_count() == 0
    s3dlio.gcs_set_channel_count(8)
    assert s3dlio.gcs_get_channel_count() == 8
    s3dlio.gcs_set_channel_count(0)
    assert s3dlio.gcs_get_rapid_mode() is None
    s3dlio.gcs_set_rapid_mode(True)
    assert s3dlio.gcs_get_rapid_mode() is True
    s3dlio.gcs_set_rapid_mode()
    assert s3dlio.gcs_query_rapid_bucket("gs://bucket") is False
    assert s3dlio.gcs_query_rapid_bucket("bucket") is False
    with pytest.raises(OverflowError):
        s3dlio.gcs_set_channel_count(-1)
    assert issubclass(s3dlio.ReservedBuffer, bytearray)
