"""TFRecord on file://, memory:// and S3: framing byte-identical to TensorFlow's writer, both indexes made in
the writer's pass, the original's index functions (both calling forms), checking reads and bad input."""

from __future__ import annotations

import os
import pathlib
import struct

import pytest
import tensorflow as tf
from s3dlio_core import store_for_uri
from s3dlio_ml.formats import ChecksumError, FormatError, TruncatedError
from s3dlio_ml.formats.tfrecord import (
    TFRecordIndexEntry,
    TFRecordWriter,
    binary_index_bytes,
    build_tfrecord_with_index,
    create_tfrecord_index,
    get_tfrecord_index_entries,
    index_tfrecord_bytes,
    iter_tfrecords,
    read_tfrecord_binary_index,
    read_tfrecord_index,
    read_tfrecord_records,
    tfrecord_with_payload,
)

RECORDS = [b"a" * 10, b"b" * 14, b""]  # the original's worked example: '0 26\n26 30\n56 16\n'


def get(uri: str) -> bytes:
    st, _ = store_for_uri(uri)
    return bytes(st.get(uri))


def put(uri: str, data: object) -> None:
    st, _ = store_for_uri(uri)
    st.put(uri, data)


def examples(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        ex = tf.train.Example(features=tf.train.Features(feature={
            "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i])),
            "blob": tf.train.Feature(bytes_list=tf.train.BytesList(value=[os.urandom(100 + 37 * i)])),
        }))
        out.append(ex.SerializeToString())
    return out


def test_framing_is_byte_identical_to_tensorflows(prefix: str, tmp_path: object) -> None:
    recs = examples(20) + RECORDS + [os.urandom(200_000)]  # one record larger than the staging buffer
    local = f"{tmp_path}/tf.tfrecord"
    with tf.io.TFRecordWriter(local) as w:
        for r in recs:
            w.write(r)
    uri = prefix + "ours.tfrecord"
    with TFRecordWriter(uri) as w:
        for r in recs:
            w.write(r)
    assert get(uri) == pathlib.Path(local).read_bytes()
    assert [bytes(r) for r in iter_tfrecords(uri)] == recs
    assert [r.numpy() for r in tf.data.TFRecordDataset(local)] == recs


def test_reads_across_chunk_boundaries(prefix: str) -> None:
    recs = [os.urandom(n) for n in (0, 1, 90, 300, 7, 1000, 64)]
    data, _, _ = build_tfrecord_with_index(recs)
    uri = prefix + "chunks.tfrecord"
    put(uri, data)
    for chunk in (13, 100, 333, 5000):
        assert [bytes(r) for r in iter_tfrecords(uri, chunk_size=chunk)] == recs, chunk


def test_writer_makes_both_indexes_in_one_pass(prefix: str) -> None:
    uri = prefix + "x.tfrecord"
    w = TFRecordWriter(uri)
    for r in RECORDS:
        w.write(r)
    st, _ = store_for_uri(uri)
    assert not st.exists(uri)  # nothing visible before close
    assert w.close() == 3
    assert get(uri + ".idx").decode() == "0 26\n26 30\n56 16\n"  # DALI: record start, on-wire size
    binary = get(uri + ".index")
    assert [struct.unpack_from("<QQ", binary, 16 * i) for i in range(3)] == [(12, 10), (38, 14), (68, 0)]
    assert read_tfrecord_index(uri + ".idx") == [(0, 26), (26, 30), (56, 16)]
    assert get_tfrecord_index_entries(uri + ".index") == [(0, 26), (26, 30), (56, 16)]  # told apart by content


def test_index_locations_and_abort(prefix: str) -> None:
    uri = prefix + "y.tfrecord"
    with TFRecordWriter(uri, index=prefix + "idx/y.bin", dali_index=False) as w:
        w.write_many(RECORDS)
    st, _ = store_for_uri(uri)
    assert st.exists(prefix + "idx/y.bin") and not st.exists(uri + ".idx") and not st.exists(uri + ".index")
    with pytest.raises(RuntimeError, match="boom"), TFRecordWriter(prefix + "z.tfrecord") as w:
        w.write(b"x" * 100)
        raise RuntimeError("boom")
    assert not st.exists(prefix + "z.tfrecord") and not st.exists(prefix + "z.tfrecord.idx")


def test_the_originals_index_functions() -> None:
    data, binary, dali = build_tfrecord_with_index(RECORDS)
    assert dali == "0 26\n26 30\n56 16\n"
    assert index_tfrecord_bytes(bytes(data)) == dali
    assert index_tfrecord_bytes(bytearray(data)) == dali  # any bytes-like (the original takes bytes only)
    entries = get_tfrecord_index_entries(bytes(data))
    assert entries == [(0, 26), (26, 30), (56, 16)]
    e = entries[1]
    assert isinstance(e, tuple) and e == (26, 30) and tuple(e) == (26, 30)
    assert e["offset"] == 26 and e["size"] == 30 and e.offset == 26 and e[0] == 26
    assert e.data_offset == 38 and e.data_length == 14 and dict(zip(e.keys(), e, strict=True)) == {
        "offset": 26, "size": 30}
    assert read_tfrecord_binary_index(binary) == entries
    assert binary_index_bytes(entries) == binary
    # CRCs are not validated when indexing (as the original): zeroed CRC fields index fine
    zeroed = bytearray(data)
    for off, size in entries:
        zeroed[off + 8:off + 12] = bytes(4)
        zeroed[off + size - 4:off + size] = bytes(4)
    assert index_tfrecord_bytes(bytes(zeroed)) == dali


def test_create_tfrecord_index_both_calling_forms_on_every_scheme(prefix: str, tmp_path: object) -> None:
    recs = examples(50)
    data, _, dali = build_tfrecord_with_index(recs)
    uri = prefix + "train.tfrecord"
    put(uri, data)
    assert create_tfrecord_index(uri) == 50  # the original's form, default output uri + ".idx"
    assert get(uri + ".idx").decode() == dali
    out = f"file://{tmp_path}/spec.idx"
    assert create_tfrecord_index(input_path=uri, output_path=out) == 50  # the spec's form
    assert pathlib.Path(f"{tmp_path}/spec.idx").read_text() == dali
    assert create_tfrecord_index(uri, prefix + "other.idx", binary_index_path=prefix + "other.index") == 50
    assert get_tfrecord_index_entries(prefix + "other.index") == read_tfrecord_index(prefix + "other.idx")
    local = f"{tmp_path}/plain.tfrecord"  # a plain local path, as the original takes
    with open(local, "wb") as f:
        f.write(data)
    assert create_tfrecord_index(local) == 50
    assert pathlib.Path(local + ".idx").read_text() == dali
    with pytest.raises(TypeError):
        create_tfrecord_index()


def test_scanning_large_records_skips_their_data(tmp_path: object, counter: object) -> None:
    """Records larger than a read chunk: the indexer reads headers, not the whole file."""
    from s3dlio_ml.formats import tfrecord

    uri = f"memory://tfr-scan/{id(tmp_path)}.tfrecord"
    recs = [os.urandom(3 * tfrecord.READ_CHUNK // 2) for _ in range(4)]
    data, _, dali = build_tfrecord_with_index(recs)
    put(uri, data)
    counter.clear()  # type: ignore[attr-defined]
    assert create_tfrecord_index(uri) == 4
    assert get(uri + ".idx").decode() == dali
    assert counter.bytes_read(uri) <= len(data)  # type: ignore[attr-defined]
    assert create_tfrecord_index(uri, check_crc=True) == 4


def test_random_access_through_the_index(prefix: str) -> None:
    recs = examples(30)
    uri = prefix + "r.tfrecord"
    with TFRecordWriter(uri) as w:
        w.write_many(recs)
    entries = read_tfrecord_index(uri + ".idx")
    picked = [entries[i] for i in (29, 0, 7, 7, 15)]
    got = read_tfrecord_records(uri, picked)
    assert [bytes(g) for g in got] == [recs[i] for i in (29, 0, 7, 7, 15)]
    st, _ = store_for_uri(uri)
    for e in read_tfrecord_binary_index(get(uri + ".index"))[:5]:
        assert bytes(st.get_range(uri, e.data_offset, e.data_length)) == recs[entries.index(e)]


def test_bad_input_raises_typed_errors_naming_uri_and_offset(prefix: str) -> None:
    data, _, _ = build_tfrecord_with_index(RECORDS)
    bad_crc = bytearray(data)
    bad_crc[30] ^= 1  # a byte of record 1's length field: its CRC no longer matches
    uri = prefix + "bad.tfrecord"
    put(uri, bytes(bad_crc))
    with pytest.raises(ChecksumError, match="length CRC mismatch at offset 26 of " + uri) as ei:
        list(iter_tfrecords(uri))
    assert ei.value.offset == 26 and ei.value.uri == uri
    with pytest.raises(TruncatedError, match="offset 26"):  # unchecked, the corrupt length runs off the end
        list(iter_tfrecords(uri, check_crc=False))
    bad_crc = bytearray(data)
    bad_crc[34] ^= 1  # a byte of record 1's length CRC
    put(uri, bytes(bad_crc))
    with pytest.raises(ChecksumError, match="length CRC mismatch at offset 26"):
        list(iter_tfrecords(uri))
    assert [bytes(r) for r in iter_tfrecords(uri, check_crc=False)] == RECORDS
    bad_data = bytearray(data)
    bad_data[40] ^= 1  # inside record 1's data
    put(uri, bytes(bad_data))
    with pytest.raises(ChecksumError, match="data CRC mismatch at offset 26"):
        list(iter_tfrecords(uri))
    put(uri, bytes(data)[:57])
    with pytest.raises(TruncatedError, match=r"Truncated TFRecord at offset 56: expected 12 header bytes, only 1"):
        list(iter_tfrecords(uri))
    with pytest.raises(TruncatedError, match="offset 56"):
        create_tfrecord_index(uri)
    put(uri, bytes(data)[:50])
    with pytest.raises(TruncatedError, match=r"offset 26: expected 30 bytes, only 24 remaining"):
        list(iter_tfrecords(uri))
    with pytest.raises(TruncatedError, match="offset 56"):
        index_tfrecord_bytes(bytes(data)[:57])
    # malformed DALI index lines name their number
    put(prefix + "bad.idx", b"0 26\n\n26 x\n")
    with pytest.raises(FormatError, match="Invalid format at line 3: expected 'offset size', got '26 x'"):
        read_tfrecord_index(prefix + "bad.idx")
    # an index past the end of its file, or pointing at no record
    put(uri, bytes(data))
    with pytest.raises(TruncatedError, match="past the end of " + uri):
        read_tfrecord_records(uri, [TFRecordIndexEntry(56, 16), TFRecordIndexEntry(72, 30)])
    with pytest.raises(FormatError, match="does not match the record"):
        read_tfrecord_records(uri, [(0, 30)])
    put(prefix + "odd.index", bytes(20))
    with pytest.raises(FormatError, match="not a multiple of 16"):
        get_tfrecord_index_entries(prefix + "odd.index")


def test_bulk_payload_is_one_record(tmp_path: object) -> None:
    rec = tfrecord_with_payload(1000, lambda dst: dst.__setitem__(slice(None), b"z" * 1000))
    assert len(rec) == 1016
    assert index_tfrecord_bytes(bytes(rec)) == "0 1016\n"
    local = f"{tmp_path}/one.tfrecord"
    with open(local, "wb") as f:
        f.write(rec)
    assert [r.numpy() for r in tf.data.TFRecordDataset(local)] == [b"z" * 1000]
