"""gs:// against a real fake-gcs-server: endpoints, resumable uploads, ranged reads, paging, deletes, buckets."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import s3dlio
import s3dlio_core
import s3dlio_core.registry as registry
from s3dlio_backends.gcs import GcsConfig, GcsStore
from s3dlio_core.metadata import STAT_KEYS
from s3dlio_core.settings import configure, settings
from s3dlio_testsupport import server_fixtures

_servers = server_fixtures("gcs")
fake_gcs = _servers.fake_gcs
gcs_bucket = _servers.gcs_bucket
MiB = 1 << 20


@pytest.fixture
def env(fake_gcs, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv("GCS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_gcs.endpoint)
    registry.clear_store_cache()
    yield monkeypatch
    monkeypatch.undo()
    registry.clear_store_cache()


@pytest.fixture
def small_parts() -> Iterator[None]:
    old = settings()
    configure(multipart_threshold=1 * MiB, multipart_part_size=1 * MiB, range_threshold=1 * MiB,
              range_chunk_size=256 * 1024)
    yield
    configure(multipart_threshold=old.multipart_threshold, multipart_part_size=old.multipart_part_size,
              range_threshold=old.range_threshold, range_chunk_size=old.range_chunk_size)


def test_config_from_env() -> None:
    c = GcsConfig.from_env({"STORAGE_EMULATOR_HOST": "127.0.0.1:4443", "GCS_PROJECT": "p1"})
    assert (c.endpoint, c.project, c.anonymous) == ("http://127.0.0.1:4443", "p1", True)
    c = GcsConfig.from_env({"GCS_ENDPOINT_URL": "https://gcs.example/", "GOOGLE_CLOUD_PROJECT": "p2"})
    assert (c.endpoint, c.project, c.anonymous) == ("https://gcs.example", "p2", False)
    c = GcsConfig.from_env({})
    assert c.endpoint == "https://storage.googleapis.com" and not c.anonymous
    assert "secret" not in repr(GcsStore(c))


def test_both_schemes_and_endpoint_variables(env, fake_gcs, gcs_bucket: str) -> None:
    s3dlio.put(f"gs://{gcs_bucket}/a/b.bin", b"one")
    assert bytes(s3dlio.get(f"gcs://{gcs_bucket}/a/b.bin")) == b"one"
    assert s3dlio.list(f"gcs://{gcs_bucket}/a/") == [f"gcs://{gcs_bucket}/a/b.bin"]
    env.setenv("STORAGE_EMULATOR_HOST", fake_gcs.endpoint.removeprefix("http://"))  # http:// is implied
    registry.clear_store_cache()
    assert bytes(s3dlio.get(f"gs://{gcs_bucket}/a/b.bin")) == b"one"
    env.delenv("STORAGE_EMULATOR_HOST")
    env.setenv("GCS_ENDPOINT_URL", fake_gcs.endpoint)
    registry.clear_store_cache()
    assert bytes(s3dlio.get(f"gs://{gcs_bucket}/a/b.bin")) == b"one"


def test_sizes_ranges_stat_and_missing(env, gcs_bucket: str) -> None:
    p = f"gs://{gcs_bucket}/"
    for n in (0, 1, 4097):
        data = os.urandom(n)
        s3dlio.put(p + f"o{n}", data)
        assert bytes(s3dlio.get(p + f"o{n}")) == data
        assert bytes(s3dlio.get_range(p + f"o{n}", 2, 3)) == data[2:5]
        assert bytes(s3dlio.get_range(p + f"o{n}", n + 5)) == b""
    st = s3dlio.stat(p + "o4097")
    assert tuple(st) == STAT_KEYS
    assert st["size"] == 4097 and st["etag"] and st["last_modified"].endswith("Z")
    assert st["storage_class"] == "STANDARD" and st["version_id"]
    with pytest.raises(s3dlio.ObjectNotFoundError) as ei:
        s3dlio.get(p + "nope")
    assert "nope" in str(ei.value)
    with pytest.raises(s3dlio.ObjectNotFoundError):
        s3dlio.stat("gs://no-such-bucket-here/x")


def test_large_put_is_resumable_and_get_is_ranged(env, gcs_bucket: str, small_parts) -> None:
    data = os.urandom(5 * MiB + 17)
    uri = f"gs://{gcs_bucket}/big.bin"
    s3dlio.put(uri, data)
    assert s3dlio.stat(uri)["size"] == len(data)
    assert bytes(s3dlio.get(uri)) == data
    assert bytes(s3dlio.get_range(uri, MiB - 3, 2 * MiB + 7)) == data[MiB - 3: 3 * MiB + 4]
    buf = bytearray(len(data))
    assert s3dlio.get_into(uri, buf) == len(data) and buf == data
    with pytest.raises(s3dlio.LengthMismatchError):
        s3dlio.get_into(uri, bytearray(10), expected_len=10)


def test_streaming_writer_visible_only_when_done(env, gcs_bucket: str, small_parts) -> None:
    store, _ = s3dlio_core.store_for_uri(f"gs://{gcs_bucket}/")
    uri = f"gs://{gcs_bucket}/stream.bin"
    chunks = [os.urandom(700_000) for _ in range(5)]
    w = store.open_writer(uri)
    for c in chunks:
        w.write(c)
    assert not s3dlio.exists(uri)  # chunks sent, the object is not there yet
    w.close()
    assert bytes(s3dlio.get(uri)) == b"".join(chunks)
    with pytest.raises(ZeroDivisionError), store.open_writer(f"gs://{gcs_bucket}/boom.bin") as w2:
        w2.write(os.urandom(3 * MiB))
        raise ZeroDivisionError
    assert not s3dlio.exists(f"gs://{gcs_bucket}/boom.bin")
    small = store.open_writer(f"gs://{gcs_bucket}/small.bin")
    small.write(b"tiny")
    small.close()
    assert bytes(s3dlio.get(f"gs://{gcs_bucket}/small.bin")) == b"tiny"
    empty = store.open_writer(f"gs://{gcs_bucket}/empty.bin")
    empty.close()
    assert s3dlio.stat(f"gs://{gcs_bucket}/empty.bin")["size"] == 0


def test_list_paging_and_recursive_delete(env, gcs_bucket: str) -> None:
    p = f"gs://{gcs_bucket}/"
    keys = [f"many/k{i:03d}" for i in range(60)] + ["many/sub/x", "manyx"]
    s3dlio.put_many([(p + k, b"v") for k in keys], max_in_flight=16)
    store, _ = s3dlio_core.store_for_uri(p)
    store.list_page_size = 7
    try:
        assert s3dlio.list(p + "many/", recursive=True) == sorted(p + k for k in keys[:-1])
        top = s3dlio.list(p + "many/")
        assert len(top) == 61 and top[-1] == p + "many/sub/"
        assert s3dlio.list(p + "many") == [p + "many/"]
    finally:
        del store.list_page_size
    s3dlio.delete(p + "many", recursive=True)
    assert s3dlio.list(p, recursive=True) == [p + "manyx"]


def test_buckets(env) -> None:
    name = _servers.new_bucket_name()
    s3dlio.create_bucket(f"gs://{name}")
    s3dlio.create_bucket(f"gs://{name}")  # existing: fine
    assert name in [b["name"] for b in s3dlio.list_containers("gs://")]
    s3dlio.put(f"gs://{name}/x", b"1")
    with pytest.raises(s3dlio_core.errors.StorageIOError, match="not empty"):
        s3dlio.delete_bucket(f"gs://{name}")
    s3dlio.delete(f"gs://{name}/x")
    s3dlio.delete_bucket(f"gs://{name}")
    assert name not in [b["name"] for b in s3dlio.list_containers("gs://")]


def test_many_in_flight_reuse_pooled_connections(env, gcs_bucket: str, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    p = f"gs://{gcs_bucket}/m/"
    items = [(p + f"k{i}", os.urandom(100 + i)) for i in range(100)]
    with caplog.at_level(logging.WARNING):
        s3dlio.put_many(items, max_in_flight=64)
        got = s3dlio.get_many([u for u, _ in items], max_in_flight=64)
    assert [bytes(b) for _, b in got] == [d for _, d in items]
    assert "pool is full" not in caplog.text


def test_operations_pass_the_instrumentation_point(env, gcs_bucket: str) -> None:
    from s3dlio_core import instrument

    uri = f"gs://{gcs_bucket}/inst.bin"
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


def test_refusals_map_to_typed_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real HTTP server on 127.0.0.1 that refuses everything (403) / knows nothing (404)."""
    import http.server
    import json
    import threading

    class Refuse(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            status = 404 if "missing" in self.path else 403
            body = json.dumps({"error": {"code": status, "message": "refused by the test server"}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        store = GcsStore(GcsConfig(endpoint=f"http://127.0.0.1:{srv.server_port}", anonymous=True))
        with pytest.raises(s3dlio.PermissionDeniedError) as ei:
            store.get("gs://bkt/secret.bin")
        assert "gs://bkt/secret.bin" in str(ei.value) and "403" in str(ei.value)
        with pytest.raises(s3dlio.PermissionDeniedError):
            store.put("gs://bkt/x.bin", b"data")
        with pytest.raises(s3dlio.ObjectNotFoundError):
            store.stat("gs://bkt/missing.bin")
    finally:
        srv.shutdown()
        srv.server_close()


def test_ranged_read_refuses_an_object_replaced_midway(env, gcs_bucket: str, small_parts,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Later ranges are pinned to the version the first response came from (never a mix of two)."""
    uri = f"gs://{gcs_bucket}/race.bin"
    s3dlio.put(uri, os.urandom(3 * MiB))
    store, _ = s3dlio_core.store_for_uri(uri)
    real = store._fetch_range_into
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


def test_forked_workers_use_their_own_connections(env, gcs_bucket: str) -> None:
    """DataLoader-style fork after the parent has used the store: children open their own clients."""
    import multiprocessing

    uri = f"gs://{gcs_bucket}/fork.bin"
    s3dlio.put(uri, b"parent wrote this")
    assert bytes(s3dlio.get(uri)) == b"parent wrote this"
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(_child_get, [uri] * 4) == [b"parent wrote this"] * 4
    assert bytes(s3dlio.get(uri)) == b"parent wrote this"


def test_server_that_ignores_ranges() -> None:
    """A real HTTP server on 127.0.0.1 that answers every media GET with the whole object (200)."""
    import http.server
    import threading

    payload = os.urandom(5000)

    class NoRanges(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NoRanges)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        store = GcsStore(GcsConfig(endpoint=f"http://127.0.0.1:{srv.server_port}", anonymous=True))
        assert bytes(store.get("gs://b/o")) == payload
        assert bytes(store.get_range("gs://b/o", 100, 50)) == payload[100:150]
        buf = bytearray(len(payload))
        assert store.get_into("gs://b/o", buf) == len(payload) and buf == payload
    finally:
        srv.shutdown()
        srv.server_close()


def test_put_verify_replaces_a_truncated_upload(env, gcs_bucket: str, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """S3DLIO_PUT_VERIFY: a PUT that stored fewer bytes is detected by HEAD, deleted and sent again."""
    old = settings()
    configure(put_verify=True, put_retry_delay_ms=0)
    try:
        uri = f"gs://{gcs_bucket}/verified.bin"
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


def test_bodies_read_in_place_keep_the_connection(env, gcs_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sequential GETs (read with readinto straight into the result) reuse one pooled connection."""
    import urllib3.connection

    p = f"gs://{gcs_bucket}/reuse/"
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


def test_missing_google_credentials_is_a_typed_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for k in ("STORAGE_EMULATOR_HOST", "GCS_ENDPOINT_URL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    store = GcsStore(GcsConfig.from_env())
    with pytest.raises(s3dlio.PermissionDeniedError) as ei:
        store.stat("gs://some-bucket/x.bin")
    assert "gs://some-bucket/x.bin" in str(ei.value) and "GOOGLE_APPLICATION_CREDENTIALS" in str(ei.value)


def test_a_store_configured_in_code(fake_gcs, gcs_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """GcsConfig instead of STORAGE_EMULATOR_HOST; tunables from the config; a plain StoreConfig tunes the
    environment's configuration."""
    from s3dlio_core import new_store
    from s3dlio_core.store_config import StoreConfig

    for k in ("STORAGE_EMULATOR_HOST", "GCS_ENDPOINT_URL"):
        monkeypatch.delenv(k, raising=False)
    cfg = GcsConfig(endpoint=fake_gcs.endpoint, anonymous=True, multipart_threshold=MiB, multipart_part_size=MiB)
    store = new_store(f"gs://{gcs_bucket}/", cfg)
    assert store.settings.multipart_threshold == MiB
    data = os.urandom(3 * MiB + 1)
    uri = f"gs://{gcs_bucket}/cfg.bin"
    store.put(uri, data)  # above the config's threshold: a resumable upload in 1 MiB chunks
    assert bytes(store.get(uri)) == data
    assert GcsConfig(endpoint="127.0.0.1:1/").endpoint == "http://127.0.0.1:1"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_gcs.endpoint)
    tuned = new_store(f"gs://{gcs_bucket}/", StoreConfig(max_retry_attempts=2))
    assert isinstance(tuned, GcsStore) and tuned.config.anonymous and tuned.settings.max_retry_attempts == 2
    assert bytes(tuned.get(uri)) == data
    key_file = GcsConfig(credentials_file="/secret/path/key.json")
    assert "/secret/path" not in repr(key_file)
    with pytest.raises(s3dlio.PermissionDeniedError) as ei:  # the file named in the config is the one used
        GcsStore(GcsConfig(credentials_file="/no/such/key.json")).stat(uri)
    assert uri in str(ei.value) and "/no/such/key.json" in str(ei.value)


def test_a_credentials_file_in_the_config_is_loaded(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An authorized-user file: its credentials (and quota project) come from the file, not from ADC."""
    import json
    import warnings

    f = tmp_path / "user.json"
    f.write_text(json.dumps({"type": "authorized_user", "client_id": "id.apps", "client_secret": "CLIENT-SECRET",
                             "refresh_token": "REFRESH-TOKEN", "quota_project_id": "from-file"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))  # never consulted
    store = GcsStore(GcsConfig(credentials_file=str(f)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the library stays quiet
        creds, project = store._gcs._credentials("gs://b/k")
    assert type(creds).__name__ == "Credentials" and creds.refresh_token == "REFRESH-TOKEN"
    assert project == "from-file" and "CLIENT-SECRET" not in repr(store.config) + repr(store)
