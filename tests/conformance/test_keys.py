"""Keys with spaces, unicode and URL-special characters survive every operation unchanged."""

from __future__ import annotations

import pytest
import s3dlio

NAMES = ["with space.bin", "unicodé-ü-日本.bin", "plus+sign.bin", "percent%20.bin", "hash#tag.bin",
         "query?x=1&y=2.bin", "semi;colon,comma.bin", "tilde~star*paren(1).bin", "at@dollar$eq=.bin"]


@pytest.mark.parametrize("name", NAMES)
def test_odd_key_roundtrip(store_prefix: str, name: str) -> None:
    uri = store_prefix + "odd/" + name
    s3dlio.put(uri, name.encode())
    assert bytes(s3dlio.get(uri)) == name.encode()
    assert bytes(s3dlio.get_range(uri, 1, 3)) == name.encode()[1:4]
    assert s3dlio.stat(uri)["size"] == len(name.encode())
    assert s3dlio.exists(uri)
    listed = s3dlio.list(store_prefix + "odd/")
    assert listed == [uri]
    s3dlio.delete(uri)
    assert not s3dlio.exists(uri)


def test_odd_keys_list_and_delete_recursive(store_prefix: str) -> None:
    p = store_prefix + "odd2/"
    s3dlio.put_many([(p + n, n.encode()) for n in NAMES])
    assert sorted(s3dlio.list(p, recursive=True)) == sorted(p + n for n in NAMES)
    s3dlio.delete(p, recursive=True)
    assert s3dlio.list(p, recursive=True) == []
