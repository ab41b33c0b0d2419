"""file:// needs no server: a fresh temporary directory per test."""

from __future__ import annotations

import pathlib

import pytest

CONFORMANCE_BACKENDS = {"file": "file_prefix"}


@pytest.fixture
def file_prefix(tmp_path: pathlib.Path) -> str:
    root = tmp_path / "store"
    root.mkdir()
    return f"file://{root}/"
