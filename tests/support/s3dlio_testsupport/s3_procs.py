"""Start and stop local S3 servers (SeaweedFS `weed mini`, moto) on 127.0.0.1: one piece of code shared by
the test fixtures (tests/servers/s3.py) and the benchmarks (benchmarks/s3_*.py).

Every listener gets an explicit free loopback port; each server runs in a data directory of its own and is
stopped by its PID (terminate, then kill).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["S3Server", "free_port", "start_seaweedfs", "start_moto", "running_seaweedfs", "running_moto",
           "TEST_KEY", "TEST_SECRET", "TEST_REGION", "s3_env"]

from .procs import HOST, free_port, stop_process

TEST_KEY = "test"
TEST_SECRET = "test"
TEST_REGION = "us-east-1"


def _bin(name: str) -> str:
    """The executable `name` from this interpreter's environment (or PATH)."""
    cand = pathlib.Path(sys.executable).parent / name
    if cand.exists():
        return str(cand)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed (it comes with the dev dependencies: uv sync)")
    return found


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


@dataclass
class S3Server:
    """A running server: its endpoint URL, process and data directory."""

    name: str
    endpoint: str
    proc: subprocess.Popen
    workdir: str
    log_path: str
    ports: list[int] = field(default_factory=list)
    https_port: int = 0  # SeaweedFS with tls=True
    cert: str = ""  # its self-signed certificate (PEM)

    def stop(self) -> None:
        """Terminate by PID, kill if it lingers, remove the data directory."""
        stop_process(self.proc, timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, n: int = 4000) -> str:
        try:
            return pathlib.Path(self.log_path).read_text(errors="replace")[-n:]
        except OSError:
            return ""


def _wait_http(server: S3Server, timeout: float) -> None:
    """Wait until the endpoint answers any HTTP status (S3 says 403 to an anonymous GET /)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}")
        try:
            urllib.request.urlopen(server.endpoint + "/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answered
        except Exception as e:  # not up yet
            last = e
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer on {server.endpoint} within {timeout:.0f}s ({last}):\n"
                       f"{server.log_tail()}")


def _spawn(name: str, argv: list[str], workdir: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    log_path = os.path.join(workdir, f"{name}.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return proc, log_path


def _server_env(access_key: str, secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3DLIO_"))}
    env.update(AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key, AWS_REGION=TEST_REGION)
    return env


def self_signed_cert(workdir: str) -> tuple[str, str]:
    """A throwaway certificate for 127.0.0.1 (openssl CLI): (cert.pem, key.pem)."""
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def start_seaweedfs(access_key: str = TEST_KEY, secret_key: str = TEST_SECRET, timeout: float = 60.0,
                    buckets: str = "", tls: bool = False) -> S3Server:
    """`weed mini` with every listener on its own free loopback port; the S3 gateway enforces the keys.

    With `tls`, the S3 gateway also serves https on `server.https_port` with a self-signed certificate
    (`server.cert`)."""
    workdir = tempfile.mkdtemp(prefix="s3dlio-weed-")
    used: set[int] = set()
    names = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
             "filer.port.grpc", "s3.port", "s3.port.grpc"]
    if tls:
        names.append("s3.port.https")
    ports = {n: free_port(used) for n in names}
    # weed's built-in plugin worker dials the admin gRPC port at admin.port + 10000, whatever
    # -admin.port.grpc says: choose a pair that is free.
    while True:
        admin = free_port(used)
        if admin + 10000 < 65536 and admin + 10000 not in used and _port_is_free(admin + 10000):
            used.add(admin + 10000)
            break
    ports["admin.port"] = admin
    ports["admin.port.grpc"] = admin + 10000
    argv = [_bin("weed"), "mini", f"-dir={workdir}", f"-ip={HOST}", f"-ip.bind={HOST}",
            "-master.telemetry=false", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0",
            "-s3.port.lance=0", f"-filer.localSocket={workdir}/filer.sock",
            f"-s3.localSocket={workdir}/s3.sock", "-master.volumeSizeLimitMB=1024"]
    argv += [f"-{n}={p}" for n, p in ports.items()]
    if buckets:
        argv.append(f"-bucket={buckets}")
    cert = ""
    if tls:
        cert, key = self_signed_cert(workdir)
        argv += [f"-s3.cert.file={cert}", f"-s3.key.file={key}"]
    proc, log_path = _spawn("weed", argv, workdir, _server_env(access_key, secret_key))
    server = S3Server("seaweedfs", f"http://{HOST}:{ports['s3.port']}", proc, workdir, log_path,
                      sorted(ports.values()), https_port=ports.get("s3.port.https", 0), cert=cert)
    _wait_http(server, timeout)
    return server


def start_moto(timeout: float = 60.0) -> S3Server:
    """moto's server (`moto_server -H 127.0.0.1 -p PORT`): in memory, accepts any credentials."""
    workdir = tempfile.mkdtemp(prefix="s3dlio-moto-")
    port = free_port()
    argv = [_bin("moto_server"), "-H", HOST, "-p", str(port)]
    proc, log_path = _spawn("moto", argv, workdir, _server_env(TEST_KEY, TEST_SECRET))
    server = S3Server("moto", f"http://{HOST}:{port}", proc, workdir, log_path, [port])
    _wait_http(server, timeout)
    return server


@contextlib.contextmanager
def running_seaweedfs(**kw: object) -> Iterator[S3Server]:
    server = start_seaweedfs(**kw)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def running_moto(**kw: object) -> Iterator[S3Server]:
    server = start_moto(**kw)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


def s3_env(endpoint: str, access_key: str = TEST_KEY, secret_key: str = TEST_SECRET) -> dict[str, str]:
    """The client environment that points an S3 SDK (ours, the original, boto3) at `endpoint`."""
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key, "AWS_REGION": TEST_REGION,
            "AWS_DEFAULT_REGION": TEST_REGION, "AWS_EC2_METADATA_DISABLED": "true"}
