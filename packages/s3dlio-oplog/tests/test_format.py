"""The TSV row format: columns, timestamps, first-byte rules, endpoint/file derivation, unsafe fields."""

from __future__ import annotations

import pytest
from s3dlio_oplog.format import COLUMNS, HEADER, RowFormatter, format_ts, parse_ts, split_endpoint

T0 = 1_795_253_045_462_007_356  # 2026-11-21T09:24:05.462007356Z


def _fields(line: str) -> dict[str, str]:
    assert line.endswith("\n")
    parts = line[:-1].split("\t")
    assert len(parts) == 13
    return dict(zip(COLUMNS, parts, strict=True))


def test_header_is_the_originals_13_columns() -> None:
    assert HEADER == ("idx\tthread\top\tclient_id\tn_objects\tbytes\tendpoint\tfile\terror\tstart\tfirst_byte\t"
                      "end\tduration_ns\n")


def test_rfc3339_nanosecond_timestamps_round_trip() -> None:
    assert format_ts(T0) == "2026-11-21T09:24:05.462007356Z"
    assert format_ts(1_000_000_000) == "1970-01-01T00:00:01.000000000Z"
    assert parse_ts("2026-11-21T09:24:05.462007356Z") == T0
    assert parse_ts("2026-11-21T10:24:05.462007356+01:00") == T0
    assert parse_ts("2026-11-21T09:24:05.5Z") == T0 - 462_007_356 + 500_000_000


@pytest.mark.parametrize(("uri", "endpoint", "file"), [
    ("file:///tmp/x/a.bin", "file://", "/tmp/x/a.bin"),
    ("direct:///mnt/d/a.bin", "direct://", "/mnt/d/a.bin"),
    ("s3://bkt/ol/a.bin", "s3://bkt", "bkt/ol/a.bin"),
    ("az://account/cont/a", "az://account", "account/cont/a"),
    ("gs://b/k", "gs://b", "b/k"),
    ("s3://127.0.0.1:9000/bkt/k", "s3://127.0.0.1:9000", "127.0.0.1:9000/bkt/k"),
])
def test_endpoint_and_file_per_scheme(uri: str, endpoint: str, file: str) -> None:
    assert split_endpoint(uri) == (endpoint, file)


def test_first_byte_rules_and_numbering() -> None:
    f = RowFormatter()
    start, fb, end = T0, T0 + 1000, T0 + 5000
    put = _fields(f.row(("PUT", "s3://b/k", 10, start, 0, end, None, 1, 7)))
    get = _fields(f.row(("GET", "s3://b/k", 10, start, 0, end, None, 1, 7)))
    rng = _fields(f.row(("GET_RANGE", "s3://b/k", 3, start, fb, end, None, 1, 7)))
    head = _fields(f.row(("HEAD", "s3://b/k", 10, start, 0, end, None, 1, 7)))
    lst = _fields(f.row(("LIST", "s3://b/", 0, start, 0, end, None, 42, 7)))
    assert [r["idx"] for r in (put, get, rng, head, lst)] == ["0", "1", "2", "3", "4"]
    assert put["first_byte"] == put["start"]  # writes: first byte = start when not reported
    assert get["first_byte"] == get["end"]  # reads: = end when not reported
    assert rng["first_byte"] == format_ts(fb)  # reported by the store
    assert head["first_byte"] == "" and lst["first_byte"] == ""
    assert lst["n_objects"] == "42" and put["bytes"] == "10" and get["duration_ns"] == "5000"
    assert put["client_id"] == "" and put["thread"] == "7" and put["error"] == ""
    assert f.counters()["written"] == 5


def test_error_text_is_normalised_and_unsafe_uris_rejected() -> None:
    f = RowFormatter()
    row = _fields(f.row(("GET", "file:///a", 0, T0, 0, T0 + 1, "Boom:\tline1\nline2\r", 1, 1)))
    assert row["error"] == "Boom: line1 line2 "
    assert f.row(("GET", "file:///a\tb", 0, T0, 0, T0 + 1, None, 1, 1)) is None
    assert f.row(("GET",)) is None  # malformed record
    nxt = _fields(f.row(("GET", "file:///c", 0, T0, 0, T0 + 1, None, 1, 1)))
    assert nxt["idx"] == "3"  # rejected rows leave gaps
    c = f.counters()
    assert c == {"written": 2, "rejected_unformattable": 1, "rejected_unsafe_field": 1,
                 "normalized_error_text": 1}


def test_batch_formatting_matches_row_by_row() -> None:
    recs = [
        ("GET", "file:///tmp/a", 4096, T0, 0, T0 + 5000, None, 1, 7),
        ("PUT", "s3://b/k", 10, T0 + 1, 0, T0 + 2_000_000_000, None, 1, 2**64 - 1),
        ("GET_RANGE", "s3://b/k", 3, T0, T0 + 10, T0 + 20, None, 1, 7),
        ("LIST", "az://acct/c/", 0, T0, 0, T0 + 1, None, 12, 7),
        ("GET", "gs://b/x", 0, T0, 0, T0 + 1, "NotFound: gone", 1, 7),
    ]
    fast, slow = RowFormatter(), RowFormatter()
    assert fast.rows(recs) == "".join(slow.row(r) for r in recs)
    assert fast.counters() == slow.counters() and fast.idx == 5
    odd = [*recs[:2],
           ("GET", "file:///t\tab", 1, T0, 0, T0 + 1, None, 1, 7),
           ("HEAD", "relative", 1, T0, 0, T0, None, 1, 7),
           ("GET", "s3://b/e", 0, T0, 0, T0 + 1, "multi\nline", 1, 7)]
    text = fast.rows(odd)  # falls back to row by row: the unsafe row is rejected, the error cleaned
    lines = text.splitlines()
    assert [ln.split("\t")[0] for ln in lines] == ["5", "6", "8", "9"]
    assert lines[-1].split("\t")[8] == "multi line"
    assert fast.counters()["rejected_unsafe_field"] == 1
