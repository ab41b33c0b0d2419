"""Fixtures of the s3dlio-ml tests: a fresh prefix on file://, memory:// and S3 (SeaweedFS on loopback,
started once per session by the test-support package's fixture module)."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Iterator

import pytest
from s3dlio_core import OpRecord, add_observer, remove_observer
from s3dlio_testsupport import server_fixtures

_s3 = server_fixtures("s3")
s3_test_env = _s3.s3_test_env
seaweedfs_server = _s3.seaweedfs_server
s3_seaweedfs_prefix = _s3.s3_seaweedfs_prefix

SCHEMES = ["file", "memory", "s3"]


@pytest.fixture(params=SCHEMES)
def prefix(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    """A fresh, empty prefix (ending in '/') on each of file://, memory:// and S3."""
    if request.param == "file":
        return f"file://{tmp_path}/"
    if request.param == "memory":
        return f"memory://ml-{os.urandom(6).hex()}/"
    return request.getfixturevalue("s3_seaweedfs_prefix")


@pytest.fixture
def s3_dir(s3_seaweedfs_prefix: str) -> str:
    """A fresh prefix on S3 only."""
    return s3_seaweedfs_prefix


class ByteCounter:
    """Counts the requests and bytes every store operation reports to s3dlio_core.instrument."""

    def __init__(self) -> None:
        self.records: list[OpRecord] = []

    def __call__(self, rec: OpRecord) -> None:
        self.records.append(rec)

    def reads(self, uri: str | None = None) -> list[OpRecord]:
        return [r for r in self.records if r.op in ("GET", "GET_RANGE") and (uri is None or r.uri == uri)]

    def bytes_read(self, uri: str | None = None) -> int:
        return sum(r.bytes for r in self.reads(uri))

    def clear(self) -> None:
        self.records.clear()


@pytest.fixture
def counter() -> Iterator[ByteCounter]:
    c = ByteCounter()
    add_observer(c)
    try:
        yield c
    finally:
        remove_observer(c)


Counter = Callable[[OpRecord], None]
