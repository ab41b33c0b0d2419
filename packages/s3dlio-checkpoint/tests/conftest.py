"""Fixtures of the checkpoint tests: a fresh checkpoint base on file://, memory:// and S3 (SeaweedFS on
loopback, started once per session by the test-support package's fixture module)."""

from __future__ import annotations

import os
import pathlib

import pytest
from s3dlio_testsupport import server_fixtures

_s3 = server_fixtures("s3")
s3_test_env = _s3.s3_test_env
seaweedfs_server = _s3.seaweedfs_server
s3_prefix = _s3.s3_prefix

SCHEMES = ["file", "memory", "s3"]


@pytest.fixture(params=SCHEMES)
def base(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    """A fresh, empty checkpoint base URI (no trailing slash) on each of file://, memory:// and S3."""
    if request.param == "file":
        return f"file://{tmp_path}/ckpt"
    if request.param == "memory":
        return f"memory://ckpt-{os.urandom(6).hex()}/run"
    return request.getfixturevalue("s3_prefix") + "run"


@pytest.fixture
def file_base(tmp_path: pathlib.Path) -> str:
    return f"file://{tmp_path}/ckpt"
