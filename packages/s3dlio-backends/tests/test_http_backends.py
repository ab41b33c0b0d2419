"""What the HTTP object-store base (http_store.py) and the one retry policy (retry.py) promise, on all three
HTTP backends against their real servers (SeaweedFS, fake-gcs-server, Azurite), each behind a recording,
fault-injecting proxy on 127.0.0.1: retries and typed errors, huge range lengths, and the streaming
writer's S3DLIO_MPU_PUT_VERIFY check."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import s3dlio
import s3dlio_core.registry as registry
from s3dlio_backends.azure import AzureConfig, AzureStore
from s3dlio_backends.gcs import GcsConfig, GcsStore
from s3dlio_core import ObjectStore, StorageIOError, ThrottledError, store_for_uri
from s3dlio_core.settings import configure, reset_settings
from s3dlio_testsupport import fault_proxy, server_fixtures
from s3dlio_testsupport.azurite import AZURITE_ACCOUNT, AZURITE_KEY

_s3 = server_fixtures("s3")
_gcs = server_fixtures("gcs")
_az = server_fixtures("azure")
s3_test_env = _s3.s3_test_env
seaweedfs_server = _s3.seaweedfs_server
s3_fault_proxy_session = _s3.s3_fault_proxy_session
s3_fault_proxy = _s3.s3_fault_proxy
fake_gcs = _gcs.fake_gcs
gcs_bucket = _gcs.gcs_bucket
azurite = _az.azurite
azure_container = _az.azure_container
MiB = 1 << 20
BACKENDS = ["s3", "gcs", "azure"]


@dataclass
class Proxied:
    """One backend reached through a fault proxy: its store, a URI maker, the proxy and the name of the
    request that reads an object's metadata (for request-pattern checks)."""

    name: str
    store: ObjectStore
    uri: Callable[[str], str]
    proxy: Any
    stat_method: str

    def requests_of(self, method: str) -> list[str]:
        return [r for r in self.proxy.requests if r.startswith(method + " ")]


@pytest.fixture
def settings_restored() -> Iterator[None]:
    yield
    reset_settings()
    registry.clear_store_cache()


@pytest.fixture
def gcs_proxy(fake_gcs: Any) -> Iterator[Any]:
    p = fault_proxy.FaultProxy(fake_gcs.endpoint.removeprefix("http://"))
    yield p
    p.close()


@pytest.fixture
def azure_proxy(azurite: Any) -> Iterator[Any]:
    p = fault_proxy.FaultProxy(f"127.0.0.1:{azurite.port}")
    yield p
    p.close()


@pytest.fixture(params=BACKENDS)
def proxied(request: pytest.FixtureRequest, settings_restored: None) -> Proxied:
    name = request.param
    if name == "s3":
        proxy = request.getfixturevalue("s3_fault_proxy")
        base = f"s3://{proxy.hostport}/{_s3.S3_BUCKET}/{uuid.uuid4().hex[:10]}/"
        store, _ = store_for_uri(base)
        return Proxied(name, store, lambda k: base + k, proxy, "HEAD")
    if name == "gcs":
        proxy = request.getfixturevalue("gcs_proxy")
        bucket = request.getfixturevalue("gcs_bucket")
        store = GcsStore(GcsConfig(endpoint=f"http://{proxy.hostport}", anonymous=True))
        return Proxied(name, store, lambda k: f"gs://{bucket}/{k}", proxy, "GET")
    proxy = request.getfixturevalue("azure_proxy")
    container = request.getfixturevalue("azure_container")
    store = AzureStore(AzureConfig(account=AZURITE_ACCOUNT, endpoint=f"http://{proxy.hostport}",
                                   account_key=AZURITE_KEY))
    return Proxied(name, store, lambda k: f"az://{AZURITE_ACCOUNT}/{container}/{k}", proxy, "HEAD")


@pytest.fixture
def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every time.sleep made while the test runs (the retry back-offs), really slept."""
    slept: list[float] = []
    real = time.sleep

    def sleep(s: float) -> None:
        slept.append(s)
        real(s)

    monkeypatch.setattr(time, "sleep", sleep)
    return slept


# ---------------------------------------------------------------- retries and typed errors
def test_a_transient_503_is_retried_at_once(proxied: Proxied, recorded_sleeps: list[float]) -> None:
    """503 then 200: the second attempt comes after our back-off (well under a second), not the SDKs'
    (Azure's default policy waits about 15 s)."""
    uri = proxied.uri("retry.bin")
    proxied.store.put(uri, b"payload")
    proxied.proxy.reset(["503"])
    recorded_sleeps.clear()
    assert bytes(proxied.store.get(uri)) == b"payload"
    assert len(proxied.requests_of("GET")) == 2
    assert len(recorded_sleeps) == 1 and recorded_sleeps[0] < 1.0


@pytest.mark.parametrize("fault", ["503", "429"])
def test_persistent_throttling_is_a_throttled_error_after_the_configured_attempts(
        proxied: Proxied, fault: str) -> None:
    uri = proxied.uri("throttled.bin")
    proxied.store.put(uri, b"x" * 10)
    configure(max_retry_attempts=2)
    proxied.proxy.reset([fault] * 6)
    with pytest.raises(ThrottledError) as ei:
        proxied.store.get(uri)
    e = ei.value
    assert isinstance(e, StorageIOError) and e.status == int(fault) and e.retried == 1
    assert uri in str(e)
    assert len(proxied.requests_of("GET")) == 2  # S3DLIO_MAX_RETRY_ATTEMPTS: 2 attempts in all


def test_server_errors_use_every_attempt_then_raise_with_status_and_count(proxied: Proxied) -> None:
    uri = proxied.uri("server-error.bin")
    proxied.store.put(uri, b"x" * 10)
    proxied.proxy.reset(["500"] * 6)
    with pytest.raises(StorageIOError) as ei:
        proxied.store.stat(uri)
    e = ei.value
    assert not isinstance(e, ThrottledError) and e.status == 500 and e.retried == 2 and uri in str(e)
    assert len(proxied.proxy.requests) == 3  # the default: 3 attempts
    configure(max_retry_attempts=1)
    proxied.proxy.reset(["500"] * 6)
    with pytest.raises(StorageIOError) as ei:
        proxied.store.get(uri)
    assert ei.value.retried == 0 and len(proxied.proxy.requests) == 1


def test_refusals_are_never_retried(proxied: Proxied) -> None:
    uri = proxied.uri("refused.bin")
    proxied.store.put(uri, b"x")
    proxied.proxy.reset(["403"])
    with pytest.raises(s3dlio.PermissionDeniedError) as ei:
        proxied.store.get(uri)
    assert uri in str(ei.value) and len(proxied.proxy.requests) == 1
    proxied.proxy.reset()
    with pytest.raises(s3dlio.ObjectNotFoundError) as nf:
        proxied.store.get(proxied.uri("missing.bin"))
    assert proxied.uri("missing.bin") in str(nf.value) and len(proxied.proxy.requests) == 1


def test_a_broken_connection_is_retried(proxied: Proxied) -> None:
    uri = proxied.uri("reset.bin")
    proxied.store.put(uri, b"r" * 100)
    proxied.proxy.reset(["reset"])
    assert proxied.store.stat(uri)["size"] == 100


# ---------------------------------------------------------------- ranges
def test_a_huge_length_reads_to_the_end(proxied: Proxied, settings_restored: None) -> None:
    uri = proxied.uri("thousand.bin")
    data = os.urandom(1000)
    proxied.store.put(uri, data)
    for optimise in (True, False):
        configure(enable_range_optimization=optimise)
        assert bytes(proxied.store.get_range(uri, 0, 2**64 - 1)) == data
        assert bytes(proxied.store.get_range(uri, 10, 2**64 - 1)) == data[10:]
        assert bytes(proxied.store.get_range(uri, 10, (1 << 62) + 5)) == data[10:]
        assert bytes(proxied.store.get_range(uri, 990)) == data[990:]
        assert bytes(proxied.store.get_range(uri, 2000, 2**64 - 1)) == b""


def test_a_split_read_lands_in_one_buffer_with_pinned_ranges(proxied: Proxied) -> None:
    configure(range_threshold=1 * MiB, range_chunk_size=512 * 1024)
    uri = proxied.uri("split.bin")
    data = os.urandom(3 * MiB + 5)
    proxied.store.put(uri, data)
    proxied.proxy.reset()
    assert bytes(proxied.store.get(uri)) == data
    assert len(proxied.requests_of("GET")) == 1 + 5  # the first MiB, then 2 MiB + 5 in 512 KiB ranges
    assert bytes(proxied.store.get_range(uri, MiB - 3, 2 * MiB + 7)) == data[MiB - 3: 3 * MiB + 4]
    buf = bytearray(len(data))
    assert proxied.store.get_into(uri, buf) == len(data) and buf == data
    with pytest.raises(s3dlio.LengthMismatchError, match="length mismatch"):
        proxied.store.get_into(uri, bytearray(len(data) - 1))


# ---------------------------------------------------------------- writes
def test_the_streaming_writer_size_checks_a_multipart_upload(proxied: Proxied,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """S3DLIO_MPU_PUT_VERIFY: every backend's streaming writer checks the size after a multipart upload
    (S3's did not), and a wrong size is an error."""
    configure(mpu_put_verify=True, multipart_part_size=5 * MiB, multipart_threshold=5 * MiB)
    uri = proxied.uri("stream.bin")
    chunks = [os.urandom(MiB + 11) for _ in range(11)]
    proxied.proxy.reset()
    with proxied.store.open_writer(uri) as w:
        for c in chunks:
            w.write(c)
    assert bytes(proxied.store.get(uri)) == b"".join(chunks)
    stats = proxied.requests_of(proxied.stat_method)
    assert stats, proxied.proxy.requests  # the size check after the upload completed
    real = proxied.store._stat

    def lying(u: Any) -> dict[str, Any]:
        st = dict(real(u))
        st["size"] -= 1
        return st

    monkeypatch.setattr(proxied.store, "_stat", lying)
    w = proxied.store.open_writer(proxied.uri("stream2.bin"))
    for c in chunks:
        w.write(c)
    with pytest.raises(StorageIOError, match="size mismatch"):
        w.close()


def test_a_failed_large_put_leaves_nothing(proxied: Proxied) -> None:
    configure(multipart_part_size=5 * MiB, multipart_threshold=5 * MiB, max_retry_attempts=1)
    uri = proxied.uri("failed-large.bin")
    proxied.proxy.reset(["pass", "pass", "403", "403", "403", "403"])  # start, one part, then refusals
    with pytest.raises(s3dlio.S3dlioError):
        proxied.store.put(uri, os.urandom(16 * MiB))
    proxied.proxy.reset()
    assert not proxied.store.exists(uri)


# ---------------------------------------------------------------- listing with metadata
def test_list_info_carries_what_stat_says_from_one_listing_request(proxied: Proxied) -> None:
    """ListObjectsV2 / the JSON list / List Blobs already hold size, last-modified and ETag: list_info
    returns them (as stat spells them) without one request per object."""
    uris = [proxied.uri(f"li/o{i}.bin") for i in range(4)] + [proxied.uri("li/sub/x.bin")]
    for i, u in enumerate(uris):
        proxied.store.put(u, os.urandom(100 * i + 1))
    proxied.proxy.reset()
    infos = proxied.store.list_info(proxied.uri("li/"), recursive=True)
    assert len(proxied.proxy.requests) == 1, proxied.proxy.requests
    assert [i.uri for i in infos] == sorted(uris) and not any(i.is_dir for i in infos)
    for info in infos:
        st = proxied.store.stat(info.uri)
        assert (info.size, info.last_modified, info.etag) == (st["size"], st["last_modified"], st["etag"])
    top = proxied.store.list_info(proxied.uri("li/"))
    assert [i.uri for i in top if i.is_dir] == [proxied.uri("li/sub/")]
    assert [i.size for i in top if not i.is_dir] == [1, 101, 201, 301]


def test_suffix_and_range_into(proxied: Proxied) -> None:
    """get_suffix is one `bytes=-N` request where the service takes it (S3, GCS), a HEAD and a range on
    Azure; get_range_into lands in the caller's buffer and is short at the end of the object."""
    uri = proxied.uri("footer.bin")
    data = os.urandom(5000)
    proxied.store.put(uri, data)
    proxied.proxy.reset()
    assert bytes(proxied.store.get_suffix(uri, 16)) == data[-16:]
    assert len(proxied.proxy.requests) == (2 if proxied.name == "azure" else 1)
    assert bytes(proxied.store.get_suffix(uri, 99_999)) == data
    empty = proxied.uri("empty.bin")
    proxied.store.put(empty, b"")
    assert bytes(proxied.store.get_suffix(empty, 8)) == b""
    buf = bytearray(1000)
    assert proxied.store.get_range_into(uri, 4500, buf) == 500 and buf[:500] == data[4500:]
    assert proxied.store.get_range_into(uri, 6000, buf) == 0
    with pytest.raises(s3dlio.ObjectNotFoundError):
        proxied.store.get_suffix(proxied.uri("absent.bin"), 4)
