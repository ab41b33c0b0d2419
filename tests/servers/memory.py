"""memory:// needs no server: a fresh bucket per test in this process's memory store."""

from __future__ import annotations

import os

import pytest

CONFORMANCE_BACKENDS = {"memory": "memory_prefix"}


@pytest.fixture
def memory_prefix() -> str:
    return f"memory://conf-{os.urandom(6).hex()}/"
