"""Installing s3dlio into upstream DLIO's source (the vendored tarball, unpacked per test): the drop-in,
the `s3dlio` storage file, generate_patch() and the command line. The installed files must be complete:
every module and name they import exists in DLIO's tree or in the installed s3dlio (the original's copy
imported a sibling it did not copy). The patch is applied with the real `patch -p1` in tests/dlio."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pathlib
import re
import subprocess
import sys

import pytest
import s3dlio.integrations.dlio as integ
from s3dlio.integrations.dlio._patch import patched_sources

_ENV = pathlib.Path(__file__).resolve().parents[3] / "tests" / "dlio" / "dlio_env.py"
_spec = importlib.util.spec_from_file_location("s3dlio_dlio_env", _ENV)
assert _spec is not None and _spec.loader is not None
dlio_env = sys.modules.setdefault("s3dlio_dlio_env", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(dlio_env)


@pytest.fixture
def tree(tmp_path: pathlib.Path) -> pathlib.Path:
    """A fresh upstream DLIO checkout (the directory holding dlio_benchmark/)."""
    return dlio_env.unpack_dlio(tmp_path / "dlio")


def _defined_names(path: pathlib.Path) -> set[str]:
    mod = ast.parse(path.read_text())
    names: set[str] = set()
    for node in mod.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _assert_complete(installed: pathlib.Path, tree: pathlib.Path) -> None:
    """Only absolute imports, of DLIO (present in `tree`) and s3dlio (importable here), names included."""
    for node in ast.walk(ast.parse(installed.read_text())):
        if isinstance(node, ast.Import):
            raise AssertionError(f"{installed.name}: plain import {[a.name for a in node.names]}")
        if not isinstance(node, ast.ImportFrom):
            continue
        assert node.level == 0, f"{installed.name}: relative import (line {node.lineno})"
        top = node.module.split(".")[0]
        names = [a.name for a in node.names]
        if top == "dlio_benchmark":
            src = tree / (node.module.replace(".", "/") + ".py")
            assert src.is_file(), f"{installed.name} imports {node.module}, not in DLIO's tree"
            missing = set(names) - _defined_names(src)
            assert not missing, f"{node.module} has no {missing}"
        elif top == "s3dlio":
            mod = importlib.import_module(node.module)
            assert all(hasattr(mod, n) for n in names), (node.module, names)
        else:
            assert top in ("__future__", "typing"), f"{installed.name} imports {node.module}"


def test_dropin_install_backs_up_once_and_is_complete(tree: pathlib.Path) -> None:
    storage = tree / "dlio_benchmark" / "storage"
    original = (storage / "s3_torch_storage.py").read_text()
    assert "s3torchconnector" in original
    path = integ.install_dropin_replacement(tree)  # the checkout ...
    assert path == str(storage / "s3_torch_storage.py")
    assert (storage / "s3_torch_storage.py").read_text() == integ.get_storage_file_content()
    assert (storage / "s3_torch_storage.py.original.bak").read_text() == original
    assert integ.install_to_dlio is integ.install_dropin_replacement
    integ.install_to_dlio(str(tree / "dlio_benchmark"))  # ... or its package directory; again
    assert (storage / "s3_torch_storage.py.original.bak").read_text() == original  # backup kept
    assert not [p for p in storage.iterdir() if p.name.endswith(".tmp")]
    _assert_complete(storage / "s3_torch_storage.py", tree)
    assert pathlib.Path(integ.get_storage_file_path()).read_text() == integ.get_storage_file_content()


def test_storage_type_file_install_is_complete(tree: pathlib.Path) -> None:
    path = pathlib.Path(integ.install_s3dlio_storage(tree))
    assert path == tree / "dlio_benchmark" / "storage" / "s3dlio_storage.py"
    assert path.read_text() == integ.get_s3dlio_storage_content()
    assert pathlib.Path(integ.get_s3dlio_storage_path()).name == "s3dlio_storage.py"
    _assert_complete(path, tree)


def test_dlio_path_errors(tmp_path: pathlib.Path) -> None:
    for fn in (integ.install_dropin_replacement, integ.install_s3dlio_storage, integ.generate_patch):
        with pytest.raises(ValueError, match="storage"):
            fn(tmp_path / "not-dlio")
    assert importlib.util.find_spec("dlio_benchmark") is None
    with pytest.raises(ValueError, match="no dlio_benchmark package is importable"):
        integ.install_dropin_replacement()


def test_generate_patch_text(tree: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = integ.generate_patch(tree)
    assert out == "dlio_s3dlio.patch" and out == integ.DEFAULT_PATCH_FILE
    text = (tmp_path / out).read_text()
    heads = re.findall(r"^--- (\S+)\n\+\+\+ (\S+)$", text, re.M)
    assert heads == [("a/dlio_benchmark/common/enumerations.py", "b/dlio_benchmark/common/enumerations.py"),
                     ("a/dlio_benchmark/storage/storage_factory.py", "b/dlio_benchmark/storage/storage_factory.py"),
                     ("a/dlio_benchmark/reader/reader_factory.py", "b/dlio_benchmark/reader/reader_factory.py"),
                     ("/dev/null", "b/dlio_benchmark/storage/s3dlio_storage.py")]
    # every hunk's header counts match its lines (what patch checks first)
    lines = text.splitlines()
    hunks = [i for i, ln in enumerate(lines) if ln.startswith("@@ ")]
    assert len(hunks) == 5
    for i in hunks:
        m = re.match(r"@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@$", lines[i])
        assert m, lines[i]
        want_old, want_new = int(m[1] or 1), int(m[2] or 1)
        old = new = 0
        for ln in lines[i + 1:]:
            if old == want_old and new == want_new:
                break
            assert ln[:1] in (" ", "+", "-", "\\"), ln
            old += ln[:1] in (" ", "-")
            new += ln[:1] in (" ", "+")
        assert (old, new) == (want_old, want_new), lines[i]
    assert "+    S3DLIO = 's3dlio'\n" in text
    assert "+        elif storage_type == StorageType.S3DLIO:\n" in text
    assert text.count("StorageType.AISTORE, StorageType.S3DLIO)") == 2  # the NPY and NPZ S3 readers
    explicit = integ.generate_patch(tree, tmp_path / "other.patch")
    assert explicit == str(tmp_path / "other.patch") and (tmp_path / "other.patch").read_text() == text


def test_patched_sources_are_valid_and_patching_is_idempotent(tree: pathlib.Path, tmp_path: pathlib.Path) -> None:
    changes = patched_sources(tree)
    for rel, (_old, new) in changes.items():
        ast.parse(new, rel)
        (tree / rel).write_text(new)  # what `patch -p1` makes of the tree
    enum_src = (tree / "dlio_benchmark/common/enumerations.py").read_text()
    block = enum_src[enum_src.index("class StorageType"):enum_src.index("def __str__", enum_src.index("class StorageType"))]
    assert "AISTORE = 'aistore'\n    S3DLIO = 's3dlio'\n" in block
    factory = (tree / "dlio_benchmark/storage/storage_factory.py").read_text()
    assert factory.index("StorageType.S3DLIO") < factory.index("elif storage_type == StorageType.S3:")
    assert patched_sources(tree) == {}
    out = integ.generate_patch(tree, tmp_path / "again.patch")
    assert pathlib.Path(out).read_text() == ""


def test_unknown_dlio_version_is_refused(tree: pathlib.Path, tmp_path: pathlib.Path) -> None:
    factory = tree / "dlio_benchmark/storage/storage_factory.py"
    factory.write_text(factory.read_text().replace("elif storage_type == StorageType.S3:", "else:"))
    with pytest.raises(ValueError, match=r"cannot generate the s3dlio patch .*StorageType\.S3"):
        integ.generate_patch(tree, tmp_path / "x.patch")
    assert not (tmp_path / "x.patch").exists()


def test_command_line(tree: pathlib.Path, tmp_path: pathlib.Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "s3dlio.integrations.dlio", *args], capture_output=True,
                              text=True, timeout=120)

    r = cli("install-dropin", str(tree))
    assert r.returncode == 0 and "s3_torch_storage.py" in r.stdout
    r = cli("patch", str(tree), "-o", str(tmp_path / "p.patch"))
    assert r.returncode == 0 and "patch -p1" in r.stdout and (tmp_path / "p.patch").stat().st_size > 0
    r = cli("install", str(tree))
    assert r.returncode == 0 and "s3dlio_storage.py" in r.stdout
    r = cli("install-dropin", str(tmp_path / "nowhere"))
    assert r.returncode == 2 and "error:" in r.stderr and "Traceback" not in r.stderr
