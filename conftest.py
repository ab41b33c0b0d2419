"""Root pytest configuration, loaded for every test run (each package's tests and the top-level ones):
makes the test-support package (local servers, fault proxy) importable."""

from __future__ import annotations

import pathlib
import sys

_SUPPORT = str(pathlib.Path(__file__).resolve().parent / "tests" / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)
