"""Parquet (the original 0.10.0 API) on file://, memory:// and S3: generated files as the original's, the
footer read once per process with a suffix range, a row group by one ranged read of its column chunks
(bytes counted), PyParquetIndex's methods and repr, the completion-order stream, bad input."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from s3dlio_core import store_for_uri
from s3dlio_ml.formats import FormatError
from s3dlio_ml.formats import parquet as P
from s3dlio_ml.formats.parquet import (
    NotIndexedError,
    OutOfRangeError,
    PyParquetIndex,
    generate_and_write_parquet,
    generate_and_write_parquet_schema,
    generate_and_write_parquet_schema_streaming,
    generate_parquet_bytes,
    generate_parquet_bytes_schema,
    iter_parquet_row_groups,
    parquet_cache_clear,
    parquet_cache_invalidate,
    parquet_cache_len,
    parquet_get_rg,
    parquet_rg_row_offsets,
)


def get(uri: str) -> bytes:
    st, _ = store_for_uri(uri)
    return bytes(st.get(uri))


def table(uri: str) -> pa.Table:
    return pq.read_table(pa.BufferReader(get(uri)))


def bits(t: pa.Table) -> list[bytes]:
    """Each column's float32 bits (random bits hold NaNs, which never compare equal)."""
    out = []
    for col in t.columns:
        arr = col.combine_chunks()
        if pa.types.is_fixed_size_list(arr.type):
            arr = arr.flatten()
        out.append(np.asarray(arr).view(np.uint32).tobytes())
    return out


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    parquet_cache_clear()


def test_generated_files_look_like_the_originals() -> None:
    f = pq.ParquetFile(pa.BufferReader(bytes(generate_parquet_bytes(3, 10, 2))))
    assert f.schema_arrow == pa.schema([pa.field(f"col{i}", pa.float32(), nullable=False) for i in range(3)])
    md = f.metadata
    assert md.num_row_groups == 2 and md.num_rows == 20
    c = md.row_group(0).column(0)
    assert c.compression == "UNCOMPRESSED" and not c.is_stats_set and not c.has_dictionary_page
    f = pq.ParquetFile(pa.BufferReader(bytes(generate_parquet_bytes_schema([("x", 1), ("emb", 4)], 5, 3))))
    assert f.schema_arrow.field("emb").type == pa.list_(pa.field("element", pa.float32(), nullable=False), 4)
    assert f.metadata.num_rows == 15
    t1 = pq.read_table(pa.BufferReader(bytes(generate_parquet_bytes(2, 8, 1))))
    t2 = pq.read_table(pa.BufferReader(bytes(generate_parquet_bytes(2, 8, 1))))
    assert bits(t1) != bits(t2)  # random values
    assert pq.ParquetFile(pa.BufferReader(bytes(generate_parquet_bytes(1, 1, 0)))).metadata.num_row_groups == 0
    for bad in ((0, 1, 1), (1, 0, 1), (1, 1, -1)):
        with pytest.raises(ValueError):
            generate_parquet_bytes(*bad)
    for cols in ([], [("a", 0)], [("a",)], "ab"):
        with pytest.raises(ValueError):
            generate_parquet_bytes_schema(cols, 2, 1)


def test_write_functions_on_every_scheme(prefix: str) -> None:
    generate_and_write_parquet(prefix + "a.parquet", 3, 10, 2)
    generate_and_write_parquet_schema(prefix + "b.parquet", [("x", 1), ("emb", 4)], 5, 3)
    generate_and_write_parquet_schema_streaming(prefix + "c.parquet", [("x", 1), ("emb", 4)], 7, 4)
    assert table(prefix + "a.parquet").num_rows == 20
    assert table(prefix + "b.parquet").num_rows == 15
    t = table(prefix + "c.parquet")
    assert t.num_rows == 28 and t.schema.names == ["x", "emb"]
    assert pq.ParquetFile(pa.BufferReader(get(prefix + "c.parquet"))).metadata.num_row_groups == 4


def test_streaming_failure_leaves_no_object(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = P._Schema.table

    def failing(self: P._Schema, rows: int) -> pa.Table:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("generation failed")
        return real(self, rows)

    monkeypatch.setattr(P._Schema, "table", failing)
    with pytest.raises(RuntimeError, match="generation failed"):
        generate_and_write_parquet_schema_streaming(prefix + "broken.parquet", [("x", 2)], 4, 5)
    st, _ = store_for_uri(prefix + "broken.parquet")
    assert not st.exists(prefix + "broken.parquet")


def test_row_offsets_and_the_footer_cache(prefix: str, counter: object) -> None:
    uri = prefix + "o.parquet"
    generate_and_write_parquet(uri, 2, 7, 3)
    counter.clear()  # type: ignore[attr-defined]
    assert parquet_rg_row_offsets(uri) == [0, 7, 14, 21]
    assert parquet_cache_len() == 1
    assert parquet_rg_row_offsets(uri) == [0, 7, 14, 21]
    assert len(counter.reads(uri)) == 1  # type: ignore[attr-defined]  # one suffix read, then the cache
    parquet_cache_invalidate(uri)
    assert parquet_cache_len() == 0
    parquet_rg_row_offsets(uri)
    parquet_cache_clear()
    assert parquet_cache_len() == 0


def test_get_rg_reads_the_footer_once_then_only_the_row_group(prefix: str, counter: object) -> None:
    uri = prefix + "big.parquet"
    generate_and_write_parquet(uri, 8, 32 << 10, 6)  # 6 row groups of 1 MiB
    whole = table(uri)
    meta = pq.ParquetFile(pa.BufferReader(get(uri))).metadata
    size = len(get(uri))
    counter.clear()  # type: ignore[attr-defined]
    for rg in (4, 1):
        bv = parquet_get_rg(uri, rg)
        got = pa.ipc.open_stream(bytes(bv)).read_all()
        assert got.schema == whole.schema and bits(got) == bits(whole.slice(rg * (32 << 10), 32 << 10))
    reads = counter.reads(uri)  # type: ignore[attr-defined]
    rg_bytes = [meta.row_group(i).total_byte_size for i in (4, 1)]
    footer = meta.serialized_size + 8
    assert len(reads) == 3  # the footer (suffix) once, then one range per row group
    assert footer <= reads[0].bytes <= 64 << 10
    assert [r.bytes for r in reads[1:]] == rg_bytes
    assert sum(r.bytes for r in reads) < size // 2


def test_get_rg_columns_raw_and_arrow(prefix: str, counter: object) -> None:
    uri = prefix + "cols.parquet"
    generate_and_write_parquet(uri, 4, 100, 2)
    whole = table(uri)
    meta = pq.ParquetFile(pa.BufferReader(get(uri))).metadata
    got = pa.ipc.open_stream(bytes(parquet_get_rg(uri, 1, col_indices=[2]))).read_all()
    assert got.schema.names == ["col2"] and bits(got) == bits(whole.select([2]).slice(100, 100))
    blob = get(uri)
    counter.clear()  # type: ignore[attr-defined]
    raw = parquet_get_rg(uri, 0, decode="raw")
    one = parquet_get_rg(uri, 0, col_indices=[1], decode="none")
    assert counter.bytes_read(uri) == len(raw) + len(one)  # type: ignore[attr-defined]
    c0, c3 = meta.row_group(0).column(0), meta.row_group(0).column(3)
    assert len(raw) == c3.data_page_offset + c3.total_compressed_size - c0.data_page_offset
    assert bytes(raw) == blob[c0.data_page_offset:c0.data_page_offset + len(raw)]
    assert len(one) == meta.row_group(0).column(1).total_compressed_size


def test_footer_larger_than_the_first_read(tmp_path: object, counter: object) -> None:
    uri = f"memory://pq-footer/{id(tmp_path)}.parquet"
    generate_and_write_parquet(uri, 300, 4, 20)  # a wide file: the footer is far more than 64 KiB
    footer = pq.ParquetFile(pa.BufferReader(get(uri))).metadata.serialized_size
    assert footer > 64 << 10
    counter.clear()  # type: ignore[attr-defined]
    assert parquet_rg_row_offsets(uri, footer_cap=1000)[-1] == 80
    reads = counter.reads(uri)  # type: ignore[attr-defined]
    assert [r.bytes for r in reads] == [1000, footer + 8]


def test_pyparquetindex_methods_and_repr(prefix: str) -> None:
    a, b = prefix + "a.parquet", prefix + "b.parquet"
    generate_and_write_parquet(a, 3, 10, 2)
    generate_and_write_parquet_schema(b, [("x", 1), ("e", 2)], 5, 3)
    idx = PyParquetIndex()
    assert repr(idx) == "PyParquetIndex(files=0, rgs=0, col_indices=None, footer_cap=4194304)" and len(idx) == 0
    idx.ensure_indexed([a, b], epoch=1)
    assert repr(idx) == "PyParquetIndex(files=2, rgs=5, col_indices=None, footer_cap=4194304)" and len(idx) == 5
    meta = pq.ParquetFile(pa.BufferReader(get(a))).metadata
    rg1 = meta.row_group(1)
    off = rg1.column(0).data_page_offset
    ln = rg1.column(2).data_page_offset + rg1.column(2).total_compressed_size - off
    assert idx.rg_lookup(a, 15) == (1, off, ln)
    assert idx.rg_for_sample(a, 15) == 1 and idx.rg_for_sample(a, 9) == 0
    assert idx.rg_range(a, 1) == (off, ln)
    st, _ = store_for_uri(a)
    assert bytes(st.get_range(a, off, ln)) == bytes(parquet_get_rg(a, 1, decode="raw"))
    assert idx.file_count() == 2 and idx.file_rg_count(b) == 3 and idx.file_rg_count(prefix + "x") is None
    assert idx.is_indexed(a) and not idx.is_indexed(prefix + "x")
    # the epochs: as the original (fetched-in-epoch per row group)
    assert idx.was_fetched(a, 1, 1) is False
    assert idx.check_and_mark(a, 1, 1) is False
    assert idx.was_fetched(a, 1, 1) is True
    assert idx.check_and_mark(a, 1, 1) is True
    assert idx.check_and_mark(a, 1, 2) is False
    idx.mark_fetched(a, 0, 3)
    assert idx.was_fetched(a, 0, 3) and not idx.was_fetched(a, 0, 2)
    idx.mark_fetched(prefix + "nope", 0, 1)  # ignored
    assert idx.was_fetched(prefix + "nope", 0, 1) is False
    idx.ensure_indexed([a, b], epoch=2)  # no-op: entries kept across epochs
    assert idx.was_fetched(a, 0, 3)
    with pytest.raises(NotIndexedError, match="URI not indexed: " + prefix + "nope"):
        idx.rg_lookup(prefix + "nope", 0)
    with pytest.raises(NotIndexedError, match=r"RG \(.*a\.parquet, 7\) not in index"):
        idx.rg_range(a, 7)
    with pytest.raises(OutOfRangeError, match="sample 20 is past the end"):
        idx.rg_lookup(a, 20)
    idx.invalidate_uri(a)
    assert repr(idx) == "PyParquetIndex(files=1, rgs=3, col_indices=None, footer_cap=4194304)"
    idx.clear()
    assert len(idx) == 0 and idx.file_count() == 0
    cols = PyParquetIndex(col_indices=[0], footer_cap=1000)
    assert repr(cols) == "PyParquetIndex(files=0, rgs=0, col_indices=Some([0]), footer_cap=1000)"
    cols.ensure_indexed([a])
    assert cols.rg_range(a, 0) == (meta.row_group(0).column(0).data_page_offset,
                                   meta.row_group(0).column(0).total_compressed_size)


def test_stream_of_row_groups_for_the_loaders(prefix: str) -> None:
    uris = [prefix + f"s{i}.parquet" for i in range(3)]
    for i, u in enumerate(uris):
        generate_and_write_parquet(u, 2, 5, i + 1)
    items = list(iter_parquet_row_groups(uris, prefetch=2))
    assert sorted((it.file_uri, it.rg_idx) for it in items) == [(u, r) for i, u in enumerate(uris)
                                                                 for r in range(i + 1)]
    it = items[0]
    assert it.byte_count == len(it) == len(bytes(it)) == len(it.data)
    assert repr(it) == f'PyParquetItem(file_uri="{it.file_uri}", rg_idx={it.rg_idx}, byte_count={it.byte_count})'
    arrow = next(iter_parquet_row_groups(uris[:1], columns=["col1"], decode="arrow"))
    assert pa.ipc.open_stream(bytes(arrow.data)).read_all().schema.names == ["col1"]
    gen = iter_parquet_row_groups(uris, prefetch=1)
    next(gen)
    gen.close()  # closing early cancels the rest


def test_bad_input(prefix: str) -> None:
    uri = prefix + "good.parquet"
    generate_and_write_parquet(uri, 3, 10, 2)
    with pytest.raises(OutOfRangeError, match=r"rg_idx 5 out of range for .*good\.parquet.* \(2 row groups\)"):
        parquet_get_rg(uri, 5)
    with pytest.raises(OutOfRangeError, match="column index 9 out of range"):
        parquet_get_rg(uri, 0, col_indices=[9])
    with pytest.raises(ValueError, match="decode must be one of"):
        parquet_get_rg(uri, 0, decode="xx")
    st, _ = store_for_uri(uri)
    st.put(prefix + "not.parquet", b"x" * 100)
    with pytest.raises(FormatError, match=r"not\.parquet.* is not a valid Parquet file"):
        parquet_get_rg(prefix + "not.parquet", 0)
    blob = get(uri)
    st.put(prefix + "short.parquet", blob[-20:])  # magic and a footer length longer than the object
    with pytest.raises(FormatError, match="footer"):
        parquet_rg_row_offsets(prefix + "short.parquet")
    st.put(prefix + "garbled.parquet", b"PAR1" + bytes(200) + (100).to_bytes(4, "little") + b"PAR1")
    with pytest.raises(FormatError, match="unreadable Parquet footer"):
        parquet_rg_row_offsets(prefix + "garbled.parquet")
