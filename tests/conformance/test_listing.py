"""List selection rules (the original's "exact URI selection", features §1.2.1) and paging."""

from __future__ import annotations

import pytest
import s3dlio

from ._helpers import has_directories, rel

# A real difference, not a gap: the original's direct:// lists files only (features §1.2.1, "direct://
# listings omit directories"); these tests expect 'sub/' entries in non-recursive listings. direct://'s own
# listing rules are tested in packages/s3dlio-backends/tests/test_direct.py.
DIRECT_OMITS_DIRECTORIES = ("direct:// listings omit directory entries, as the original's do (features §1.2.1); "
                            "tested in packages/s3dlio-backends/tests/test_direct.py")

KEYS = ["dir/a.bin", "dir/b.bin", "dir/sub/c.bin", "dir2/x.bin", "dirx", "foo", "foobar", "foo.bak"]


def _populate(p: str, with_inner: bool) -> list[str]:
    keys = [*KEYS, "foo/inner"] if with_inner else list(KEYS)
    s3dlio.put_many([(p + k, k.encode()) for k in keys], max_in_flight=16)
    return keys


def test_list_common_rules(store_prefix: str) -> None:
    """Rules every store shares (no object `foo` beside a directory `foo/`)."""
    if store_prefix.startswith("direct://"):
        pytest.skip(DIRECT_OMITS_DIRECTORIES)
    p = store_prefix
    keys = _populate(p, with_inner=False)
    assert rel(p, s3dlio.list(p)) == ["dir/", "dir2/", "dirx", "foo", "foo.bak", "foobar"]
    assert rel(p, s3dlio.list(p, recursive=True)) == sorted(keys)
    assert rel(p, s3dlio.list(p + "dir/")) == ["dir/a.bin", "dir/b.bin", "dir/sub/"]
    assert rel(p, s3dlio.list(p + "dir/", recursive=True)) == ["dir/a.bin", "dir/b.bin", "dir/sub/c.bin"]
    assert rel(p, s3dlio.list(p + "dir", recursive=True)) == ["dir/a.bin", "dir/b.bin", "dir/sub/c.bin"]
    assert rel(p, s3dlio.list(p + "foo")) == ["foo"]  # never foobar, foo.bak
    assert rel(p, s3dlio.list(p + "foo", recursive=True)) == ["foo"]
    assert rel(p, s3dlio.list(p + "dir/sub/c.bin")) == ["dir/sub/c.bin"]
    assert s3dlio.list(p + "nothing-here/") == []
    assert s3dlio.list(p + "nothing-here", recursive=True) == []


def test_list_pattern(store_prefix: str) -> None:
    p = store_prefix
    keys = _populate(p, with_inner=False)
    assert rel(p, s3dlio.list(p, recursive=True, pattern=r"\.bin$")) == sorted(
        k for k in keys if k.endswith(".bin"))
    assert rel(p, s3dlio.list(p + "dir/", recursive=True, pattern=r"^sub/")) == ["dir/sub/c.bin"]
    with pytest.raises(RuntimeError, match="Invalid regex"):
        s3dlio.list(p, pattern="(")


def test_list_object_store_selection_table(store_prefix: str) -> None:
    """The object-store rows of the selection table: an object `foo` beside `foo/inner`, a directory
    entry for an exact name, and globs."""
    if has_directories(store_prefix):
        pytest.skip("a filesystem cannot hold a file 'foo' and a directory 'foo/' at once, lists "
                    "'d' like 'd/' and does not expand globs (features §1.2.1, file:// selection)")
    p = store_prefix
    _populate(p, with_inner=True)
    assert rel(p, s3dlio.list(p)) == ["dir/", "dir2/", "dirx", "foo", "foo.bak", "foo/", "foobar"]
    assert len(s3dlio.list(p, recursive=True)) == 9
    assert rel(p, s3dlio.list(p + "dir")) == ["dir/"]
    assert rel(p, s3dlio.list(p + "foo")) == ["foo", "foo/"]
    assert rel(p, s3dlio.list(p + "foo", recursive=True)) == ["foo", "foo/inner"]
    assert rel(p, s3dlio.list(p + "foo*")) == ["foo", "foo.bak", "foobar"]
    assert rel(p, s3dlio.list(p + "dir*")) == ["dirx"]
    assert rel(p, s3dlio.list(p + "dir*", recursive=True)) == ["dirx"]
    assert rel(p, s3dlio.list(p + "dir/**")) == ["dir/a.bin", "dir/b.bin", "dir/sub/c.bin"]
    assert rel(p, s3dlio.list(p + "dir/*.bin", recursive=True)) == ["dir/a.bin", "dir/b.bin"]


def test_list_keys_helper(store_prefix: str) -> None:
    if store_prefix.startswith("direct://"):
        pytest.skip(DIRECT_OMITS_DIRECTORIES)
    p = store_prefix
    _populate(p, with_inner=False)
    assert sorted(s3dlio.list_keys(p + "dir/")) == ["a.bin", "b.bin", "sub/"]


def test_list_pages_past_1000_keys(store_prefix: str) -> None:
    """More keys than one listing page holds: every key comes back once, in both listing modes."""
    if store_prefix.startswith("direct://"):
        pytest.skip(DIRECT_OMITS_DIRECTORIES)
    p = store_prefix + "paged/"
    n = 1100
    names = [f"k{i:05d}" for i in range(n)] + [f"sub{i}/x" for i in range(3)]
    s3dlio.put_many([(p + k, b"") for k in names], max_in_flight=32)
    flat = s3dlio.list(p, recursive=True)
    assert len(flat) == len(set(flat)) == len(names)
    assert rel(p, flat) == sorted(names)
    top = s3dlio.list(p)
    assert rel(p, top) == sorted([f"k{i:05d}" for i in range(n)] + [f"sub{i}/" for i in range(3)])
    s3dlio.delete(p, recursive=True)
    assert s3dlio.list(p, recursive=True) == []
