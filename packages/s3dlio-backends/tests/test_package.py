"""Packaging contract of s3dlio-backends: importable, typed, versioned, depends only downwards."""

from __future__ import annotations

import importlib
import pathlib
from importlib.metadata import requires, version


def test_importable_and_typed() -> None:
    mod = importlib.import_module("s3dlio_backends")
    assert (pathlib.Path(mod.__file__).parent / "py.typed").is_file()


def test_versioned_and_depends_on_core_only_among_ours() -> None:
    assert version("s3dlio-backends").count(".") == 2
    ours = {r.split(">")[0].split("<")[0].split("[")[0].strip() for r in requires("s3dlio-backends") or []
            if r.startswith("s3dlio")}
    assert ours == {"s3dlio-core"}


def _imports(path: pathlib.Path) -> set[str]:
    """Every module a source file imports (relative ones resolved within s3dlio_backends)."""
    import ast

    pkg = ".".join(path.relative_to(SRC).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = pkg.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


SRC = pathlib.Path(__file__).resolve().parents[1] / "src"


def test_sinks_clients_and_the_base_never_import_a_store_module() -> None:
    """No import cycles between stores and their writers: part sinks talk to their client, clients to
    nothing above them, and the shared templates know no backend."""
    root = SRC / "s3dlio_backends"
    lower = [*root.glob("*/sink.py"), *root.glob("*/client.py"), root / "http_store.py", root / "multipart.py",
             root / "retry.py", root / "http_errors.py", root / "range_get.py"]
    stores = {f"s3dlio_backends.{p.parent.name}.store" for p in root.glob("*/store.py")}
    for path in lower:
        bad = _imports(path) & stores
        assert not bad, f"{path.relative_to(root)} imports {bad}"
    assert not (root / "azure" / "writer.py").exists() and not (root / "gcs" / "writer.py").exists()


def test_the_dead_code_is_gone() -> None:
    from s3dlio_backends import range_get

    assert not hasattr(range_get, "fetch_ranges")
    assert not (SRC / "s3dlio_backends" / "_ranged_read.py").exists()
