"""S3 servers for the tests: SeaweedFS (`weed mini`) and moto, each started once per session on
127.0.0.1 with free ports and stopped by PID (the start/stop code lives in tests/support/s3dlio_testsupport, shared with the
benchmarks).

While a server fixture is alive the process environment points S3 at it (AWS_ENDPOINT_URL, test
credentials, us-east-1); the environment is restored afterwards. Each conformance fixture gives a fresh
empty prefix `s3://<bucket>/<unique>/` on its server, addressed with the `s3://host:port/bucket/` form so
both servers can be used in the same session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from s3dlio_testsupport import fault_proxy as _fault
from s3dlio_testsupport import s3_procs as procs
from s3dlio_testsupport.procs import scoped_env

CONFORMANCE_BACKENDS = {"s3-seaweedfs": "s3_seaweedfs_prefix", "s3-moto": "s3_moto_prefix"}

S3_BUCKET = "s3dlio-tests"


@pytest.fixture(scope="session")
def s3_test_env() -> Iterator[dict[str, str]]:
    """Test credentials and region in os.environ for the session (restored afterwards)."""
    env = {"AWS_ACCESS_KEY_ID": procs.TEST_KEY, "AWS_SECRET_ACCESS_KEY": procs.TEST_SECRET,
           "AWS_REGION": procs.TEST_REGION, "AWS_DEFAULT_REGION": procs.TEST_REGION,
           "AWS_EC2_METADATA_DISABLED": "true"}
    with scoped_env(env, clear=("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")):
        yield env


def _hostport(endpoint: str) -> str:
    return endpoint.split("://", 1)[1].rstrip("/")


@pytest.fixture(scope="session")
def seaweedfs_server(s3_test_env: dict[str, str]) -> Iterator[procs.S3Server]:
    """SeaweedFS on loopback; AWS_ENDPOINT_URL points at it for the session (the default S3 server)."""
    server = procs.start_seaweedfs()
    try:
        with scoped_env({"AWS_ENDPOINT_URL": server.endpoint}):
            import s3dlio

            s3dlio.create_bucket(S3_BUCKET)
            yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_server(s3_test_env: dict[str, str]) -> Iterator[procs.S3Server]:
    """moto's S3 server on loopback (addressed as s3://host:port/bucket/...)."""
    server = procs.start_moto()
    try:
        import s3dlio

        s3dlio.create_bucket(f"s3://{_hostport(server.endpoint)}/{S3_BUCKET}")
        yield server
    finally:
        from s3dlio_core.registry import clear_store_cache

        clear_store_cache()  # drop the pooled connections to this server
        server.stop()


@pytest.fixture
def s3_seaweedfs_prefix(seaweedfs_server: procs.S3Server) -> str:
    """A fresh empty prefix on SeaweedFS, in the endpoint form `s3://127.0.0.1:PORT/bucket/<unique>/`."""
    return f"s3://{_hostport(seaweedfs_server.endpoint)}/{S3_BUCKET}/{uuid.uuid4().hex[:12]}/"


@pytest.fixture
def s3_moto_prefix(moto_server: procs.S3Server) -> str:
    """A fresh empty prefix on moto, in the endpoint form `s3://127.0.0.1:PORT/bucket/<unique>/`."""
    return f"s3://{_hostport(moto_server.endpoint)}/{S3_BUCKET}/{uuid.uuid4().hex[:12]}/"


@pytest.fixture
def s3_prefix(seaweedfs_server: procs.S3Server) -> str:
    """A fresh empty prefix on the default S3 server (plain `s3://bucket/<unique>/`, AWS_ENDPOINT_URL)."""
    return f"s3://{S3_BUCKET}/{uuid.uuid4().hex[:12]}/"


@pytest.fixture(scope="session")
def s3_fault_proxy_session(seaweedfs_server: procs.S3Server) -> Iterator[Any]:
    proxy = _fault.FaultProxy(_hostport(seaweedfs_server.endpoint))
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def s3_fault_proxy(s3_fault_proxy_session: Any) -> Any:
    """A recording, fault-injecting proxy in front of SeaweedFS (`.hostport`, `.reset(faults)`,
    `.requests`); address it as `s3://<proxy.hostport>/<bucket>/...`."""
    s3_fault_proxy_session.reset()
    return s3_fault_proxy_session
