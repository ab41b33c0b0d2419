"""Install as users do: every package's wheel, installed with plain pip into clean venvs.

No uv and no workspace in the venvs: `python -m venv`, then `pip install --find-links <built wheels>` with
the public index allowed for third-party dependencies (pip's configuration files and PIP_FIND_LINKS of
this machine are switched off, so pip sees what a user's pip sees). The name `s3dlio` on the public index
belongs to the original (0.10.0): these tests prove that pip picks ours, that the README's quick start and
`s3-cli --help` run from the installed wheels, that pip swaps the two distributions as the README says, and
that `s3dlio-core` alone pulls no other distribution and serves file://.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEMBERS = {
    (d := tomllib.loads(p.read_text()))["project"]["name"]: d["project"]["version"]
    for p in sorted(ROOT.glob("packages/*/pyproject.toml"))
}
ORIGINAL_VERSION = "0.10.0"  # the original s3dlio on the public index


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.match(r"\d+(?:\.\d+)*", v).group(0).split("."))  # type: ignore[union-attr]


def _uv() -> str:
    """The uv that scripts/lib/uv.sh found ($UV), else uv on PATH, else the repository's own copy."""
    for cand in (os.environ.get("UV"), shutil.which("uv"), str(ROOT / ".tools" / "uv" / "bin" / "uv")):
        if cand and os.access(cand, os.X_OK):
            return cand
    pytest.fail("no uv to build the wheels with: run `source scripts/lib/uv.sh` (it installs one) or set UV")


def _user_env() -> dict[str, str]:
    """This environment as a user's plain pip would see it: no pip config, no find-links, no venv, no uv."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "UV", "VIRTUAL_ENV", "PYTHON", "CONDA"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1")
    for keep in ("PIP_CERT", "PIP_DEFAULT_TIMEOUT"):  # transport settings of this machine, not package sources
        if keep in os.environ:
            env[keep] = os.environ[keep]
    return env


def _run(argv: list[str], cwd: pathlib.Path, timeout: float = 600) -> str:
    proc = subprocess.run(argv, cwd=cwd, env=_user_env(), text=True, capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n"
                    f"--- stderr\n{proc.stderr[-4000:]}")
    return proc.stdout + proc.stderr


class Venv:
    """A clean venv made by the stdlib's `venv` (with pip), driven by its own interpreter."""

    def __init__(self, path: pathlib.Path, work: pathlib.Path) -> None:
        self.path, self.work = path, work
        _run([sys.executable, "-m", "venv", str(path)], cwd=work)
        self.python = str(path / "bin" / "python")
        self.site = pathlib.Path(self.py("import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())

    def pip(self, *args: str) -> str:
        return _run([self.python, "-m", "pip", *args], cwd=self.work)

    def py(self, code: str) -> str:
        return _run([self.python, "-c", textwrap.dedent(code)], cwd=self.work)

    def distributions(self) -> dict[str, str]:
        """{normalised name: version} of every distribution installed in the venv (pip list)."""
        rows = json.loads(self.pip("list", "--format=json"))
        return {r["name"].lower().replace("_", "-"): r["version"] for r in rows}


PROBE = """
import importlib.metadata as md, importlib.util, json, s3dlio
dist = md.distribution("s3dlio")
print(json.dumps({"version": dist.version, "file": s3dlio.__file__, "dunder": getattr(s3dlio, "__version__", None),
                  "requires": dist.requires or [], "rust_module": importlib.util.find_spec("s3dlio._pymod") is not None}))
"""


def probe(venv: Venv) -> dict[str, Any]:
    """Which s3dlio `import s3dlio` finds in the venv: its distribution's version, file and requirements."""
    return json.loads(venv.py(PROBE).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """Every workspace package built as a wheel (`uv build --all-packages --wheel`) into a fresh directory."""
    out = tmp_path_factory.mktemp("wheels")
    _run([_uv(), "build", "--all-packages", "--wheel", "--quiet", "-o", str(out)], cwd=ROOT)
    built = {w.name.split("-")[0].replace("_", "-"): w.name.split("-")[1] for w in out.glob("*.whl")}
    assert built == MEMBERS, f"built {built}, the workspace has {MEMBERS}"
    return out


@pytest.fixture(scope="module")
def full_venv(wheels: pathlib.Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    """A clean venv where plain pip installed `s3dlio` with --find-links to our wheels."""
    work = tmp_path_factory.mktemp("full")
    venv = Venv(work / "venv", work)
    out = venv.pip("install", "--find-links", str(wheels), "s3dlio")
    assert re.search(rf"Successfully installed .*\bs3dlio-{re.escape(MEMBERS['s3dlio'])}\b", out), out
    yield venv


def test_our_versions_sort_above_the_original() -> None:
    for name, version in MEMBERS.items():
        assert _version_key(version) > _version_key(ORIGINAL_VERSION), (name, version)
    layers = {n: v for n, v in MEMBERS.items() if n != "s3dlio"}
    meta = tomllib.loads((ROOT / "packages/s3dlio/pyproject.toml").read_text())["project"]["dependencies"]
    for name, version in layers.items():
        # the meta-package takes a compatible range of every layer: this major, this version or later
        major = _version_key(version)[0]
        want = rf"^{re.escape(name)}(\[[^\]]*\])?>={major}\.0,<{major + 1}$"
        assert any(re.match(want, d) for d in meta), (name, meta)


def test_pip_resolves_s3dlio_to_ours(full_venv: Venv) -> None:
    got = probe(full_venv)
    assert got["version"] == got["dunder"] == MEMBERS["s3dlio"]
    assert pathlib.Path(got["file"]).resolve().is_relative_to(full_venv.site.resolve()), got["file"]
    assert not got["rust_module"], "the original's extension module is installed"
    names = {re.split(r"[ \[<>=;!~]", r)[0] for r in got["requires"]}
    assert {n for n in MEMBERS if n != "s3dlio"} <= names, got["requires"]
    installed = full_venv.distributions()
    assert {n: installed.get(n) for n in MEMBERS} == MEMBERS


def test_readme_quick_start_runs_from_the_wheels(full_venv: Venv, tmp_path: pathlib.Path) -> None:
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"## Quick start\s+```python\n(.*?)```", readme, re.S).group(1)  # type: ignore[union-attr]
    code = code.replace("file:///tmp/demo/", f"file://{tmp_path}/demo/")  # only the location changes
    out = full_venv.py(code)
    assert "b'Hello, World!' 13" in out, out
    assert f"file://{tmp_path}/demo/hello.bin" in out, out
    assert not (tmp_path / "demo").exists() or not any((tmp_path / "demo").iterdir())


def test_s3_cli_runs_from_the_wheels(full_venv: Venv) -> None:
    cli = str(full_venv.path / "bin" / "s3-cli")
    out = _run([cli, "--help"], cwd=full_venv.work)
    assert out.startswith("usage: s3-cli"), out
    for command in ("ls", "get", "put", "bench"):
        assert re.search(rf"^\s+{command}\b", out, re.M), command
    assert _run([cli, "--version"], cwd=full_venv.work).strip() == f"s3-cli (s3dlio {MEMBERS['s3dlio']})"


def test_pip_swaps_the_original_and_ours(full_venv: Venv, wheels: pathlib.Path) -> None:
    """One distribution named s3dlio at a time: each install replaces the other (the README's account)."""
    ours = MEMBERS["s3dlio"]
    out = full_venv.pip("install", f"s3dlio=={ORIGINAL_VERSION}")  # the original, from the public index
    assert f"Successfully uninstalled s3dlio-{ours}" in out, out
    got = probe(full_venv)
    assert got["version"] == ORIGINAL_VERSION and got["rust_module"], got
    # an unversioned install keeps whatever s3dlio is there, even with our wheels offered
    out = full_venv.pip("install", "--find-links", str(wheels), "s3dlio")
    assert "Requirement already satisfied: s3dlio" in out, out
    assert probe(full_venv)["version"] == ORIGINAL_VERSION
    # asking for ours (a version range, or --upgrade) replaces the original, its extension module included
    out = full_venv.pip("install", "--find-links", str(wheels), "s3dlio>=1")
    assert f"Successfully uninstalled s3dlio-{ORIGINAL_VERSION}" in out, out
    got = probe(full_venv)
    assert got["version"] == ours and not got["rust_module"], got


def test_core_alone_pulls_nothing_and_serves_file(wheels: pathlib.Path, tmp_path: pathlib.Path) -> None:
    venv = Venv(tmp_path / "venv", tmp_path)
    before = venv.distributions()
    venv.pip("install", "--find-links", str(wheels), "s3dlio-core")
    after = venv.distributions()
    assert after == {**before, "s3dlio-core": MEMBERS["s3dlio-core"]}, after
    out = venv.py(f"""
        import importlib.metadata as md, json, sys
        import s3dlio_core
        from s3dlio_core import BackendNotInstalledError, BytesView, store_for_uri
        root = "file://{tmp_path}/data/"
        store, _ = store_for_uri(root)
        store.put(root + "a/one.bin", b"x" * 1000)
        store.put(root + "two.bin", memoryview(b"hello"))
        view = store.get(root + "a/one.bin")
        assert isinstance(view, BytesView) and bytes(view) == b"x" * 1000
        assert bytes(store.get_range(root + "two.bin", 1, 3)) == b"ell"
        assert store.list(root, recursive=True) == [root + "a/one.bin", root + "two.bin"]
        assert store.stat(root + "two.bin")["size"] == 5
        store.delete(root, recursive=True)
        assert store.list(root, recursive=True) == []
        try:
            store_for_uri("s3://bucket/key")
        except BackendNotInstalledError as e:
            s3_error = str(e)
        else:
            raise AssertionError("s3:// served without s3dlio-backends")
        dists = sorted(d.metadata["Name"] for d in md.distributions())
        print(json.dumps({{"version": s3dlio_core.__version__, "dists": dists, "s3_error": s3_error,
                           "third_party": sorted(m for m in ("numpy", "boto3", "zstandard", "torch") if m in sys.modules)}}))
    """)
    got = json.loads(out.strip().splitlines()[-1])
    assert got["version"] == MEMBERS["s3dlio-core"]
    assert "s3dlio-core" in got["dists"] and not [d for d in got["dists"] if d.startswith("s3dlio") and d != "s3dlio-core"]
    assert got["third_party"] == []
    assert "s3dlio-backends" in got["s3_error"], got["s3_error"]
