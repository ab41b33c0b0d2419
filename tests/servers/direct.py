"""direct:// needs no server: a fresh directory per test, on a filesystem that supports O_DIRECT.

pytest's tmp_path is used unless it lives on tmpfs (where O_DIRECT is emulated through the page cache);
then a directory beside the checkout is used instead.
"""

from __future__ import annotations

import pathlib
import shutil
import tempfile
from collections.abc import Iterator

import pytest

CONFORMANCE_BACKENDS = {"direct": "direct_prefix"}


def fs_type(path: pathlib.Path) -> str:
    """The filesystem type of the mount holding `path` (from /proc/self/mounts; '' if unknown)."""
    best, kind = "", ""
    p = str(path.resolve())
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and (p == parts[1] or p.startswith(parts[1].rstrip("/") + "/")) \
                        and len(parts[1]) >= len(best):
                    best, kind = parts[1], parts[2]
    except OSError:
        pass
    return kind


@pytest.fixture
def direct_dir(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
    """A fresh empty directory on a disk-backed filesystem when one is available."""
    if fs_type(tmp_path) != "tmpfs":
        root = tmp_path / "direct"
        root.mkdir()
        yield root
        return
    base = pathlib.Path(__file__).resolve().parents[2] / ".pytest-direct"
    base.mkdir(exist_ok=True)
    root = pathlib.Path(tempfile.mkdtemp(dir=base))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def direct_prefix(direct_dir: pathlib.Path) -> str:
    return f"direct://{direct_dir}/"
