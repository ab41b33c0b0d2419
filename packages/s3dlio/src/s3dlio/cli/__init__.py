"""The `s3-cli` command line (console script `s3-cli = "s3dlio.cli:main"`)."""

from __future__ import annotations

from .main import build_parser, main

__all__ = ["main", "build_parser"]
