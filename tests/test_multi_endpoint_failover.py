"""End to end: a multi-endpoint store over three real S3 servers (moto) on 127.0.0.1; one server is
stopped while requests are in flight, and no request is lost.

The servers come from the shared helpers in tests/support/s3dlio_testsupport/s3_procs.py (started on free ports, stopped by
PID). The endpoints are the same bucket on each server, addressed as `s3://127.0.0.1:PORT/bucket`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

BUCKET = "failover"
ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
       "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


def _procs() -> Any:
    """The shared server helpers (tests/support/s3dlio_testsupport, on sys.path via the root conftest)."""
    from s3dlio_testsupport import s3_procs

    return s3_procs


def _reset_clients() -> None:
    from s3dlio_core.registry import clear_store_cache
    from s3dlio_core.settings import reset_settings

    clear_store_cache()
    reset_settings()


@pytest.fixture(scope="module")
def three_s3_servers() -> Iterator[list[Any]]:
    """Three moto S3 servers with the bucket `failover` on each; the test env's credentials."""
    saved = {k: os.environ.get(k) for k in [*ENV, "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                                            "AWS_SESSION_TOKEN", "AWS_PROFILE"]}
    os.environ.update(ENV)
    for k in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(k, None)
    _reset_clients()
    procs = _procs()
    servers: list[Any] = []
    try:
        for _ in range(3):
            servers.append(procs.start_moto())
        import s3dlio

        for s in servers:
            s3dlio.create_bucket(f"s3://{_hostport(s)}/{BUCKET}")
        yield servers
    finally:
        for s in servers:
            s.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        _reset_clients()


def _hostport(server: Any) -> str:
    return server.endpoint.split("://", 1)[1].rstrip("/")


@pytest.mark.timeout(300)
def test_stopping_one_server_mid_run_loses_no_request(three_s3_servers: list[Any]) -> None:
    import s3dlio

    endpoints = [f"s3://{_hostport(s)}/{BUCKET}" for s in three_s3_servers]
    store = s3dlio.create_multi_endpoint_store(endpoints, strategy="round_robin")
    objects = {f"data/o{i:03d}.bin": os.urandom(1024 + 97 * i) for i in range(30)}

    async def run() -> None:
        await asyncio.gather(*(store.put_all_endpoints(f"{endpoints[0]}/{k}", v) for k, v in objects.items()))
        keys = [k for k in objects for _ in range(8)]  # 240 reads, all in flight together in waves
        loop = asyncio.get_running_loop()

        def stop_second() -> None:
            time.sleep(0.05)
            three_s3_servers[1].stop()  # terminate by PID while reads are in flight

        stopper = loop.run_in_executor(None, stop_second)
        got = []
        for i in range(0, len(keys), 40):
            wave = keys[i:i + 40]
            got += await asyncio.gather(*(store.get(f"{endpoints[i % 3]}/{k}") for k in wave))
        await stopper
        assert len(got) == len(keys)
        assert [bytes(g) for g in got] == [objects[k] for k in keys]

        # writes fail over as well, and every object written can be read back
        new = {f"new/n{i:03d}.bin": os.urandom(500 + i) for i in range(30)}
        await asyncio.gather(*(store.put(f"{endpoints[1]}/{k}", v) for k, v in new.items()))
        back = await asyncio.gather(*(store.get(f"{endpoints[2]}/{k}") for k in new))
        assert [bytes(b) for b in back] == list(new.values())
        listed = await store.list(f"{endpoints[0]}/new/", recursive=True)
        assert sorted(d["uri"] for d in listed) == sorted(f"{endpoints[0]}/{k}" for k in new)
        assert all(d["size"] == len(new[d["uri"].split("/", 4)[4]]) for d in listed)

    asyncio.run(run())
    stats = store.get_endpoint_stats()
    assert stats[1]["error_count"] >= 1, stats
    assert stats[0]["error_count"] == 0 and stats[2]["error_count"] == 0, stats
    assert store.get_total_stats()["active_requests"] == 0
    health = store.endpoint_health()
    assert [h["healthy"] for h in health] == [True, False, True]
