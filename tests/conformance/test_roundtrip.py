"""One contract for every store: what goes in comes out, byte for byte, whatever its size."""

from __future__ import annotations

import io
import os

import pytest
import s3dlio

MiB = 1 << 20
SIZES = [0, 1, 5 * MiB + 1]


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


def test_large_roundtrip_64mib(store_prefix: str) -> None:
    """64 MiB: above the multipart and range-split thresholds on object stores."""
    data = os.urandom(64 * MiB)
    uri = store_prefix + "big/obj-64MiB.bin"
    s3dlio.put(uri, data)
    assert s3dlio.stat(uri)["size"] == len(data)
    got = s3dlio.get(uri)
    assert len(got) == len(data)
    assert memoryview(got) == memoryview(data)
    buf = bytearray(len(data))
    assert s3dlio.get_into(uri, buf) == len(data)
    assert buf == data
    tail = s3dlio.get_range(uri, 40 * MiB + 3)
    assert bytes(tail) == data[40 * MiB + 3:]


def test_overwrite_replaces_content(store_prefix: str) -> None:
    uri = store_prefix + "over.bin"
    s3dlio.put(uri, b"first version, longer")
    s3dlio.put(uri, b"second")
    assert bytes(s3dlio.get(uri)) == b"second"
    assert s3dlio.stat(uri)["size"] == 6


def test_put_accepts_buffers_and_streams(store_prefix: str) -> None:
    data = os.urandom(100_000)
    s3dlio.put(store_prefix + "mv.bin", memoryview(data)[10:])
    assert bytes(s3dlio.get(store_prefix + "mv.bin")) == data[10:]
    s3dlio.put(store_prefix + "stream.bin", io.BytesIO(data))
    assert bytes(s3dlio.get(store_prefix + "stream.bin")) == data


def test_get_into_exact_and_mismatch(store_prefix: str) -> None:
    data = os.urandom(3000)
    uri = store_prefix + "into.bin"
    s3dlio.put(uri, data)
    buf = bytearray(3000)
    assert s3dlio.get_into(uri, buf) == 3000
    assert buf == data
    with pytest.raises(s3dlio.LengthMismatchError):
        s3dlio.get_into(uri, bytearray(100))


def test_get_many_into_fills_the_callers_buffers(store_prefix: str) -> None:
    """Store.get_many_into: each object lands in its buffer (sizes in input order), any size mix (an empty
    object, one spanning a range split); a size that differs from its buffer fails naming the object."""
    from s3dlio_core import store_for_uri

    sizes = [3000, 0, 17, 300_000, 3000, 3000] + [4096] * 40
    objs = [(store_prefix + f"many-into/o{i:03d}", os.urandom(n)) for i, n in enumerate(sizes)]
    s3dlio.put_many(objs, 16)
    store, _ = store_for_uri(store_prefix)
    block = bytearray(sum(sizes))  # one block, every object a slice of it (as a loader's batch)
    mv = memoryview(block)
    views, off = [], 0
    for n in sizes:
        views.append(mv[off:off + n])
        off += n
    assert store.get_many_into([(u, v) for (u, _), v in zip(objs, views, strict=True)], 8) == sizes
    assert bytes(block) == b"".join(d for _, d in objs)
    assert store.get_many_into([], 8) == []
    small = [(objs[i][0], bytearray(sizes[i])) for i in (0, 4, 5)]
    assert store.get_many_into(small, 64) == [3000] * 3 and [bytes(b) for _, b in small] == [
        objs[i][1] for i in (0, 4, 5)]
    wrong = [(u, bytearray(len(d))) for u, d in objs[4:]]
    wrong[3] = (objs[7][0], bytearray(4000))
    with pytest.raises(s3dlio.LengthMismatchError) as ei:
        store.get_many_into(wrong, 8)
    assert ei.value.uri == objs[7][0] and ei.value.expected == 4000 and ei.value.actual == 4096
    with pytest.raises(ValueError, match="writable"):
        store.get_many_into([(objs[0][0], bytes(3000))], 8)


def test_ranges(store_prefix: str) -> None:
    data = os.urandom(10_000)
    uri = store_prefix + "ranged.bin"
    s3dlio.put(uri, data)
    assert bytes(s3dlio.get_range(uri, 6, 5)) == data[6:11]
    assert bytes(s3dlio.get_range(uri, 0, 1)) == data[:1]
    assert bytes(s3dlio.get_range(uri, 0)) == data  # open-ended from 0 = whole object
    assert bytes(s3dlio.get_range(uri, 9_000)) == data[9_000:]  # open-ended
    assert bytes(s3dlio.get_range(uri, 9_990, 100)) == data[9_990:]  # length past the end: truncated
    assert bytes(s3dlio.get_range(uri, 9_999, 1)) == data[9_999:]  # the last byte
    assert bytes(s3dlio.get_range(uri, 10_000)) == b""  # starts at the end
    assert bytes(s3dlio.get_range(uri, 50_000, 10)) == b""  # starts past the end
    assert bytes(s3dlio.get_range(uri, 100, 0)) == b""
    r = s3dlio.get_range(uri, 1, 2)
    assert isinstance(r, s3dlio.BytesView)


def test_range_arguments_are_checked(store_prefix: str) -> None:
    uri = store_prefix + "args.bin"
    s3dlio.put(uri, b"0123456789")
    with pytest.raises(OverflowError):
        s3dlio.get_range(uri, -1, 2)
    with pytest.raises(OverflowError):
        s3dlio.get_range(uri, 0, -2)


def test_streaming_writer_roundtrip(store_prefix: str) -> None:
    """The object appears only when the writer closes; an aborted writer leaves nothing."""
    from s3dlio_core import store_for_uri

    uri = store_prefix + "writer/obj.bin"
    store, _ = store_for_uri(uri)
    chunks = [os.urandom(n) for n in (1, 1000, 3 * MiB, 7)]
    w = store.open_writer(uri)
    for c in chunks:
        w.write(c)
    assert not s3dlio.exists(uri)
    assert w.close() == sum(map(len, chunks))
    assert bytes(s3dlio.get(uri)) == b"".join(chunks)

    gone = store_prefix + "writer/aborted.bin"
    w = store.open_writer(gone)
    w.write(b"x" * 1000)
    w.abort()
    assert not s3dlio.exists(gone)
    with pytest.raises(ZeroDivisionError), store.open_writer(gone) as w2:
        w2.write(b"y" * 10)
        raise ZeroDivisionError
    assert not s3dlio.exists(gone)


def test_many_in_input_order(store_prefix: str) -> None:
    items = [(store_prefix + f"many/{i:03d}", os.urandom(i * 37)) for i in range(50)]
    s3dlio.put_many(items, max_in_flight=8)
    got = s3dlio.get_many([u for u, _ in reversed(items)], max_in_flight=8)
    assert [u for u, _ in got] == [u for u, _ in reversed(items)]
    assert [bytes(d) for _, d in got] == [d for _, d in reversed(items)]
