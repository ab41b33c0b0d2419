"""The DLIO tier: upstream DLIO (argonne-lcf/dlio_benchmark, the vendored commit e1919d7) running real
workloads on s3dlio against SeaweedFS on 127.0.0.1.

It needs more than the workspace venv (Open MPI, a DLIO venv of its own: see dlio_env.py), so it runs
through `scripts/test-dlio`, which prepares both, and is collected only when asked for: `pytest
tests/dlio` (or a file in it), or S3DLIO_DLIO_TIER=1. A plain `pytest tests` leaves it out, so the
top-level run does not do it a second time.

Fixtures: the DLIO venv's python (with our packages), a SeaweedFS of its own with credentials that
appear nowhere else (so a leak into DLIO's logs is detectable), a recording proxy in front of it (every
request line DLIO's processes send), a boto3 client straight to the server for checking what is stored,
and a fresh DLIO source tree per test.
"""

from __future__ import annotations

import os
import pathlib
import sys
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

_HERE = pathlib.Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import dlio_env  # noqa: E402
from s3dlio_testsupport import s3_procs as procs  # noqa: E402
from s3dlio_testsupport.fault_proxy import FaultProxy  # noqa: E402

ACCESS_KEY = "AKIADLIOTIERK3Y9Q"
SECRET_KEY = "dlio-tier/SECRET+never-logged=Zq81x"
BUCKET = "dlio"

_timings: list[tuple[str, float]] = []


def _tier_requested(config: pytest.Config) -> bool:
    if os.environ.get("S3DLIO_DLIO_TIER") == "1":
        return True
    base = config.invocation_params.dir
    for arg in config.args:
        p = (base / arg.split("::", 1)[0]).resolve()
        if p == _HERE or _HERE in p.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: pathlib.Path, config: pytest.Config) -> bool | None:
    return None if _tier_requested(config) else True


def record_timing(name: str, seconds: float) -> None:
    _timings.append((name, seconds))


@pytest.fixture(scope="session")
def tier() -> SimpleNamespace:
    """The tier's constants (credentials, bucket) and `record_timing(name, seconds)` for the summary."""
    return SimpleNamespace(access_key=ACCESS_KEY, secret_key=SECRET_KEY, bucket=BUCKET,
                           record_timing=record_timing)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _timings:
        terminalreporter.section("DLIO runs")
        for name, secs in _timings:
            terminalreporter.write_line(f"{name}: {secs:.1f} s")


@pytest.fixture(scope="session")
def dlio_python() -> str:
    """The DLIO venv's python, with our s3dlio (editable workspace packages)."""
    t0 = time.monotonic()
    py = dlio_env.ensure_venv("ours")
    record_timing("DLIO venv ready", time.monotonic() - t0)
    return py


@pytest.fixture(scope="session")
def weed() -> Iterator[procs.S3Server]:
    """SeaweedFS on loopback with the tier's own credentials and the bucket 'dlio'."""
    with procs.running_seaweedfs(access_key=ACCESS_KEY, secret_key=SECRET_KEY, buckets=BUCKET) as server:
        yield server


@pytest.fixture(scope="session")
def proxy_session(weed: procs.S3Server) -> Iterator[FaultProxy]:
    p = FaultProxy(weed.endpoint.split("://", 1)[1])
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def proxy(proxy_session: FaultProxy) -> FaultProxy:
    """A recording proxy in front of SeaweedFS (request lines in `.requests`), emptied for each test."""
    proxy_session.reset()
    return proxy_session


@pytest.fixture(scope="session")
def s3(weed: procs.S3Server) -> Any:
    """boto3 straight to SeaweedFS: an independent view of what DLIO stored."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=weed.endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name=procs.TEST_REGION,
                        config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                                      response_checksum_validation="when_required"))


@pytest.fixture
def dlio_tree(tmp_path: pathlib.Path) -> pathlib.Path:
    """A fresh copy of upstream DLIO's source (the directory holding dlio_benchmark/)."""
    return dlio_env.unpack_dlio(tmp_path / "dlio")
