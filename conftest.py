"""Root pytest configuration, loaded for every test run (each package's tests and the top-level ones):
makes the test-support package (local servers, fault proxy) importable."""

from __future__ import annotations

import pathlib
import sys

_SUPPORT = str(pathlib.Path(__file__).resolve().parent / "tests" / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


_TORCH = _torch_available()


def pytest_ignore_collect(collection_path: pathlib.Path, config: object) -> bool | None:
    """Where torch is not installed (the torch tier off: no torch wheel here, the extra Python versions),
    a test module that is wholly torch's (module-level `pytestmark = pytest.mark.torch` and a top-level
    `import torch`) is not collected: its tests are all deselected by `-m "not torch"` anyway, and
    importing it would be a collection error. With torch installed every module is collected."""
    if _TORCH or collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    try:
        text = collection_path.read_text(encoding="utf-8")
    except OSError:
        return None
    lines = text.splitlines()
    whole_module = "pytestmark = pytest.mark.torch" in lines
    top_level_import = any(line.startswith(("import torch", "from torch")) for line in lines)
    return True if whole_module and top_level_import else None
