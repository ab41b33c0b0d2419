"""stat (the 16-key dict), exists, and typed not-found errors that name the URI."""

from __future__ import annotations

import re

import pytest
import s3dlio
import s3dlio_core
from s3dlio_core.metadata import STAT_KEYS


def test_stat_has_the_16_keys(store_prefix: str) -> None:
    uri = store_prefix + "meta.bin"
    s3dlio.put(uri, b"x" * 1234)
    st = s3dlio.stat(uri)
    assert tuple(st) == STAT_KEYS and len(st) == 16
    assert st["size"] == 1234 and isinstance(st["size"], int)
    assert isinstance(st["last_modified"], str)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", st["last_modified"]), st["last_modified"]
    assert isinstance(st["etag"], str) and st["etag"]
    assert isinstance(st["metadata"], dict)
    for k in STAT_KEYS[3:15]:
        assert st[k] is None or isinstance(st[k], str), k
    store, _ = s3dlio_core.store_for_uri(uri)
    assert store.stat_many([uri, uri])[1]["size"] == 1234


def test_exists(store_prefix: str) -> None:
    uri = store_prefix + "here.bin"
    assert s3dlio.exists(uri) is False
    s3dlio.put(uri, b"1")
    assert s3dlio.exists(uri) is True
    assert s3dlio.exists(store_prefix + "here") is False  # a prefix of a name is not the object
    assert s3dlio.exists("nope://x/y") is False


def test_not_found_is_typed_and_names_the_uri(store_prefix: str) -> None:
    uri = store_prefix + "does-not-exist.bin"
    for call in (lambda: s3dlio.get(uri), lambda: s3dlio.stat(uri), lambda: s3dlio.get_range(uri, 0, 10),
                 lambda: s3dlio.get_into(uri, bytearray(4))):
        with pytest.raises(s3dlio.ObjectNotFoundError) as ei:
            call()
        assert isinstance(ei.value, RuntimeError)
        assert isinstance(ei.value, FileNotFoundError)
        assert uri in str(ei.value)
        assert ei.value.uri == uri
    with pytest.raises(s3dlio.ObjectNotFoundError):
        s3dlio.get_many([store_prefix + "a-missing-one"])
