"""Top-level test configuration.

Server fixtures live one module per server in tests/servers/ (file.py, s3.py, azure.py, gcs.py, ...).
Each module may declare CONFORMANCE_BACKENDS = {"name": "fixture_name"}: the named fixture returns a
fresh, empty URI prefix ending in '/' on that backend, and the conformance suite runs once per name.
"""

from __future__ import annotations

import pathlib

import pytest
from s3dlio_testsupport import server_fixtures

CONFORMANCE: dict[str, str] = {}

for _path in sorted((pathlib.Path(__file__).parent / "servers").glob("*.py")):
    if _path.name.startswith("_"):
        continue
    _mod = server_fixtures(_path.stem)
    CONFORMANCE.update(getattr(_mod, "CONFORMANCE_BACKENDS", {}))
    globals().update({k: v for k, v in vars(_mod).items() if not k.startswith("_") and k != "CONFORMANCE_BACKENDS"})


@pytest.fixture(params=sorted(CONFORMANCE))
def store_prefix(request: pytest.FixtureRequest) -> str:
    """A fresh, empty prefix URI (ending in '/') on each backend of the conformance suite."""
    return request.getfixturevalue(CONFORMANCE[request.param])


@pytest.fixture
def backend_name(store_prefix: str, request: pytest.FixtureRequest) -> str:
    """The conformance backend's name (e.g. 'file', 's3-seaweedfs')."""
    return request.node.callspec.params["store_prefix"]
