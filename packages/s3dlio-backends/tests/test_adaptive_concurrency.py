"""Adaptive concurrency against a throttling proxy (tests/support fault_proxy.py, `throttle(n)`): like an
overloaded server it answers 503 SlowDown to any request that arrives while N are being served. With
max_in_flight 64 against N = 8, put_many and get_many (threads, and the single-thread multiplexer) bring
the endpoint's in-flight limit down to about N and finish with a fraction of the throttled attempts a fixed
limit meets; with the default 3 attempts a fixed limit fails outright. The same holds for GCS and Azure,
every slot is given back whatever the answer, and S3DLIO_ADAPTIVE_CONCURRENCY=0 turns it off."""

from __future__ import annotations

import os
import statistics
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from s3dlio_backends.azure import AzureConfig, AzureStore
from s3dlio_backends.gcs import GcsConfig, GcsStore
from s3dlio_core import ObjectNotFoundError, StorageIOError, ThrottledError, new_store
from s3dlio_core.adaptive import AdaptiveLimit
from s3dlio_core.registry import clear_store_cache
from s3dlio_core.settings import Settings, reset_settings
from s3dlio_core.store_config import StoreConfig
from s3dlio_testsupport import server_fixtures
from s3dlio_testsupport.azurite import AZURITE_ACCOUNT, AZURITE_KEY
from s3dlio_testsupport.fault_proxy import FaultProxy

_s3 = server_fixtures("s3")
_gcs = server_fixtures("gcs")
_az = server_fixtures("azure")
s3_test_env = _s3.s3_test_env
seaweedfs_server = _s3.seaweedfs_server
fake_gcs = _gcs.fake_gcs
gcs_bucket = _gcs.gcs_bucket
azurite = _az.azurite
azure_container = _az.azure_container
BUCKET = _s3.S3_BUCKET
N = 8  # the proxy's capacity
IN_FLIGHT = 64
OBJECTS = 800


@pytest.fixture(scope="module")
def throttler(seaweedfs_server: Any) -> Iterator[FaultProxy]:
    p = FaultProxy(seaweedfs_server.endpoint.split("://", 1)[1])
    yield p
    p.close()


@pytest.fixture
def proxy(throttler: FaultProxy) -> Iterator[FaultProxy]:
    throttler.reset()
    throttler.throttle(None)
    yield throttler
    throttler.throttle(None)
    clear_store_cache()


def _base(p: FaultProxy) -> str:
    return f"s3://{p.hostport}/{BUCKET}/{uuid.uuid4().hex[:10]}/"


def _items(base: str, n: int = OBJECTS) -> list[tuple[str, bytes]]:
    return [(f"{base}o{i:05d}", os.urandom(4096)) for i in range(n)]


class Sampler:
    """Samples a limit's in-flight count and value every 2 ms while a run lasts."""

    def __init__(self, lim: AdaptiveLimit) -> None:
        self.lim = lim
        self.samples: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.samples.append((self.lim.inflight, self.lim.limit))

    def __enter__(self) -> Sampler:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()

    def late(self) -> tuple[float, int, float]:
        """Over the second half of the run: the mean in flight while any request was, the most in flight,
        and the mean limit."""
        half = self.samples[len(self.samples) // 2:] or [(0, 0.0)]
        busy = [s[0] for s in half if s[0]] or [0]
        return statistics.fmean(busy), max(busy), statistics.fmean(s[1] for s in half)


def _run(p: FaultProxy, store: Any, op: Callable[[], Any]) -> dict[str, Any]:
    p.throttle(N)
    op()
    return p.stats()


# ---------------------------------------------------------------- S3: converge, and beat a fixed limit
def test_put_many_and_get_many_converge_to_the_servers_capacity(proxy: FaultProxy) -> None:
    base = _base(proxy)
    store = new_store(base)  # the defaults: adaptive, 3 attempts per request
    lim = store.client.limit
    assert isinstance(lim, AdaptiveLimit) and not lim.engaged
    items = _items(base)
    uris = [u for u, _ in items]
    with Sampler(lim) as put_s:
        put = _run(proxy, store, lambda: store.put_many(items, IN_FLIGHT))
    with Sampler(lim) as get_s:
        got: list[Any] = []
        get = _run(proxy, store, lambda: got.extend(store.get_many(uris, IN_FLIGHT)))
    assert [u for u, _ in got] == uris and all(bytes(v) == d for (_, v), (_, d) in zip(got, items, strict=True))
    for stats, sampler in ((put, put_s), (get, get_s)):
        assert stats["served"] == OBJECTS and stats["peak"] <= N
        assert stats["throttled"] < 0.15 * OBJECTS, stats["throttled"]  # a fixed limit: see below
        inflight, most, limit = sampler.late()
        assert 1 <= inflight <= N + 1 and most <= 2 * N and N / 4 <= limit <= 2 * N, (inflight, most, limit)
    assert lim.engaged and lim.throttles == put["throttled"] + get["throttled"]  # every 503 reported
    assert lim.inflight == 0


def test_a_fixed_limit_meets_far_more_throttled_attempts(proxy: FaultProxy) -> None:
    """Both finish (10 attempts per request); the adaptive one is throttled a fraction as often.

    Measured (throttled attempts, adaptive vs fixed, 800 objects): put 30-68 vs 93-134, get 28-38 vs
    131-328; the put ratio fell to 1.97x once on a loaded 2-core CI machine, and in a full local run (the
    tiers beside each other) the fixed limit's GET met only 80 (adaptive 43 + 40 vs fixed 100 + 80, 0.46),
    so each operation must show at most three quarters of the fixed limit's throttles and both together at
    most half."""
    throttled: dict[bool, dict[str, int]] = {}
    for adaptive in (True, False):
        base = _base(proxy)
        store = new_store(base, StoreConfig(adaptive_concurrency=adaptive, max_retry_attempts=10))
        assert (store.client.limit is not None) is adaptive
        items = _items(base)
        put = _run(proxy, store, lambda: store.put_many(items, IN_FLIGHT))  # noqa: B023
        got: list[Any] = []
        get = _run(proxy, store, lambda: got.extend(store.get_many([u for u, _ in items], IN_FLIGHT)))  # noqa: B023
        assert len(got) == OBJECTS and put["served"] == get["served"] == OBJECTS
        throttled[adaptive] = {"put": put["throttled"], "get": get["throttled"]}
    for op in ("put", "get"):
        assert 4 * throttled[True][op] <= 3 * throttled[False][op], throttled
    assert 2 * sum(throttled[True].values()) <= sum(throttled[False].values()), throttled


def test_with_the_default_attempts_a_fixed_limit_fails(proxy: FaultProxy) -> None:
    base = _base(proxy)
    store = new_store(base, StoreConfig(adaptive_concurrency=False))
    proxy.throttle(N)
    with pytest.raises(ThrottledError) as ei:
        store.put_many(_items(base), IN_FLIGHT)
    assert ei.value.uri and ei.value.uri.startswith(base) and ei.value.retried == 2
    assert "SlowDown" in str(ei.value)


def test_the_limit_bounds_threads_and_the_multiplexer(proxy: FaultProxy) -> None:
    """An engaged limit of 3: put_many's 64 threads and get_many's 64 sockets keep 3 requests in flight."""
    base = _base(proxy)
    store = new_store(base)
    items = _items(base, 200)
    store.put_many(items, IN_FLIGHT)
    store.client.limit = AdaptiveLimit(ceiling=3)  # as if the endpoint had throttled us down to 3
    proxy.throttle(1000)  # count only: never throttles
    store.put_many(items, IN_FLIGHT)
    assert proxy.stats()["peak"] <= 3 and proxy.stats()["served"] == 200
    proxy.throttle(1000)
    got = store.get_many([u for u, _ in items], IN_FLIGHT)
    assert [bytes(v) for _, v in got] == [d for _, d in items]
    assert proxy.stats()["peak"] <= 3 and proxy.stats()["served"] == 200
    assert store.client.limit.inflight == 0


def test_every_slot_is_given_back(proxy: FaultProxy) -> None:
    base = _base(proxy)
    store = new_store(base)
    lim = store.client.limit
    items = _items(base, 50)
    store.put_many(items, 16)
    uris = [u for u, _ in items]
    assert len(store.get_many(uris, 16)) == 50 and lim.inflight == 0 and lim.throttles == 0 and not lim.engaged
    with pytest.raises(ObjectNotFoundError):
        store.get_many([*uris[:20], base + "missing", *uris[20:]], 16)
    assert lim.inflight == 0
    proxy.reset(["reset", "500", "503", "reset"])  # broken connections and errors, then success
    assert len(store.get_many(uris[:10], 4)) == 10
    proxy.reset(["500", "reset", "503"])
    store.put(base + "again", b"x")
    assert bytes(store.get(base + "again")) == b"x"
    with pytest.raises(ObjectNotFoundError):
        store.get_many([base + "missing"] * 3, 3)
    proxy.reset(["500", "500", "500"])  # retries used up: a typed error, and the slots are back
    with pytest.raises(StorageIOError):
        store.get(uris[0])
    assert lim.inflight == 0 and lim.throttles == 2


def test_a_forked_child_has_a_limit_of_its_own(proxy: FaultProxy) -> None:
    base = _base(proxy)
    store = new_store(base)
    store.put(base + "k", b"fork")
    store.client.limit.acquire()
    store.client.limit.throttled()  # the parent is throttled down and has a request in flight
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a fresh client, a fresh limit, nothing in flight
        try:
            lim = store.client.limit
            ok = lim is not None and not lim.engaged and lim.inflight == 0 and bytes(store.get(base + "k")) == b"fork"
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"1"
    os.waitpid(pid, 0)
    os.close(r)
    store.client.limit.release(False)


def test_throttles_the_limit_answers_for_use_no_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the limit can still back off, a throttled attempt is not counted (at most
    THROTTLED_FREE_RETRIES of them); at the floor, or with no retries allowed, it is."""
    from s3dlio_backends import retry

    monkeypatch.setattr(retry.time, "sleep", lambda s: None)

    def always_throttled(calls: list[int]) -> Callable[[], None]:
        def attempt() -> None:
            calls.append(1)
            raise ThrottledError("S3 GET for s3://b/k failed: SlowDown (HTTP 503)", "s3://b/k", status=503,
                                 code="SlowDown")
        return attempt

    roomy = AdaptiveLimit()  # other requests keep it high: each throttle leaves room to back off
    calls: list[int] = []
    with pytest.raises(ThrottledError) as ei:
        retry.retry_after(ThrottledError("t", "u", status=503), always_throttled(calls), attempts=3, limit=roomy)
    assert len(calls) == 2 + retry.THROTTLED_FREE_RETRIES  # (the first attempt was the caller's)
    assert ei.value.retried == 2 + retry.THROTTLED_FREE_RETRIES
    # a lone request: its throttle cuts the limit to the floor at once, so attempts count as before; and
    # no retries allowed means none
    for limit, attempts, expected in ((AdaptiveLimit(), 3, 3), (AdaptiveLimit(), 1, 1), (None, 3, 3)):
        calls = []
        with pytest.raises(ThrottledError) as ei:
            retry.call_with_retries(always_throttled(calls), attempts=attempts, limit=limit)
        assert len(calls) == expected and ei.value.retried == expected - 1
        assert limit is None or (limit.inflight == 0 and limit.limit == 1 and limit.throttles == expected)


# ---------------------------------------------------------------- GCS and Azure
@pytest.fixture
def gcs_throttler(fake_gcs: Any) -> Iterator[FaultProxy]:
    p = FaultProxy(fake_gcs.endpoint.removeprefix("http://"))
    yield p
    p.close()


@pytest.fixture
def azure_throttler(azurite: Any) -> Iterator[FaultProxy]:
    p = FaultProxy(f"127.0.0.1:{azurite.port}")
    yield p
    p.close()


def _http_backend_backs_off(p: FaultProxy, store: Any, base: str, lim: Callable[[], AdaptiveLimit | None]) -> None:
    items = [(f"{base}o{i:04d}", os.urandom(1024)) for i in range(200)]
    p.throttle(4)
    store.put_many(items, 32)
    put = p.stats()
    p.throttle(4)
    got = store.get_many([u for u, _ in items], 32)
    get = p.stats()
    assert [bytes(v) for _, v in got] == [d for _, d in items]
    limit = lim()
    assert limit is not None and limit.engaged and limit.inflight == 0
    assert limit.throttles == put["throttled"] + get["throttled"] > 0
    assert put["served"] >= 200 and get["served"] >= 200


def test_gcs_backs_off(gcs_throttler: FaultProxy, gcs_bucket: str) -> None:
    store = GcsStore(GcsConfig(endpoint=f"http://{gcs_throttler.hostport}", anonymous=True))
    _http_backend_backs_off(gcs_throttler, store, f"gs://{gcs_bucket}/{uuid.uuid4().hex[:8]}/",
                            lambda: store._gcs.limit)


def test_azure_backs_off(azure_throttler: FaultProxy, azure_container: str) -> None:
    store = AzureStore(AzureConfig(account=AZURITE_ACCOUNT, endpoint=f"http://{azure_throttler.hostport}",
                                   account_key=AZURITE_KEY))
    _http_backend_backs_off(azure_throttler, store,
                            f"az://{AZURITE_ACCOUNT}/{azure_container}/{uuid.uuid4().hex[:8]}/",
                            lambda: store._az.limit(AZURITE_ACCOUNT))


# ---------------------------------------------------------------- turning it off
def test_it_can_be_turned_off(proxy: FaultProxy, gcs_bucket: str, fake_gcs: Any, azurite: Any,
                              azure_container: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env({}).adaptive_concurrency
    assert not Settings.from_env({"S3DLIO_ADAPTIVE_CONCURRENCY": "0"}).adaptive_concurrency
    monkeypatch.setenv("S3DLIO_ADAPTIVE_CONCURRENCY", "0")
    reset_settings()
    clear_store_cache()
    try:
        base = _base(proxy)
        store = new_store(base)
        assert store.client.limit is None
        store.put(base + "off", b"off")
        assert bytes(store.get_many([base + "off"] * 2)[1][1]) == b"off"
        gcs = GcsStore(GcsConfig(endpoint=fake_gcs.endpoint, anonymous=True))
        gcs.put(f"gs://{gcs_bucket}/off", b"off")
        assert gcs._gcs.limit is None
        az = AzureStore(AzureConfig(account=AZURITE_ACCOUNT, endpoint=f"http://127.0.0.1:{azurite.port}",
                                    account_key=AZURITE_KEY))
        assert az._az.limit(AZURITE_ACCOUNT) is None
    finally:
        monkeypatch.undo()
        reset_settings()
        clear_store_cache()
    assert new_store(_base(proxy)).client.limit is not None
    assert new_store(_base(proxy), StoreConfig(adaptive_concurrency=False)).client.limit is None

