"""Endpoint, region and addressing resolution, from the environment or an S3Config (a store configured in
code, against SeaweedFS); credentials; the retry policy's choices."""

from __future__ import annotations

from typing import Any

import pytest
from s3dlio_backends.retry import backoff_delay, is_retryable_status
from s3dlio_backends.s3.config import Credentials, resolve_endpoint, resolve_region
from s3dlio_testsupport import server_fixtures

_servers = server_fixtures("s3")
s3_test_env = _servers.s3_test_env
seaweedfs_server = _servers.seaweedfs_server
s3_fault_proxy_session = _servers.s3_fault_proxy_session
s3_fault_proxy = _servers.s3_fault_proxy
S3_BUCKET = _servers.S3_BUCKET


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


# ---------------------------------------------------------------- S3Config: a store configured in code
def test_s3_config_validates_and_never_shows_a_secret(clean_env: pytest.MonkeyPatch) -> None:
    from s3dlio_backends.s3 import S3Config, S3Store

    cfg = S3Config(endpoint_url="http://127.0.0.1:9000", region="eu-west-1", access_key_id="AKIAEXAMPLEKEY",
                   secret_access_key="SECRETEXAMPLE", session_token="TOKENEXAMPLE", max_retry_attempts=5)
    store = S3Store(None, cfg)
    for text in (repr(cfg), str(cfg), repr(store)):
        assert "AKIAEXAMPLEKEY" not in text and "SECRETEXAMPLE" not in text and "TOKENEXAMPLE" not in text
    assert "eu-west-1" in repr(cfg) and "max_retry_attempts=5" in repr(cfg)
    assert store.settings.max_retry_attempts == 5  # tunables come from the store's config
    assert store.endpoint.region == "eu-west-1" and store.endpoint.url == "http://127.0.0.1:9000"
    with pytest.raises(ValueError, match="go together"):
        S3Config(access_key_id="AKIA")
    with pytest.raises(ValueError, match="session_token"):
        S3Config(session_token="t")
    with pytest.raises(ValueError, match="addressing_style"):
        S3Config(addressing_style="sideways")


def test_s3_config_endpoint_region_and_addressing_override_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    from s3dlio_backends.s3 import S3Config

    clean_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clean_env.setenv("AWS_REGION", "us-west-2")
    ep = resolve_endpoint(None, S3Config(endpoint_url="https://minio.example:9443/base", region="eu-north-1"))
    assert (ep.scheme, ep.host, ep.port, ep.base_path, ep.region) == ("https", "minio.example", 9443, "/base",
                                                                     "eu-north-1")
    assert ep.virtual_host("my-bucket") is None  # a custom endpoint: path style ...
    ep = resolve_endpoint(None, S3Config(endpoint_url="https://minio.example", addressing_style="virtual"))
    assert ep.virtual_host("my-bucket") == "my-bucket.minio.example"  # ... unless asked for
    clean_env.delenv("AWS_ENDPOINT_URL")
    ep = resolve_endpoint(None, S3Config(addressing_style="path"))
    assert not ep.custom and ep.virtual_host("my-bucket") is None
    assert resolve_endpoint("10.0.0.1:9000", S3Config(endpoint_url="http://ignored:1")).host == "10.0.0.1"
    clean_env.setenv("AWS_S3_ADDRESSING_STYLE", "path")  # the environment still works without a config
    assert resolve_endpoint(None).virtual_host("my-bucket") is None


def test_a_store_configured_in_code_needs_no_environment(seaweedfs_server: Any, clean_env: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """new_store("s3://bucket/", S3Config(...)): endpoint and keys from the config, none in os.environ."""
    import logging
    import uuid

    import s3dlio
    from s3dlio_backends.s3 import S3Config
    from s3dlio_core import new_store, store_for_uri
    from s3dlio_testsupport import s3_procs

    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        clean_env.delenv(k, raising=False)
    cfg = S3Config(endpoint_url=seaweedfs_server.endpoint, region="us-east-1",
                   access_key_id=s3_procs.TEST_KEY, secret_access_key=s3_procs.TEST_SECRET)
    store = new_store(f"s3://{S3_BUCKET}/", cfg)
    assert store is not store_for_uri("s3://b/k")[0]
    uri = f"s3://{S3_BUCKET}/cfg/{uuid.uuid4().hex}"
    store.put(uri, b"configured in code")
    assert bytes(store.get(uri)) == b"configured in code"
    bad = new_store(f"s3://{S3_BUCKET}/", S3Config(endpoint_url=seaweedfs_server.endpoint,
                                                   access_key_id=s3_procs.TEST_KEY,
                                                   secret_access_key="WRONG-SECRET-VALUE"))
    with caplog.at_level(logging.DEBUG), pytest.raises(s3dlio.PermissionDeniedError) as ei:
        bad.get(uri)
    assert uri in str(ei.value)
    assert "WRONG-SECRET-VALUE" not in str(ei.value) + caplog.text + repr(bad)


def test_a_profile_from_the_config(seaweedfs_server: Any, clean_env: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import uuid

    from s3dlio_backends.s3 import S3Config
    from s3dlio_core import new_store
    from s3dlio_testsupport import s3_procs

    creds = tmp_path / "credentials"
    creds.write_text(f"[default]\naws_access_key_id = NOPE\naws_secret_access_key = NOPE\n\n[bench]\n"
                     f"aws_access_key_id = {s3_procs.TEST_KEY}\naws_secret_access_key = {s3_procs.TEST_SECRET}\n")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        clean_env.delenv(k, raising=False)
    clean_env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    clean_env.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    clean_env.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = new_store(f"s3://{S3_BUCKET}/", S3Config(endpoint_url=seaweedfs_server.endpoint, profile="bench"))
    uri = f"s3://{S3_BUCKET}/profile/{uuid.uuid4().hex}"
    store.put(uri, b"p")
    assert store.stat(uri)["size"] == 1
    import s3dlio

    with pytest.raises(s3dlio.PermissionDeniedError, match="'absent'"):
        new_store(f"s3://{S3_BUCKET}/", S3Config(endpoint_url=seaweedfs_server.endpoint, profile="absent")).stat(uri)


def test_tunables_of_the_config_drive_the_request_loop(s3_fault_proxy: Any) -> None:
    from s3dlio_backends.s3 import S3Config
    from s3dlio_core import StorageIOError, new_store
    from s3dlio_core.store_config import StoreConfig

    base = f"s3://{s3_fault_proxy.hostport}/{S3_BUCKET}/tunables"
    one = new_store(base, S3Config(max_retry_attempts=1))
    one.put(base + "/k", b"x")
    s3_fault_proxy.reset(["500", "500", "500"])
    with pytest.raises(StorageIOError):
        one.get(base + "/k")
    assert len(s3_fault_proxy.requests) == 1
    plain = new_store(base, StoreConfig(max_retry_attempts=2))  # a plain StoreConfig: tunables only
    s3_fault_proxy.reset(["500", "500", "500"])
    with pytest.raises(StorageIOError) as ei:
        plain.get(base + "/k")
    assert len(s3_fault_proxy.requests) == 2 and ei.value.retried == 1
