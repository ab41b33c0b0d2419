"""Process plumbing shared by every test server (SeaweedFS, moto, Azurite, fake-gcs-server) and the
benchmarks: free loopback ports, start-and-wait, stop by PID, and an environment scoped to a server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping

__all__ = ["HOST", "free_port", "spawn_and_wait", "stop_process", "scoped_env"]

HOST = "127.0.0.1"  # never any other address


def free_port(reserved: set[int] | None = None) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (and not in `reserved`, which it joins)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if reserved is None or port not in reserved:
            if reserved is not None:
                reserved.add(port)
            return port


def spawn_and_wait(name: str, argv: list[str], probe_url: str, timeout: float = 30.0,
                   **popen: object) -> subprocess.Popen[bytes]:
    """Start `argv` in its own process group and wait until `probe_url` answers HTTP (any status)."""
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.PIPE)
    proc = subprocess.Popen(argv, start_new_session=True, **popen)  # type: ignore[call-overload]
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"{name} exited with {proc.returncode}: {err[-2000:]}")
        try:
            urllib.request.urlopen(probe_url, timeout=1).read()
            return proc
        except urllib.error.HTTPError:
            return proc  # it answered (an error status is still an answer)
        except OSError:
            if time.monotonic() > deadline:
                stop_process(proc)
                raise RuntimeError(f"{name} did not answer at {probe_url} within {timeout:.0f} s") from None
            time.sleep(0.05)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop a server we started, by its PID: SIGTERM to its process group, SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            (proc.terminate if sig == signal.SIGTERM else proc.kill)()
        try:
            proc.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def scoped_env(set_vars: Mapping[str, str], clear: Iterable[str] = ()) -> Iterator[None]:
    """Set `set_vars` and remove `clear` from os.environ, dropping cached stores and settings so they are
    read again; everything is restored (and dropped again) on exit."""
    from s3dlio_core.registry import clear_store_cache
    from s3dlio_core.settings import reset_settings

    names = {*set_vars, *clear}
    saved = {k: os.environ.get(k) for k in names}
    for k in clear:
        os.environ.pop(k, None)
    os.environ.update(set_vars)
    clear_store_cache()
    reset_settings()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        clear_store_cache()
        reset_settings()
