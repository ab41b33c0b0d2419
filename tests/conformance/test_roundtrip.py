"""One contract for every store: what goes in comes out, byte for byte, with the same rules."""

from __future__ import annotations

import os

import pytest
import s3dlio
import s3dlio_core

SIZES = [0, 1, 5 * (1 << 20) + 1]


@pytest.mark.parametrize("size", SIZES, ids=lambda n: f"{n}B")
def test_put_get_roundtrip(store_prefix: str, size: int) -> None:
    data = os.urandom(size)
    uri = store_prefix + f"obj-{size}.bin"
    s3dlio.put(uri, data)
    got = s3dlio.get(uri)
    assert isinstance(got, s3dlio.BytesView)
    assert len(got) == size
    assert bytes(got) == data
    assert s3dlio.stat(uri)["size"] == size


def test_ranges(store_prefix: str) -> None:
    data = os.urandom(10_000)
    uri = store_prefix + "ranged.bin"
    s3dlio.put(uri, data)
    assert bytes(s3dlio.get_range(uri, 6, 5)) == data[6:11]
    assert bytes(s3dlio.get_range(uri, 9_000)) == data[9_000:]  # open-ended
    assert bytes(s3dlio.get_range(uri, 9_990, 100)) == data[9_990:]  # length past the end


def test_missing_object_is_typed_error(store_prefix: str) -> None:
    uri = store_prefix + "does-not-exist.bin"
    with pytest.raises(s3dlio.ObjectNotFoundError) as ei:
        s3dlio.get(uri)
    assert isinstance(ei.value, RuntimeError)
    assert "does-not-exist.bin" in str(ei.value)
    with pytest.raises(s3dlio.ObjectNotFoundError):
        s3dlio.stat(uri)
    assert s3dlio.exists(uri) is False


def test_list_delete_rules(store_prefix: str) -> None:
    keys = ["dir/a.bin", "dir/b.bin", "dir/sub/c.bin", "dir2/x.bin", "dirx", "foo", "foobar", "foo.bak"]
    store, _ = s3dlio_core.store_for_uri(store_prefix)
    if not store.capabilities.directories:
        keys.append("foo/inner")  # a filesystem cannot hold a file 'foo' and a directory 'foo/' at once
    for k in keys:
        s3dlio.put(store_prefix + k, k.encode())
    p = store_prefix
    assert sorted(s3dlio.list(p, recursive=True)) == sorted(p + k for k in keys)
    assert sorted(s3dlio.list(p + "dir/")) == [p + "dir/a.bin", p + "dir/b.bin", p + "dir/sub/"]
    assert sorted(s3dlio.list(p + "dir", recursive=True)) == [p + "dir/a.bin", p + "dir/b.bin",
                                                                p + "dir/sub/c.bin"]
    assert sorted(s3dlio.list(p, recursive=True, pattern=r"\.bin$")) == sorted(
        p + k for k in keys if k.endswith(".bin"))
    s3dlio.delete(p + "foo")  # exactly one object
    assert not s3dlio.exists(p + "foo")
    assert s3dlio.exists(p + "foobar")
    s3dlio.delete(p + "not-there")  # missing is fine
    s3dlio.delete(p + "dir/", recursive=True)
    assert s3dlio.list(p + "dir/", recursive=True) == []
    assert s3dlio.exists(p + "dir2/x.bin") and s3dlio.exists(p + "dirx")


def test_keys_with_odd_characters(store_prefix: str) -> None:
    for name in ["with space.bin", "unicodé-ü-日本.bin", "plus+sign.bin", "percent%20.bin", "hash#tag.bin"]:
        uri = store_prefix + "odd/" + name
        s3dlio.put(uri, name.encode())
        assert bytes(s3dlio.get(uri)) == name.encode()
        assert uri in s3dlio.list(store_prefix + "odd/")
