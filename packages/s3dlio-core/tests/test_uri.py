"""URI parsing: every scheme, the odd forms of the original, and bad input."""

from __future__ import annotations

import pytest
from s3dlio_core import InvalidUriError, parse_s3_uri_full, parse_uri, scheme_of


@pytest.mark.parametrize(
    ("uri", "scheme", "bucket", "key"),
    [
        ("s3://b/k/a", "s3", "b", "k/a"),
        ("s3://bucket/", "s3", "bucket", ""),
        ("gs://b/o", "gs", "b", "o"),
        ("gcs://b/o/p", "gs", "b", "o/p"),
        ("az://acct/container/blob", "az", "acct", "container/blob"),
        ("azure://container/blob", "az", "container", "blob"),
        ("file:///abs/path.bin", "file", "", "/abs/path.bin"),
        ("file://rel/x", "file", "", "rel/x"),
        ("direct:///nvme/data.bin", "direct", "", "/nvme/data.bin"),
        ("S3://b/k", "s3", "b", "k"),
    ],
)
def test_schemes(uri: str, scheme: str, bucket: str, key: str) -> None:
    p = parse_uri(uri)
    assert (p.scheme, p.bucket, p.key) == (scheme, bucket, key)
    assert p.uri == uri


def test_written_scheme_is_kept_for_results() -> None:
    p = parse_uri("gcs://b/dir/x")
    assert p.base == "gcs://b/"
    assert p.with_key("dir/y") == "gcs://b/dir/y"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://b/k/a", {"endpoint": None, "bucket": "b", "key": "k/a"}),
        ("s3://10.0.0.1:9000/b/k", {"endpoint": "10.0.0.1:9000", "bucket": "b", "key": "k"}),
        ("s3://minio:9000/b/k", {"endpoint": "minio:9000", "bucket": "b", "key": "k"}),
        ("s3://[::1]:9000/b/k", {"endpoint": "[::1]:9000", "bucket": "b", "key": "k"}),
        ("s3://s3.amazonaws.com/b/k", {"endpoint": None, "bucket": "s3.amazonaws.com", "key": "b/k"}),
        ("s3://bucket/", {"endpoint": None, "bucket": "bucket", "key": ""}),
        ("s3://127.0.0.1:8333/bkt/", {"endpoint": "127.0.0.1:8333", "bucket": "bkt", "key": ""}),
    ],
)
def test_parse_s3_uri_full(uri: str, expected: dict) -> None:
    assert parse_s3_uri_full(uri) == expected


def test_endpoint_form_base_keeps_server() -> None:
    p = parse_uri("s3://127.0.0.1:9000/b/dir/k")
    assert p.endpoint == "127.0.0.1:9000"
    assert p.base == "s3://127.0.0.1:9000/b/"


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("s3://bucket", "URI must contain '/' after bucket"),
        ("s3://", "no bucket"),
        ("s3:///key", "empty bucket"),
        ("gs://only", "URI must contain '/' after bucket"),
        ("file://", "no path"),
    ],
)
def test_bad_uris_name_the_uri(uri: str, fragment: str) -> None:
    with pytest.raises(InvalidUriError) as ei:
        parse_uri(uri)
    assert fragment in str(ei.value)
    assert repr(uri) in str(ei.value)
    assert isinstance(ei.value, RuntimeError) and isinstance(ei.value, ValueError)
    assert ei.value.uri == uri


@pytest.mark.parametrize("uri", ["ftp://x/y", "/plain/path", "http://h/b", "", "s3:/b/k", "mem://x"])
def test_unknown_scheme_lists_supported(uri: str) -> None:
    with pytest.raises(InvalidUriError) as ei:
        scheme_of(uri)
    msg = str(ei.value)
    assert "Unable to infer backend from URI" in msg
    for s in ("s3://", "gs://", "az://", "file://", "direct://"):
        assert s in msg


def test_non_string_uri() -> None:
    with pytest.raises(TypeError):
        parse_uri(b"s3://b/k")  # type: ignore[arg-type]


def test_parse_s3_uri_full_rejects_other_schemes() -> None:
    with pytest.raises(InvalidUriError, match="must start with s3://"):
        parse_s3_uri_full("gs://b/k")
