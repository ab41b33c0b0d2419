"""S3Store against a real SeaweedFS: request patterns (no HEAD before GET, one GET for small objects,
range split for large ones), multipart uploads and aborts, buckets, and fault handling (retries with
backoff on 503/500/resets, never on other 4xx) through a recording fault proxy."""

from __future__ import annotations

import os
import uuid
from typing import Any

import boto3
import pytest
import s3dlio
from s3dlio_core.registry import clear_store_cache
from s3dlio_core.settings import configure, reset_settings
from s3dlio_testsupport import server_fixtures

_servers = server_fixtures("s3")
s3_test_env = _servers.s3_test_env
seaweedfs_server = _servers.seaweedfs_server
s3_prefix = _servers.s3_prefix
s3_fault_proxy_session = _servers.s3_fault_proxy_session
s3_fault_proxy = _servers.s3_fault_proxy
BUCKET = _servers.S3_BUCKET
MiB = 1 << 20


@pytest.fixture
def tuned(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Override settings for one test (restored afterwards)."""
    def apply(**kw: Any) -> None:
        configure(**kw)
        clear_store_cache()

    yield apply
    reset_settings()
    clear_store_cache()


def _boto(server: Any) -> Any:
    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id="test",
                        aws_secret_access_key="test", region_name="us-east-1")


def _via(proxy: Any, key: str) -> str:
    return f"s3://{proxy.hostport}/{BUCKET}/{key}"


# ---------------------------------------------------------------- request patterns
def test_small_get_is_one_get_without_head(s3_fault_proxy: Any, tuned: Any) -> None:
    key = f"pattern/{uuid.uuid4().hex}"
    uri = _via(s3_fault_proxy, key)
    s3dlio.put(uri, b"x" * 5000)
    for opt in (True, False):
        tuned(enable_range_optimization=opt)
        s3_fault_proxy.reset()
        assert len(s3dlio.get(uri)) == 5000
        assert [r.split(" ")[0] for r in s3_fault_proxy.requests] == ["GET"]
        s3_fault_proxy.reset()
        got = s3dlio.get_many([uri] * 3)
        assert [len(v) for _, v in got] == [5000] * 3
        assert [r.split(" ")[0] for r in s3_fault_proxy.requests] == ["GET"] * 3


def test_large_get_is_split_into_ranges_without_head(s3_fault_proxy: Any, tuned: Any) -> None:
    tuned(range_threshold=1 * MiB, range_chunk_size=1 * MiB)
    data = os.urandom(5 * MiB + 123)
    uri = _via(s3_fault_proxy, f"split/{uuid.uuid4().hex}")
    s3dlio.put(uri, data)
    s3_fault_proxy.reset()
    got = s3dlio.get(uri)
    assert bytes(got) == data
    assert all(r.startswith("GET ") for r in s3_fault_proxy.requests)
    assert len(s3_fault_proxy.requests) == 1 + 5  # the first MiB, then 5 ranges (the last one short)
    buf = bytearray(len(data))
    assert s3dlio.get_into(uri, buf) == len(data) and buf == data


def test_range_optimization_off_means_one_plain_get(s3_fault_proxy: Any, tuned: Any) -> None:
    tuned(enable_range_optimization=False, range_threshold=1 * MiB)
    data = os.urandom(3 * MiB)
    uri = _via(s3_fault_proxy, f"plain/{uuid.uuid4().hex}")
    s3dlio.put(uri, data)
    s3_fault_proxy.reset()
    assert bytes(s3dlio.get(uri)) == data
    assert [r.split(" ")[0] for r in s3_fault_proxy.requests] == ["GET"]


# ---------------------------------------------------------------- multipart
def test_large_put_is_a_parallel_multipart_upload(s3_fault_proxy: Any, tuned: Any) -> None:
    tuned(multipart_threshold=5 * MiB, multipart_part_size=5 * MiB)
    data = os.urandom(12 * MiB)
    uri = _via(s3_fault_proxy, f"mpu/{uuid.uuid4().hex}")
    s3_fault_proxy.reset()
    s3dlio.put(uri, data)
    methods = [r.split(" ")[0] for r in s3_fault_proxy.requests]
    assert methods.count("PUT") == 3 and methods.count("POST") == 2  # create + 3 parts + complete
    assert s3dlio.stat(uri)["etag"].strip('"').endswith("-3")
    assert bytes(s3dlio.get(uri)) == data


def test_failed_multipart_upload_is_aborted(seaweedfs_server: Any, s3_fault_proxy: Any, tuned: Any) -> None:
    tuned(multipart_threshold=5 * MiB, multipart_part_size=5 * MiB, max_retry_attempts=1)
    key = f"mpu-fail/{uuid.uuid4().hex}"
    uri = _via(s3_fault_proxy, key)
    # create, one part, then one part fails (more 500s could land on the abort itself: parts run in
    # parallel, so how many are sent before the failure is seen varies, and max_retry_attempts=1)
    s3_fault_proxy.reset(["pass", "pass", "500"])
    with pytest.raises(s3dlio.S3dlioError):
        s3dlio.put(uri, os.urandom(16 * MiB))
    assert any(r.startswith("DELETE ") and "uploadId=" in r for r in s3_fault_proxy.requests)
    assert not s3dlio.exists(uri)
    uploads = _boto(seaweedfs_server).list_multipart_uploads(Bucket=BUCKET, Prefix=key)
    assert not uploads.get("Uploads")


def test_streaming_writer_uses_multipart_for_large_streams(s3_prefix: str, tuned: Any) -> None:
    tuned(multipart_part_size=5 * MiB)
    from s3dlio_core import store_for_uri

    uri = s3_prefix + "stream.bin"
    store, _ = store_for_uri(uri)
    chunks = [os.urandom(1 * MiB + 7) for _ in range(12)]
    with store.open_writer(uri) as w:
        for c in chunks:
            w.write(c)
        assert not s3dlio.exists(uri)
    assert bytes(s3dlio.get(uri)) == b"".join(chunks)
    assert s3dlio.stat(uri)["etag"].strip('"').endswith("-3")


def test_multipart_upload_writer(s3_prefix: str, seaweedfs_server: Any) -> None:
    uri = s3_prefix + "mpu-writer.bin"
    a, b = os.urandom(6 * MiB), os.urandom(3 * MiB)
    with s3dlio.MultipartUploadWriter.from_uri(uri, part_size=5 * MiB, max_in_flight=4) as w:
        assert w.write(a) == len(a)
        mv = w.reserve(len(b))
        assert isinstance(mv, memoryview) and not mv.readonly and bytes(mv[:4]) == b"\0\0\0\0"
        mv[:] = b
        w.commit(len(b))
        assert w.write(b"tail", copy=True) == 4
    info = w.close()
    assert set(info) == {"etag", "total_bytes", "parts", "started_at", "completed_at"}
    assert info["total_bytes"] == len(a) + len(b) + 4 and info["parts"] == 2
    assert info["completed_at"] >= info["started_at"]
    assert bytes(s3dlio.get(uri)) == a + b + b"tail"

    bucket_form = s3dlio.MultipartUploadWriter(BUCKET, uri.split(f"{BUCKET}/", 1)[1] + ".2")
    bucket_form.write(b"small")
    assert bucket_form.close()["parts"] == 1
    assert bytes(s3dlio.get(uri + ".2")) == b"small"


def test_multipart_upload_writer_abort_and_errors(s3_prefix: str, seaweedfs_server: Any) -> None:
    uri = s3_prefix + "mpu-aborted.bin"
    with pytest.raises(KeyError), s3dlio.MultipartUploadWriter.from_uri(uri, part_size=5 * MiB) as w:
        w.write(os.urandom(11 * MiB))
        raise KeyError("boom")
    assert not s3dlio.exists(uri)
    w = s3dlio.MultipartUploadWriter.from_uri(uri, part_size=5 * MiB)
    w.write(b"abc")
    w.abort()
    w.abort()  # idempotent, never raises
    assert not s3dlio.exists(uri)
    bucket, _, prefix = uri[5:].partition("/")
    assert not _boto(seaweedfs_server).list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads")
    with pytest.raises(RuntimeError, match="at least 5 MiB"):
        s3dlio.MultipartUploadWriter.from_uri(uri, part_size=1 << 20)
    with pytest.raises(ValueError):
        s3dlio.MultipartUploadWriter.from_uri(uri, max_in_flight=0)
    with pytest.raises(RuntimeError):
        w.commit(1)


# ---------------------------------------------------------------- retries and errors
def test_retries_throttling_and_server_errors(s3_fault_proxy: Any) -> None:
    uri = _via(s3_fault_proxy, f"retry/{uuid.uuid4().hex}")
    s3dlio.put(uri, b"payload")
    s3_fault_proxy.reset(["503", "500"])
    assert bytes(s3dlio.get(uri)) == b"payload"
    assert len(s3_fault_proxy.requests) == 3
    s3_fault_proxy.reset(["reset"])
    assert s3dlio.stat(uri)["size"] == 7
    s3_fault_proxy.reset(["503", "503", "503", "503"])
    with pytest.raises(s3dlio.S3dlioError, match="SlowDown"):
        s3dlio.get(uri)
    assert len(s3_fault_proxy.requests) == 3  # S3DLIO_MAX_RETRY_ATTEMPTS default: 3 attempts
    s3_fault_proxy.reset(["500"])
    s3dlio.put(uri, b"second")
    assert bytes(s3dlio.get(uri)) == b"second"


def test_retry_attempts_setting(s3_fault_proxy: Any, tuned: Any) -> None:
    tuned(max_retry_attempts=1)
    uri = _via(s3_fault_proxy, f"retry1/{uuid.uuid4().hex}")
    s3dlio.put(uri, b"p")
    s3_fault_proxy.reset(["500"])
    with pytest.raises(s3dlio.S3dlioError, match="InternalError"):
        s3dlio.get(uri)
    assert len(s3_fault_proxy.requests) == 1


def test_client_errors_are_never_retried(s3_fault_proxy: Any) -> None:
    missing = _via(s3_fault_proxy, f"missing/{uuid.uuid4().hex}")
    with pytest.raises(s3dlio.ObjectNotFoundError, match="missing/"):
        s3dlio.get(missing)
    assert len(s3_fault_proxy.requests) == 1
    s3_fault_proxy.reset(["403"])
    with pytest.raises(s3dlio.PermissionDeniedError) as ei:
        s3dlio.get(missing)
    assert missing in str(ei.value) and isinstance(ei.value, PermissionError)
    assert len(s3_fault_proxy.requests) == 1


def test_put_verify(s3_prefix: str, tuned: Any) -> None:
    tuned(put_verify=True)
    uri = s3_prefix + "verified.bin"
    s3dlio.put(uri, b"v" * 1000)
    assert s3dlio.stat(uri)["size"] == 1000


# ---------------------------------------------------------------- buckets and listing
def test_buckets_and_endpoint_forms(seaweedfs_server: Any) -> None:
    name = f"s3dlio-b-{uuid.uuid4().hex[:10]}"
    s3dlio.create_bucket(name)
    s3dlio.create_bucket(f"s3://{name}/")  # already yours: fine
    assert name in [b["name"] for b in s3dlio.list_containers("s3://")]
    entry = next(b for b in s3dlio.list_containers("s3://") if b["name"] == name)
    assert entry["uri"] == f"s3://{name}"
    assert entry["creation_date"] is None or entry["creation_date"].endswith("Z")
    hp = seaweedfs_server.endpoint.split("://")[1]
    s3dlio.put(f"s3://{hp}/{name}/k", b"via endpoint form")
    assert bytes(s3dlio.get(f"s3://{name}/k")) == b"via endpoint form"
    assert s3dlio.list(f"s3://{hp}/{name}/") == [f"s3://{hp}/{name}/k"]
    s3dlio.delete(f"s3://{name}/k")
    s3dlio.delete_bucket(name)
    assert name not in [b["name"] for b in s3dlio.list_containers("s3://")]


def test_configure_s3_points_at_an_endpoint(seaweedfs_server: Any, monkeypatch: pytest.MonkeyPatch,
                                            s3_prefix: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    s3dlio.configure_s3(endpoint_url=seaweedfs_server.endpoint, region="us-east-1")
    try:
        s3dlio.put(s3_prefix + "configured", b"ok")
        assert bytes(s3dlio.get(s3_prefix + "configured")) == b"ok"
    finally:
        clear_store_cache()


# ---------------------------------------------------------------- TLS
@pytest.fixture(scope="module")
def tls_server(s3_test_env: dict[str, str]) -> Any:
    import socket
    import time

    server = _servers.procs.start_seaweedfs(tls=True)
    deadline = time.monotonic() + 30
    while True:  # the https listener may come up after the http one
        try:
            socket.create_connection(("127.0.0.1", server.https_port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)
    yield server
    server.stop()


def test_https_endpoint_with_a_ca_bundle(tls_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    port = tls_server.https_port
    monkeypatch.setenv("S3DLIO_S3_ENDPOINT_TLS_PORTS", str(port))
    bucket = f"s3://127.0.0.1:{port}/tls-bucket"
    monkeypatch.setenv("AWS_CA_BUNDLE", tls_server.cert)
    clear_store_cache()
    try:
        s3dlio.create_bucket(bucket)
        data = os.urandom(100_000)
        s3dlio.put(bucket + "/k.bin", data)
        assert bytes(s3dlio.get(bucket + "/k.bin")) == data
        assert s3dlio.list(bucket + "/") == [bucket + "/k.bin"]
        monkeypatch.delenv("AWS_CA_BUNDLE")  # an unknown issuer must be refused
        clear_store_cache()
        with pytest.raises(s3dlio.S3dlioError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            s3dlio.get(bucket + "/k.bin")
        # the same through a store configured in code: the bundle in an S3Config, the endpoint URL too
        from s3dlio_backends.s3 import S3Config
        from s3dlio_core import new_store

        monkeypatch.delenv("S3DLIO_S3_ENDPOINT_TLS_PORTS")
        url = f"https://127.0.0.1:{port}"
        store = new_store("s3://tls-bucket/", S3Config(endpoint_url=url, ca_bundle=tls_server.cert))
        assert bytes(store.get("s3://tls-bucket/k.bin")) == data
        with pytest.raises(s3dlio.S3dlioError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            new_store("s3://tls-bucket/", S3Config(endpoint_url=url)).get("s3://tls-bucket/k.bin")
    finally:
        clear_store_cache()


# ---------------------------------------------------------------- get_many's single-thread multiplexer
def test_get_many_mixed_sizes_in_order(s3_fault_proxy: Any, tuned: Any) -> None:
    tuned(range_threshold=1 * MiB, range_chunk_size=1 * MiB)
    sizes = [0, 1, 4096, 3 * MiB + 5, 100, 0, 2 * MiB]
    items = [(_via(s3_fault_proxy, f"mux/{uuid.uuid4().hex}-{i}"), os.urandom(n)) for i, n in enumerate(sizes)]
    s3dlio.put_many(items)
    uris = [u for u, _ in items] * 3
    s3_fault_proxy.reset()
    got = s3dlio.get_many(uris, max_in_flight=4)
    assert [u for u, _ in got] == uris
    assert [bytes(v) for _, v in got] == [d for _, d in items] * 3
    assert all(isinstance(v, s3dlio.BytesView) for _, v in got)
    assert all(r.startswith("GET ") for r in s3_fault_proxy.requests)


def test_get_many_survives_faults_and_raises_typed_errors(s3_fault_proxy: Any) -> None:
    items = [(_via(s3_fault_proxy, f"muxf/{uuid.uuid4().hex}-{i}"), f"v{i}".encode() * 50) for i in range(20)]
    s3dlio.put_many(items)
    uris = [u for u, _ in items]
    s3dlio.get_many(uris, max_in_flight=4)  # warm keep-alive sockets
    s3_fault_proxy.reset(["pass", "503", "reset", "pass", "500", "reset", "503"])
    got = s3dlio.get_many(uris, max_in_flight=4)
    assert [bytes(v) for _, v in got] == [d for _, d in items]
    missing = _via(s3_fault_proxy, f"muxf/missing-{uuid.uuid4().hex}")
    with pytest.raises(s3dlio.ObjectNotFoundError) as ei:
        s3dlio.get_many([*uris[:5], missing, *uris[5:]], max_in_flight=4)
    assert ei.value.uri == missing
    s3_fault_proxy.reset(["403"])
    with pytest.raises(s3dlio.PermissionDeniedError):
        s3dlio.get_many(uris[:3], max_in_flight=2)


def test_get_many_without_range_optimization(s3_prefix: str, tuned: Any) -> None:
    tuned(enable_range_optimization=False)
    items = [(s3_prefix + f"plain-{i}", os.urandom(i * 1000)) for i in range(10)]
    s3dlio.put_many(items)
    assert [bytes(v) for _, v in s3dlio.get_many([u for u, _ in items], 3)] == [d for _, d in items]


def test_get_many_counts_attempts_like_get(s3_fault_proxy: Any, tuned: Any) -> None:
    uris = [_via(s3_fault_proxy, f"muxa/{uuid.uuid4().hex}-{i}") for i in range(2)]
    s3dlio.put_many([(u, b"x") for u in uris])
    s3_fault_proxy.reset(["503"] * 10)
    with pytest.raises(s3dlio.S3dlioError, match="SlowDown"):
        s3dlio.get_many(uris, max_in_flight=1)
    assert len(s3_fault_proxy.requests) == 4  # 1 + 1 multiplexed, then uri 0's 2nd and 3rd attempts
    tuned(max_retry_attempts=1)
    s3_fault_proxy.reset(["500"] * 10)
    with pytest.raises(s3dlio.S3dlioError, match="InternalError"):
        s3dlio.get_many(uris, max_in_flight=2)
    assert len(s3_fault_proxy.requests) == 2  # one attempt each, nothing retried


def test_get_many_reports_each_object_to_observers(s3_prefix: str, tuned: Any) -> None:
    from s3dlio_core import instrument

    tuned(range_threshold=1 * MiB, range_chunk_size=1 * MiB)
    items = [(s3_prefix + f"obs-{i}", os.urandom(n)) for i, n in enumerate([10, 2 * MiB + 1, 0, 300_000])]
    s3dlio.put_many(items)
    seen: list[Any] = []
    instrument.add_observer(seen.append)
    try:
        got = s3dlio.get_many([u for u, _ in items], max_in_flight=4)
        with pytest.raises(s3dlio.ObjectNotFoundError):
            s3dlio.get_many([items[0][0], s3_prefix + "obs-missing"], max_in_flight=2)
    finally:
        instrument.remove_observer(seen.append)
    assert [bytes(v) for _, v in got] == [d for _, d in items]
    gets = [r for r in seen if r.op == "GET"]
    by_uri = {r.uri: r for r in gets if r.error is None}
    for uri, data in items:
        r = by_uri[uri]
        assert r.bytes == len(data) and r.start_ns <= r.end_ns
    assert any(r.error and "obs-missing" in r.uri for r in gets)
