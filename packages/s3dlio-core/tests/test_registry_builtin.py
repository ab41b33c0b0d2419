"""The backends' own schemes are found without scanning entry points (importlib.metadata costs a fresh
process ~30 ms of CPU on its first request); a scheme nobody provides still gets the typed error."""

from __future__ import annotations

import subprocess
import sys


def test_builtin_schemes_skip_the_entry_point_scan() -> None:
    code = ("import sys\nfrom s3dlio_core.registry import store_class\n"
            "names = [store_class(s).__name__ for s in ('s3', 'gs', 'direct', 'file', 'memory')]\n"
            "print(names, 'importlib.metadata' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['S3Store', 'GcsStore', 'DirectStore', 'FileStore', 'MemoryStore'] False"


def test_builtin_classes_match_the_declared_entry_points() -> None:
    from importlib.metadata import entry_points

    from s3dlio_core.registry import _BUILTIN

    declared = {ep.name: ep.value for ep in entry_points(group="s3dlio.stores")}
    for scheme, target in _BUILTIN.items():
        assert declared.get(scheme) == target, scheme


def test_unknown_scheme_is_still_a_typed_error() -> None:
    import pytest
    from s3dlio_core.errors import BackendNotInstalledError
    from s3dlio_core.registry import store_class

    with pytest.raises(BackendNotInstalledError, match="no store is installed for nope://"):
        store_class("nope")
