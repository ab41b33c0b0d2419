"""az:// against a real Azurite: URI forms, credentials, staged blocks, ranged reads, paging, batch delete."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import s3dlio
import s3dlio_core
import s3dlio_core.registry as registry
from s3dlio_backends.azure import AzureConfig, AzureStore
from s3dlio_core.metadata import STAT_KEYS
from s3dlio_core.settings import configure, settings
from s3dlio_testsupport import server_fixtures
from s3dlio_testsupport.azurite import AZURITE_ACCOUNT, AZURITE_KEY

_servers = server_fixtures("azure")
azurite = _servers.azurite
azure_container = _servers.azure_container
ACCOUNT = AZURITE_ACCOUNT
KEY = AZURITE_KEY
MiB = 1 << 20


@pytest.fixture
def env(azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Start each test from the spec's variables; the store cache is cleared before and after."""
    for k in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_SAS_TOKEN", "S3DLIO_AZURE_SAS_TOKEN",
              "AZURE_BLOB_ENDPOINT_URL", "S3DLIO_AZURE_CREDENTIAL"):
        monkeypatch.delenv(k, raising=False)
    for k, v in azurite.env.items():
        monkeypatch.setenv(k, v)
    registry.clear_store_cache()
    yield monkeypatch
    monkeypatch.undo()
    registry.clear_store_cache()


@pytest.fixture
def small_parts() -> Iterator[None]:
    """Tiny thresholds so that block uploads and range splits happen on small objects."""
    old = settings()
    configure(multipart_threshold=1 * MiB, multipart_part_size=1 * MiB, range_threshold=1 * MiB,
              range_chunk_size=256 * 1024)
    yield
    configure(multipart_threshold=old.multipart_threshold, multipart_part_size=old.multipart_part_size,
              range_threshold=old.range_threshold, range_chunk_size=old.range_chunk_size)


def _blob_client(azurite, container: str, blob: str):
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient.from_connection_string(azurite.connection_string).get_blob_client(container, blob)


def test_account_and_container_forms_name_the_same_blob(env, azure_container: str) -> None:
    a = f"az://{ACCOUNT}/{azure_container}/dir/x.bin"
    c = f"azure://{azure_container}/dir/x.bin"
    s3dlio.put(a, b"hello")
    assert bytes(s3dlio.get(c)) == b"hello"
    assert s3dlio.list(f"az://{ACCOUNT}/{azure_container}/dir/") == [a]
    assert s3dlio.list(f"azure://{azure_container}/", recursive=True) == [c]


def test_uri_rule() -> None:
    cfg = AzureConfig(account="acct")
    assert cfg.split("acct", "cont/a/b") == ("acct", "cont", "a/b")
    assert cfg.split("cont", "a/b") == ("acct", "cont", "a/b")
    assert AzureConfig().split("other", "cont/a") == ("other", "cont", "a")  # nothing configured: account form
    assert cfg.account_url("acct") == "https://acct.blob.core.windows.net"
    assert AzureConfig(account="a", endpoint="http://127.0.0.1:10000").account_url("a") == "http://127.0.0.1:10000/a"
    assert AzureConfig(account="a", endpoint="https://x.example/a").account_url("a") == "https://x.example/a"
    with pytest.raises(s3dlio.InvalidUriError):
        AzureStore(cfg).stat("az://acct/")


def test_connection_string_alone(env, azurite, azure_container: str) -> None:
    for k in azurite.env:
        env.delenv(k)
    env.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    registry.clear_store_cache()
    uri = f"az://{azure_container}/cs.bin"
    s3dlio.put(uri, b"via connection string")
    assert bytes(s3dlio.get(f"az://{ACCOUNT}/{azure_container}/cs.bin")) == b"via connection string"
    store, _ = s3dlio_core.store_for_uri(uri)
    _secrets_absent(repr(store) + repr(store.config), KEY, azurite.connection_string)


def _secrets_absent(text: str, *secrets: str) -> None:
    for s in secrets:
        assert s not in text


def test_sas_token_and_no_secret_anywhere(env, azurite, azure_container: str,
                                          caplog: pytest.LogCaptureFixture) -> None:
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    sas = generate_account_sas(ACCOUNT, KEY, ResourceTypes(service=True, container=True, object=True),
                               AccountSasPermissions(read=True, write=True, list=True, delete=True, create=True),
                               expiry=datetime.now(UTC) + timedelta(hours=1))
    from urllib.parse import unquote

    sig = next(kv[4:] for kv in sas.split("&") if kv.startswith("sig="))
    env.delenv("AZURE_STORAGE_KEY")
    env.setenv("S3DLIO_AZURE_SAS_TOKEN", "?" + sas)
    registry.clear_store_cache()
    uri = f"az://{ACCOUNT}/{azure_container}/sas.bin"
    with caplog.at_level(logging.DEBUG):
        s3dlio.put(uri, b"via sas")
        assert bytes(s3dlio.get(uri)) == b"via sas"
        store, _ = s3dlio_core.store_for_uri(uri)
        with pytest.raises(s3dlio.ObjectNotFoundError) as ei:
            s3dlio.get(f"az://{ACCOUNT}/{azure_container}/missing.bin")
    text = "\n".join([repr(store), repr(store.config), str(ei.value), caplog.text])
    _secrets_absent(text, sas, sig, unquote(sig), KEY)


def test_bad_key_is_permission_denied_without_the_key(env, azure_container: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    bad = "QUJD" * 22
    env.setenv("AZURE_STORAGE_KEY", bad)
    registry.clear_store_cache()
    uri = f"az://{ACCOUNT}/{azure_container}/x.bin"
    with caplog.at_level(logging.DEBUG), pytest.raises(s3dlio.PermissionDeniedError) as ei:
        s3dlio.put(uri, b"x")
    assert uri in str(ei.value)
    store, _ = s3dlio_core.store_for_uri(uri)
    _secrets_absent("\n".join([str(ei.value), repr(store), repr(store.config), caplog.text]), bad, KEY)


def test_sizes_ranges_and_stat(env, azure_container: str) -> None:
    p = f"az://{ACCOUNT}/{azure_container}/"
    for n in (0, 1, 4097):
        data = os.urandom(n)
        s3dlio.put(p + f"o{n}", data)
        assert bytes(s3dlio.get(p + f"o{n}")) == data
        assert bytes(s3dlio.get_range(p + f"o{n}", 2, 3)) == data[2:5]
        assert bytes(s3dlio.get_range(p + f"o{n}", n + 5)) == b""  # offset past the end: empty
    st = s3dlio.stat(p + "o4097")
    assert tuple(st) == STAT_KEYS
    assert st["size"] == 4097 and st["etag"] and st["last_modified"].endswith("Z")
    assert st["content_type"] == "application/octet-stream"
    with pytest.raises(s3dlio.ObjectNotFoundError):
        s3dlio.get(f"az://{ACCOUNT}/no-such-container/x")


def test_large_put_is_staged_blocks_committed_once(env, azurite, azure_container: str, small_parts) -> None:
    data = os.urandom(11 * MiB + 17)  # blocks of 5 MiB (the shared multipart coordinator's minimum)
    uri = f"az://{azure_container}/big.bin"
    s3dlio.put(uri, data)
    committed, uncommitted = _blob_client(azurite, azure_container, "big.bin").get_block_list("all")
    assert [b["size"] for b in committed] == [5 * MiB, 5 * MiB, MiB + 17] and not uncommitted
    assert bytes(s3dlio.get(uri)) == data  # concurrent 256 KiB ranges into one buffer
    assert bytes(s3dlio.get_range(uri, MiB - 3, 2 * MiB + 7)) == data[MiB - 3: 3 * MiB + 4]
    buf = bytearray(len(data))
    assert s3dlio.get_into(uri, buf) == len(data) and buf == data


def test_streaming_writer_commits_on_close_and_abort_leaves_nothing(env, azure_container: str,
                                                                      small_parts) -> None:
    store, _ = s3dlio_core.store_for_uri(f"az://{azure_container}/")
    uri = f"az://{azure_container}/stream.bin"
    chunks = [os.urandom(2_500_000) for _ in range(5)]  # 12.5 MB: three 5 MiB blocks
    w = store.open_writer(uri)
    for c in chunks:
        w.write(c)
    assert not s3dlio.exists(uri)  # blocks staged, nothing visible yet
    w.close()
    assert bytes(s3dlio.get(uri)) == b"".join(chunks)

    with pytest.raises(ZeroDivisionError), store.open_writer(f"az://{azure_container}/boom.bin") as w2:
        w2.write(os.urandom(11 * MiB))  # two blocks staged before the failure
        raise ZeroDivisionError
    assert not s3dlio.exists(f"az://{azure_container}/boom.bin")
    w3 = store.open_writer(uri)  # aborting an overwrite keeps the old content
    w3.write(os.urandom(6 * MiB))
    w3.abort()
    assert bytes(s3dlio.get(uri)) == b"".join(chunks)
    small = store.open_writer(f"az://{azure_container}/small.bin")
    small.write(b"tiny")
    small.close()
    assert bytes(s3dlio.get(f"az://{azure_container}/small.bin")) == b"tiny"


def test_list_paging_and_batch_delete(env, azure_container: str) -> None:
    p = f"az://{ACCOUNT}/{azure_container}/"
    keys = [f"many/k{i:04d}" for i in range(300)] + ["many/sub/x", "manyx"]
    s3dlio.put_many([(p + k, b"v") for k in keys], max_in_flight=16)
    store, _ = s3dlio_core.store_for_uri(p)
    store.list_page_size = 7  # many pages
    try:
        assert s3dlio.list(p + "many/", recursive=True) == sorted(p + k for k in keys[:-1])
        top = s3dlio.list(p + "many/")
        assert len(top) == 301 and top[-1] == p + "many/sub/"
        assert s3dlio.list(p + "many") == [p + "many/"]
    finally:
        del store.list_page_size
    s3dlio.delete(p + "many/", recursive=True)  # 301 blobs: two batches
    assert s3dlio.list(p, recursive=True) == [p + "manyx"]


def test_containers_as_buckets(env) -> None:
    name = _servers.new_container_name()
    s3dlio.create_bucket(f"az://{ACCOUNT}/{name}")
    s3dlio.create_bucket(f"az://{ACCOUNT}/{name}")  # existing: fine
    names = [c["name"] for c in s3dlio.list_containers(f"az://{ACCOUNT}")]  # the spec form
    assert name in names
    s3dlio.put(f"az://{name}/x", b"1")
    with pytest.raises(s3dlio_core.errors.StorageIOError, match="not empty"):
        s3dlio.delete_bucket(f"az://{name}")
    s3dlio.delete(f"az://{name}/x")
    s3dlio.delete_bucket(f"az://{name}")
    assert name not in [c["name"] for c in s3dlio.list_containers(f"az://{ACCOUNT}/")]
    with pytest.raises(s3dlio.ObjectNotFoundError):
        s3dlio.delete_bucket(f"az://{name}")


def test_anonymous_access_to_a_private_container_is_permission_denied(env, azurite, azure_container: str) -> None:
    """No key, SAS or connection string (and no azure-identity): requests go out unsigned."""
    store = AzureStore(AzureConfig(account=ACCOUNT, endpoint=azurite.endpoint))
    with pytest.raises(s3dlio.PermissionDeniedError) as ei:
        store.put(f"az://{azure_container}/anon.bin", b"x")
    assert f"az://{azure_container}/anon.bin" in str(ei.value)


def test_many_in_flight_reuse_pooled_connections(env, azure_container: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    p = f"az://{azure_container}/m/"
    items = [(p + f"k{i}", os.urandom(100 + i)) for i in range(100)]
    with caplog.at_level(logging.WARNING):
        s3dlio.put_many(items, max_in_flight=64)
        got = s3dlio.get_many([u for u, _ in items], max_in_flight=64)
    assert [bytes(b) for _, b in got] == [d for _, d in items]
    assert "pool is full" not in caplog.text


def test_operations_pass_the_instrumentation_point(env, azure_container: str) -> None:
    from s3dlio_core import instrument

    uri = f"az://{azure_container}/inst.bin"
    records: list = []
    observe = records.append
    instrument.add_observer(observe)
    try:
        s3dlio.put(uri, b"x" * 1000)
        assert len(s3dlio.get(uri)) == 1000
    finally:
        instrument.remove_observer(observe)
    ops = {r.op: r for r in records}
    assert ops["PUT"].bytes == 1000 and ops["PUT"].error is None
    get = ops["GET"]
    assert get.bytes == 1000 and get.uri == uri
    assert get.start_ns <= get.first_byte_ns <= get.end_ns


def test_ranged_read_refuses_an_object_replaced_midway(env, azure_container: str, small_parts,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Later ranges are pinned to the version the first response came from (never a mix of two)."""
    uri = f"az://{azure_container}/race.bin"
    s3dlio.put(uri, os.urandom(3 * MiB))
    store, _ = s3dlio_core.store_for_uri(uri)
    real = store._fetch_range_into  # (3 MiB > the 1 MiB range threshold: a split read)
    replaced: list[int] = []

    def racing(*args: object) -> None:
        if not replaced:
            replaced.append(1)
            s3dlio.put(uri, os.urandom(3 * MiB))
        return real(*args)

    monkeypatch.setattr(store, "_fetch_range_into", racing)
    with pytest.raises(s3dlio_core.errors.StorageIOError, match="changed while it was read"):
        s3dlio.get(uri)


def _child_get(uri: str) -> bytes:
    return bytes(s3dlio.get(uri))


def test_forked_workers_use_their_own_connections(env, azure_container: str) -> None:
    """DataLoader-style fork after the parent has used the store: children open their own clients."""
    import multiprocessing

    uri = f"az://{azure_container}/fork.bin"
    s3dlio.put(uri, b"parent wrote this")
    assert bytes(s3dlio.get(uri)) == b"parent wrote this"
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(_child_get, [uri] * 4) == [b"parent wrote this"] * 4
    assert bytes(s3dlio.get(uri)) == b"parent wrote this"


def test_put_verify_replaces_a_truncated_upload(env, azure_container: str, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """S3DLIO_PUT_VERIFY: a PUT that stored fewer bytes is detected by HEAD, deleted and sent again."""
    old = settings()
    configure(put_verify=True, put_retry_delay_ms=0)
    try:
        uri = f"az://{azure_container}/verified.bin"
        store, _ = s3dlio_core.store_for_uri(uri)
        real = store._put_one
        calls: list[int] = []

        def flaky(where: object, data: memoryview) -> None:
            calls.append(data.nbytes)
            real(where, data[:-1] if len(calls) == 1 else data)  # the first attempt loses a byte

        monkeypatch.setattr(store, "_put_one", flaky)
        payload = os.urandom(10_000)
        s3dlio.put(uri, payload)
        assert calls == [10_000, 10_000]
        assert bytes(s3dlio.get(uri)) == payload
        assert "size mismatch" not in caplog.text  # recovered without surfacing an error
    finally:
        configure(put_verify=old.put_verify, put_retry_delay_ms=old.put_retry_delay_ms)


def test_stat_reports_user_metadata_and_content_settings(env, azurite, azure_container: str) -> None:
    from azure.storage.blob import ContentSettings

    uri = f"az://{azure_container}/meta.bin"
    s3dlio.put(uri, b"m" * 10)
    bc = _blob_client(azurite, azure_container, "meta.bin")
    bc.set_blob_metadata({"owner": "team-a", "Purpose": "test"})
    bc.set_http_headers(ContentSettings(content_type="text/plain", cache_control="no-cache",
                                        content_language="en"))
    st = s3dlio.stat(uri)
    assert st["metadata"] == {"owner": "team-a", "Purpose": "test"}
    assert (st["content_type"], st["cache_control"], st["content_language"]) == ("text/plain", "no-cache", "en")
    assert st["size"] == 10


def test_requests_read_the_environment_only_when_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    from s3dlio_backends._requests_env import ca_bundle, needs_trust_env

    for k in list(os.environ):
        if k.lower().endswith("_proxy") or k in ("NETRC", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("HOME", "/nonexistent-home")
    assert needs_trust_env() is False and ca_bundle() is None
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert needs_trust_env() is True
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert ca_bundle() == "/etc/ssl/certs/ca-certificates.crt"


def test_bodies_read_in_place_keep_the_connection(env, azure_container: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Sequential GETs (read with readinto straight into the result) reuse one pooled connection."""
    import urllib3.connection

    p = f"az://{azure_container}/reuse/"
    for i in range(3):
        s3dlio.put(p + f"k{i}", os.urandom(70_000 + i))
    connects: list[object] = []
    real = urllib3.connection.connection.create_connection

    def counting(*args: object, **kw: object):
        connects.append(args[0])
        return real(*args, **kw)

    monkeypatch.setattr(urllib3.connection.connection, "create_connection", counting)
    for _ in range(10):
        for i in range(3):
            assert len(s3dlio.get(p + f"k{i}")) == 70_000 + i
    assert len(connects) <= 1, connects


def test_credential_switch(env, azurite, azure_container: str) -> None:
    """S3DLIO_AZURE_CREDENTIAL picks the credential the original's way; misconfigurations name the URI."""
    uri = f"az://{azure_container}/switch.bin"
    env.setenv("S3DLIO_AZURE_CREDENTIAL", "key")
    registry.clear_store_cache()
    s3dlio.put(uri, b"with the key")
    env.setenv("S3DLIO_AZURE_CREDENTIAL", "none")  # anonymous even though a key is configured
    registry.clear_store_cache()
    with pytest.raises(s3dlio.PermissionDeniedError):
        s3dlio.get(uri)
    env.setenv("S3DLIO_AZURE_CREDENTIAL", "sas")  # no SAS token configured
    registry.clear_store_cache()
    with pytest.raises(s3dlio.PermissionDeniedError, match="no SAS token") as ei:
        s3dlio.get(uri)
    assert uri in str(ei.value)
    env.setenv("S3DLIO_AZURE_CREDENTIAL", "bogus")
    registry.clear_store_cache()
    with pytest.raises(s3dlio.InvalidUriError, match="S3DLIO_AZURE_CREDENTIAL"):
        s3dlio.get(uri)
    env.setenv("S3DLIO_AZURE_CREDENTIAL", "auto")
    registry.clear_store_cache()
    assert bytes(s3dlio.get(uri)) == b"with the key"


def test_a_store_configured_in_code(azurite, azure_container: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """AzureConfig instead of AZURE_* variables; repr never shows the key, SAS or connection string."""
    from s3dlio_core import new_store
    from s3dlio_core.store_config import StoreConfig

    for k in (*azurite.env, "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_SAS_TOKEN", "S3DLIO_AZURE_SAS_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    cfg = AzureConfig(account=ACCOUNT, account_key=KEY, endpoint=azurite.endpoint, max_retry_attempts=4)
    store = new_store(f"az://{ACCOUNT}/{azure_container}/", cfg)
    assert store.settings.max_retry_attempts == 4
    uri = f"az://{ACCOUNT}/{azure_container}/cfg.bin"
    store.put(uri, b"configured in code")
    assert bytes(store.get(uri)) == b"configured in code"
    by_cs = AzureStore(AzureConfig(connection_string=azurite.connection_string, sas_token="sv=1&sig=SIGSECRET"))
    assert by_cs.config.account == ACCOUNT and by_cs.config.account_key == KEY
    assert bytes(by_cs.get(uri)) == b"configured in code"
    for text in (repr(cfg), repr(store), repr(by_cs.config), str(by_cs.config)):
        _secrets_absent(text, KEY, azurite.connection_string, "SIGSECRET")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    tuned = new_store(f"az://{ACCOUNT}/{azure_container}/", StoreConfig(max_retry_attempts=2))
    assert isinstance(tuned, AzureStore) and tuned.config.account == ACCOUNT  # the environment's, tuned
    assert tuned.settings.max_retry_attempts == 2 and bytes(tuned.get(uri)) == b"configured in code"
