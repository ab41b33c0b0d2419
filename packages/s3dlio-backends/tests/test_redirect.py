"""S3 redirects (AIStore-style 307s) against SeaweedFS behind a redirecting gateway and a recording target
(tests/support redirect_proxy.py): with S3DLIO_FOLLOW_REDIRECTS every hop is signed again for its own host
(the S3 server verifies the target's signature; the gateway's Authorization never reaches the target),
bodies are re-sent for PUTs and multipart parts, get_many works through it, the hop limit ends a loop with
a typed error naming the URI, and the mode decides which hosts and schemes a redirect may lead to."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import s3dlio
from s3dlio_backends.s3 import S3Config
from s3dlio_backends.s3.redirect import Hop, next_hop, redirect_mode
from s3dlio_core import StorageIOError, new_store
from s3dlio_core.registry import clear_store_cache
from s3dlio_core.settings import Settings, reset_settings
from s3dlio_core.store_config import StoreConfig
from s3dlio_testsupport import server_fixtures
from s3dlio_testsupport.redirect_proxy import RedirectProxy
from s3dlio_testsupport.s3_procs import self_signed_cert

_servers = server_fixtures("s3")
s3_test_env = _servers.s3_test_env
seaweedfs_server = _servers.seaweedfs_server
BUCKET = _servers.S3_BUCKET
MiB = 1 << 20


def _hostport(server: Any) -> str:
    return server.endpoint.split("://", 1)[1].rstrip("/")


class Gateway:
    """A redirecting gateway in front of a recording target in front of SeaweedFS."""

    def __init__(self, seaweed: Any, status: int = 307, tls: tuple[str, str] | None = None,
                 target_tls: tuple[str, str] | None = None) -> None:
        self.target = RedirectProxy(upstream=_hostport(seaweed), tls=target_tls)
        self.gw = RedirectProxy(redirect_to=self.target.origin, status=status, add_query="pid=p1&utm=7",
                                tls=tls)
        self.prefix = f"{uuid.uuid4().hex[:10]}/"

    def uri(self, key: str) -> str:
        return f"s3://{self.gw.hostport}/{BUCKET}/{self.prefix}{key}"

    def direct(self, seaweed: Any, key: str) -> str:
        return f"s3://{_hostport(seaweed)}/{BUCKET}/{self.prefix}{key}"

    def close(self) -> None:
        self.gw.close()
        self.target.close()


@pytest.fixture
def gateway(seaweedfs_server: Any) -> Iterator[Gateway]:
    g = Gateway(seaweedfs_server)
    yield g
    g.close()
    clear_store_cache()


def _following(g: Gateway, **kw: Any) -> Any:
    return new_store(g.uri(""), StoreConfig(follow_redirects=kw.pop("mode", True), **kw))


def _check_hops(g: Gateway) -> None:
    """Each request reached the gateway signed for the gateway and the target signed anew for the target:
    the gateway's Authorization never travelled on."""
    assert g.gw.requests and len(g.target.requests) == len(g.gw.requests)
    gw_auth = {r.headers["authorization"] for r in g.gw.requests}
    for first, hop in zip(g.gw.requests, g.target.requests, strict=True):
        assert first.host == g.gw.hostport and first.signed_host
        assert hop.host == g.target.hostport and hop.signed_host
        assert hop.method == first.method and "pid=p1" in hop.target and "utm=7" in hop.target
        assert hop.headers["authorization"] not in gw_auth
        assert not any(first.headers["authorization"].rsplit("Signature=", 1)[1] in v for v in hop.headers.values())


def test_get_ranged_get_head_and_put_follow_the_redirect(gateway: Gateway) -> None:
    store = _following(gateway)
    data = os.urandom(100_000)
    uri = gateway.uri("obj.bin")
    store.put(uri, data)
    assert bytes(store.get(uri)) == data
    assert bytes(store.get_range(uri, 1000, 5000)) == data[1000:6000]
    assert store.stat(uri)["size"] == len(data)
    methods = [r.method for r in gateway.target.requests]
    assert methods == ["PUT", "GET", "GET", "HEAD"]
    assert gateway.target.requests[0].body_len == len(data)  # the body went to the target whole
    assert gateway.target.requests[2].headers["range"] == "bytes=1000-5999"
    _check_hops(gateway)


@pytest.mark.parametrize("status", [301, 302, 308])
def test_the_other_redirect_statuses(seaweedfs_server: Any, status: int) -> None:
    g = Gateway(seaweedfs_server, status=status)
    try:
        store = _following(g)
        store.put(g.uri("s.bin"), b"status")
        assert bytes(store.get(g.uri("s.bin"))) == b"status"
        _check_hops(g)
    finally:
        g.close()


def test_multipart_parts_and_control_calls_follow_the_redirect(gateway: Gateway, seaweedfs_server: Any) -> None:
    store = _following(gateway, multipart_threshold=5 * MiB, multipart_part_size=5 * MiB)
    data = os.urandom(12 * MiB + 3)
    store.put(gateway.uri("big.bin"), data)
    with store.open_writer(gateway.uri("streamed.bin")) as w:  # the streaming writer's parts as well
        for i in range(0, len(data), 3 * MiB):
            w.write(data[i:i + 3 * MiB])
    direct = new_store(gateway.direct(seaweedfs_server, ""))
    for key in ("big.bin", "streamed.bin"):
        assert bytes(direct.get(gateway.direct(seaweedfs_server, key))) == data
    hops = gateway.target.requests
    parts = [r for r in hops if r.method == "PUT" and "partNumber=" in r.target]
    assert len(parts) == 6 and sorted(r.body_len for r in parts) == [2 * MiB + 3] * 2 + [5 * MiB] * 4
    assert sum(1 for r in hops if r.method == "POST" and "uploads" in r.target) == 2  # initiate
    assert sum(1 for r in hops if r.method == "POST" and "uploadId=" in r.target) == 2  # complete
    _check_hops(gateway)


def test_get_many_through_a_redirecting_gateway(gateway: Gateway, seaweedfs_server: Any) -> None:
    direct = new_store(gateway.direct(seaweedfs_server, ""))
    objs = {f"m{i:03d}": os.urandom(1000 + i) for i in range(60)}
    direct.put_many([(gateway.direct(seaweedfs_server, k), v) for k, v in objs.items()])
    store = _following(gateway)
    uris = [gateway.uri(k) for k in objs]
    got = store.get_many(uris, max_in_flight=16)
    assert [u for u, _ in got] == uris
    assert [bytes(v) for _, v in got] == list(objs.values())
    # the multiplexer handed the batch to the threaded path at the first redirect: each object reached
    # the target once, and the gateway at most twice (a request the multiplexer had on the wire, then
    # the threaded path's)
    assert sorted(r.target.split("?")[0] for r in gateway.target.requests) == sorted(
        f"/{BUCKET}/{gateway.prefix}{k}" for k in objs)
    assert len(gateway.gw.requests) <= len(objs) + 16
    assert all(r.signed_host and r.host == gateway.target.hostport for r in gateway.target.requests)


def test_a_redirect_loop_ends_at_the_hop_limit_with_a_typed_error(seaweedfs_server: Any) -> None:
    loop = RedirectProxy(status=307)
    loop.redirect_to = loop.origin  # every answer points back at itself
    uri = f"s3://{loop.hostport}/{BUCKET}/loop.bin"
    try:
        for limit, store in ((5, new_store(uri, StoreConfig(follow_redirects=True))),
                             (2, new_store(uri, StoreConfig(follow_redirects="on", redirect_max=2)))):
            loop.reset()
            with pytest.raises(StorageIOError) as ei:
                store.get(uri)
            e = ei.value
            assert e.uri == uri and uri in str(e) and e.code == "TooManyRedirects" and e.status == 307
            assert f"more than {limit} redirect" in str(e) and "S3DLIO_REDIRECT_MAX" in str(e)
            assert len(loop.requests) == limit + 1 and e.retried == 0  # never retried
            with pytest.raises(StorageIOError, match=r"more than \d+ redirect"):
                store.put(uri, b"x")
    finally:
        loop.close()


def test_not_followed_by_default_with_a_hint(gateway: Gateway) -> None:
    store = new_store(gateway.uri(""))
    uri = gateway.uri("nofollow.bin")
    with pytest.raises(StorageIOError) as ei:
        store.get(uri)
    msg = str(ei.value)
    assert uri in msg and "307" in msg and "S3DLIO_FOLLOW_REDIRECTS=1" in msg and gateway.target.origin in msg
    assert "pid=" not in msg  # the Location's query stays out of messages
    assert len(gateway.gw.requests) == 1 and gateway.target.requests == []  # not retried, not followed


def test_the_environment_turns_it_on(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3DLIO_FOLLOW_REDIRECTS", "enable")
    monkeypatch.setenv("S3DLIO_REDIRECT_MAX", "1")
    reset_settings()
    clear_store_cache()
    try:
        uri = gateway.uri("env.bin")
        s3dlio.put(uri, b"from the env")
        assert bytes(s3dlio.get(uri)) == b"from the env"
        assert s3dlio.get_many([uri, uri]) and len(gateway.target.requests) >= 3
    finally:
        monkeypatch.undo()
        reset_settings()
        clear_store_cache()


def test_same_host_mode_refuses_another_host_and_follows_its_own(gateway: Gateway) -> None:
    store = _following(gateway, mode="same-host")
    uri = gateway.uri("x.bin")
    with pytest.raises(StorageIOError) as ei:
        store.get(uri)
    assert ei.value.code == "RedirectRefused" and uri in str(ei.value) and "another host" in str(ei.value)
    assert gateway.target.requests == []
    own = RedirectProxy(relative=True)  # "Location: /same/path": the same host again, until the limit
    try:
        u = f"s3://{own.hostport}/{BUCKET}/x.bin"
        with pytest.raises(StorageIOError, match="more than 5 redirect"):
            new_store(u, StoreConfig(follow_redirects="same-host")).get(u)
        assert len(own.requests) == 6
    finally:
        own.close()


def test_https_redirects_never_go_down_to_http_unless_all(seaweedfs_server: Any, tmp_path: Any) -> None:
    cert, key = self_signed_cert(str(tmp_path))
    down = Gateway(seaweedfs_server, tls=(cert, key))  # https gateway -> http target
    up = Gateway(seaweedfs_server, tls=(cert, key), target_tls=(cert, key))  # https -> https
    try:
        def store(g: Gateway, mode: str) -> Any:
            return new_store(f"s3://{BUCKET}/", S3Config(endpoint_url=g.gw.origin, ca_bundle=cert,
                                                          addressing_style="path", follow_redirects=mode))

        uri = f"s3://{BUCKET}/{down.prefix}tls.bin"
        with pytest.raises(StorageIOError) as ei:
            store(down, "on").put(uri, b"secret payload")
        assert ei.value.code == "RedirectRefused" and "downgrade" in str(ei.value) and uri in str(ei.value)
        assert down.target.requests == []  # nothing was sent in clear
        store(down, "all").put(uri, b"trusted network")
        assert bytes(store(down, "all").get(uri)) == b"trusted network"
        uri2 = f"s3://{BUCKET}/{up.prefix}tls.bin"
        s = store(up, "on")
        s.put(uri2, b"over tls")
        assert bytes(s.get(uri2)) == b"over tls"
        assert [r.method for r in up.target.requests] == ["PUT", "GET"]
    finally:
        down.close()
        up.close()
        clear_store_cache()


# ---------------------------------------------------------------- the rules, without a server
def test_modes_and_settings() -> None:
    assert [redirect_mode(v) for v in (None, False, True, "1", "yes", "enable", "0", "off", "same_host", "ALL")] \
        == ["off", "off", "on", "on", "on", "on", "off", "off", "same-host", "all"]
    with pytest.raises(ValueError, match="follow_redirects must be one of"):
        redirect_mode("sometimes")
    env = {"S3DLIO_FOLLOW_REDIRECTS": "true", "S3DLIO_REDIRECT_MAX": "9"}
    s = Settings.from_env(env)
    assert s.follow_redirects == "on" and s.redirect_max == 9
    assert Settings.from_env({}).follow_redirects == "off" and Settings.from_env({}).redirect_max == 5
    assert Settings.from_env({"S3DLIO_FOLLOW_REDIRECTS": "same-host"}).follow_redirects == "same-host"


def test_next_hop_parsing() -> None:
    here = Hop("http", "gw", 80, "gw", "/b/k", "")
    h = next_hop(here, "http://t1:9000/b/a%20b~c?z=2&pid=x%2Fy&flag", "on", "http", "GET", "s3://b/k")
    assert h == Hop("http", "t1", 9000, "t1:9000", "/b/a%20b~c", "flag=&pid=x%2Fy&z=2")
    assert next_hop(here, "/v1/objects/b/k", "same-host", "http", "GET", "s3://b/k").path == "/v1/objects/b/k"
    assert next_hop(here, "https://[::1]:8443/b/k", "on", "http", "GET", "u").host == "::1"
    for bad, why in (("ftp://t/b/k", "not an http"), ("http://user:pw@t/b/k", "user credentials"),
                     ("http://[::1/b", "not a valid URL"), ("http://t:99999/b", "not a valid URL")):
        with pytest.raises(StorageIOError, match=why) as ei:
            next_hop(here, bad, "all", "http", "GET", "s3://b/k")
        assert "pw" not in str(ei.value) and ei.value.code == "RedirectRefused"
