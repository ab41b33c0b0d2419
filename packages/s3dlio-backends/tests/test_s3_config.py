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


def test_missing_credentials_is_a_clear_typed_error(clean_env: pytest.MonkeyPatch, tmp_path: object) -> None:
    import s3dlio
    from s3dlio_core.registry import clear_store_cache

    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
              "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
              "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        clean_env.delenv(k, raising=False)
    clean_env.setenv("AWS_EC2_METADATA_DISABLED", "true")
    clean_env.setenv("AWS_CONFIG_FILE", f"{tmp_path}/no-config")
    clean_env.setenv("AWS_SHARED_CREDENTIALS_FILE", f"{tmp_path}/no-credentials")
    clean_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never reached: credentials come first
    clear_store_cache()
    try:
        with pytest.raises(s3dlio.PermissionDeniedError, match="Missing AWS credentials"):
            s3dlio.get("s3://bucket/key")
        assert s3dlio.exists("s3://bucket/key") is False
    finally:
        clear_store_cache()


def test_refreshable_credentials_are_refreshed(clean_env: pytest.MonkeyPatch, tmp_path: object) -> None:
    """A credential_process profile whose keys expire soon: botocore refreshes them, and the frozen copy
    we sign with follows (each call of the process hands out a new key)."""
    import pathlib
    import sys

    from s3dlio_backends.s3.config import CredentialSource

    d = pathlib.Path(str(tmp_path))
    counter = d / "count"
    script = d / "creds.py"
    script.write_text(
        "import datetime, json, pathlib\n"
        f"p = pathlib.Path({str(counter)!r})\n"
        "n = int(p.read_text()) + 1 if p.exists() else 1\n"
        "p.write_text(str(n))\n"
        "exp = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)\n"
        "print(json.dumps({'Version': 1, 'AccessKeyId': f'AKIAROTATE{n:04d}', 'SecretAccessKey': f'secret{n}',\n"
        "                  'SessionToken': f'token{n}', 'Expiration': exp.strftime('%Y-%m-%dT%H:%M:%SZ')}))\n")
    config = d / "config"
    config.write_text(f"[profile rotating]\ncredential_process = {sys.executable} {script}\n")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        clean_env.delenv(k, raising=False)
    clean_env.setenv("AWS_CONFIG_FILE", str(config))
    clean_env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(d / "none"))
    clean_env.setenv("AWS_PROFILE", "rotating")
    clean_env.setenv("AWS_EC2_METADATA_DISABLED", "true")
    src = CredentialSource()
    first = src.get()
    assert first.access_key.startswith("AKIAROTATE") and first.token and first.token.startswith("token")
    assert src.get() is first  # within the re-check interval the frozen copy is reused
    clean_env.setattr(CredentialSource, "RECHECK_S", 0.0)
    second = src.get()  # expiring within botocore's mandatory window: refreshed
    assert second.access_key != first.access_key and second.secret_key != first.secret_key
    assert "AKIAROTATE" not in repr(src) and "secret" not in repr(second)
