"""Endpoint, region and addressing resolution; the retry policy's choices."""

from __future__ import annotations

import pytest
from s3dlio_backends.retry import backoff_delay, is_retryable_status
from s3dlio_backends.s3.config import Credentials, resolve_endpoint, resolve_region


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for k in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION",
              "S3DLIO_S3_ENDPOINT_TLS_PORTS", "AWS_S3_ADDRESSING_STYLE"):
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


def test_region_order(clean_env: pytest.MonkeyPatch) -> None:
    assert resolve_region() == "us-east-1"
    clean_env.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert resolve_region() == "eu-west-1"
    clean_env.setenv("AWS_REGION", "ap-south-1")
    assert resolve_region() == "ap-south-1"


def test_endpoint_from_env_and_uri(clean_env: pytest.MonkeyPatch) -> None:
    ep = resolve_endpoint(None)
    assert (ep.scheme, ep.host, ep.port, ep.custom) == ("https", "s3.us-east-1.amazonaws.com", 443, False)
    assert ep.virtual_host("my-bucket") == "my-bucket.s3.us-east-1.amazonaws.com"
    assert ep.virtual_host("Bad_Name") is None
    clean_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    ep = resolve_endpoint(None)
    assert (ep.scheme, ep.host, ep.port, ep.custom) == ("http", "127.0.0.1", 9000, True)
    assert ep.virtual_host("my-bucket") is None  # path style whenever an endpoint is set
    clean_env.setenv("AWS_ENDPOINT_URL_S3", "https://minio.local")
    ep = resolve_endpoint(None)
    assert (ep.scheme, ep.host, ep.port) == ("https", "minio.local", 443)
    assert ep.host_header() == "minio.local"
    ep = resolve_endpoint("10.0.0.1:9000")
    assert (ep.scheme, ep.host, ep.port) == ("http", "10.0.0.1", 9000)
    assert ep.host_header() == "10.0.0.1:9000"
    assert resolve_endpoint("s3.example.com:443").scheme == "https"
    clean_env.setenv("S3DLIO_S3_ENDPOINT_TLS_PORTS", "9443, 8443")
    assert resolve_endpoint("10.0.0.1:9443").scheme == "https"
    assert resolve_endpoint("10.0.0.1:9000").scheme == "http"
    ep6 = resolve_endpoint("[::1]:9000")
    assert (ep6.host, ep6.port, ep6.host_header()) == ("::1", 9000, "[::1]:9000")


def test_credentials_repr_is_redacted() -> None:
    c = Credentials("AKIAEXAMPLE", "SECRETEXAMPLE", "TOKENEXAMPLE")
    for text in (repr(c), str(c)):
        assert "AKIAEXAMPLE" not in text and "SECRETEXAMPLE" not in text and "TOKENEXAMPLE" not in text


def test_retry_policy() -> None:
    for status in (429, 500, 502, 503, 504):
        assert is_retryable_status(status)
    for status in (400, 401, 403, 404, 409, 412, 416):
        assert not is_retryable_status(status)
    for attempt in range(1, 10):
        d = backoff_delay(attempt)
        assert 0 <= d <= min(20.0, 0.05 * 2 ** (attempt - 1))
    assert backoff_delay(1, throttled=True) <= 0.5
