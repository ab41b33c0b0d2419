"""delete: exactly one object; recursive: what the URI selects; missing objects are fine."""

from __future__ import annotations

import s3dlio

from ._helpers import has_directories, rel


def test_delete_one_object(store_prefix: str) -> None:
    p = store_prefix
    s3dlio.put_many([(p + k, b"1") for k in ("foo", "foobar", "foo.bak")])
    s3dlio.delete(p + "foo")
    assert not s3dlio.exists(p + "foo")
    assert s3dlio.exists(p + "foobar") and s3dlio.exists(p + "foo.bak")
    s3dlio.delete(p + "not-there")  # missing is fine
    s3dlio.delete(p + "foo")  # twice is fine


def test_delete_prefix(store_prefix: str) -> None:
    p = store_prefix
    keys = ["dir/a.bin", "dir/b.bin", "dir/sub/c.bin", "dir2/x.bin", "dirx"]
    s3dlio.put_many([(p + k, k.encode()) for k in keys])
    s3dlio.delete(p + "dir/", recursive=True)
    assert s3dlio.list(p + "dir/", recursive=True) == []
    assert rel(p, s3dlio.list(p, recursive=True)) == ["dir2/x.bin", "dirx"]
    s3dlio.delete(p + "empty-prefix/", recursive=True)  # nothing selected: a no-op
    s3dlio.delete(p, recursive=True)
    assert s3dlio.list(p, recursive=True) == []


def test_delete_exact_name_recursive(store_prefix: str) -> None:
    """`foo` recursive = foo itself and everything under foo/, never foobar."""
    p = store_prefix
    keys = ["foo", "foobar", "foo.bak"]
    if not has_directories(p):
        keys.append("foo/inner")  # a filesystem cannot hold a file 'foo' and a directory 'foo/'
    s3dlio.put_many([(p + k, b"1") for k in keys])
    if has_directories(p):
        s3dlio.delete(p + "foo")
    else:
        s3dlio.delete(p + "foo", recursive=True)
    assert rel(p, s3dlio.list(p, recursive=True)) == ["foo.bak", "foobar"]
