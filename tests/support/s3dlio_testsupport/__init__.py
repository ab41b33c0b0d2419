"""Test and benchmark support for s3dlio: start/stop local servers on 127.0.0.1 (procs, s3_procs) and a
fault-injecting proxy (fault_proxy). Importable once tests/support is on sys.path (the root conftest.py
and the benchmarks put it there); the package name is unique so it can shadow nothing."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from types import ModuleType

__all__ = ["server_fixtures", "SERVERS_DIR"]

SERVERS_DIR = pathlib.Path(__file__).resolve().parents[2] / "servers"


def server_fixtures(name: str) -> ModuleType:
    """The fixture module tests/servers/<name>.py, loaded once per process: every test file that takes
    its fixtures shares one module, so a session-scoped server starts once. (tests/servers is never put
    on sys.path: its azure.py would shadow the `azure` namespace package.)"""
    key = f"s3dlio_test_servers_{name}"
    mod = sys.modules.get(key)
    if mod is None:
        spec = importlib.util.spec_from_file_location(key, SERVERS_DIR / f"{name}.py")
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return mod
