"""Packaging contract of s3dlio-checkpoint: importable, typed, versioned, depends only downwards."""

from __future__ import annotations

import importlib
import pathlib
from importlib.metadata import requires, version


def test_importable_and_typed() -> None:
    mod = importlib.import_module("s3dlio_checkpoint")
    assert (pathlib.Path(mod.__file__).parent / "py.typed").is_file()


def test_versioned_and_depends_on_core_only_among_ours() -> None:
    assert version("s3dlio-checkpoint").count(".") == 2
    ours = {
        r.split(">")[0].split("<")[0].split("[")[0].strip()
        for r in requires("s3dlio-checkpoint") or []
        if r.startswith("s3dlio")
    }
    assert ours == {"s3dlio-core"}
