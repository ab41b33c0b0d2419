"""map_object: file:// objects as private, populated memory mappings (no copy); other stores refuse."""

from __future__ import annotations

import pathlib

import pytest
from s3dlio_core import UnsupportedOperationError, store_for_uri
from s3dlio_core.instrument import add_observer, remove_observer


def test_file_objects_map_privately(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "obj.bin"
    p.write_bytes(b"0123456789" * 1000)
    uri = f"file://{p}"
    store = store_for_uri(uri)[0]
    assert store.capabilities.mmap
    m = store.map_object(uri)
    assert len(m) == 10_000 and bytes(m[:10]) == b"0123456789"
    m[0:1] = b"X"  # copy-on-write: the object is unchanged
    assert p.read_bytes()[:1] == b"0"
    (tmp_path / "empty").write_bytes(b"")
    assert len(store.map_object(f"file://{tmp_path}/empty")) == 0


def test_a_map_is_traced_as_a_get(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "o"
    p.write_bytes(b"x" * 123)
    seen = []
    obs = seen.append
    add_observer(obs)
    try:
        store_for_uri(f"file://{p}")[0].map_object(f"file://{p}")
    finally:
        remove_observer(obs)
    assert [(r.op, r.bytes) for r in seen] == [("GET", 123)]


def test_stores_without_local_files_refuse() -> None:
    store = store_for_uri("memory://b/k")[0]
    store.put("memory://b/k", b"v")
    assert not store.capabilities.mmap
    with pytest.raises(UnsupportedOperationError, match="cannot be memory-mapped"):
        store.map_object("memory://b/k")
