"""The peers our benchmarks compare against, each in a venv of its own under `.bench/` (ignored by git).

Peers (`PEERS`):
    original   the original s3dlio 0.10.0 (it imports as `s3dlio`, like ours, so it can never share our
               environment), with numpy, boto3 and zstandard beside it
    boto3      boto3 (the version our uv.lock pins)
    obstore    obstore 0.12.1 (Rust object_store bindings)
    s3torch    s3torchconnector 1.5 (with its dcp extra) and torch 2.13.0 CPU, torch from the local wheel directory
               /opt/wheels (`--find-links`), never the CUDA build from the index
    ours       not a venv of its own: the workspace's .venv (the interpreter running the benchmark)

A venv is made on first use with the uv that `scripts/lib/uv.sh` finds or installs (no uv on PATH is
needed), stamped with its requirement list, and made again if that list changes or its probe import fails.
Creation holds a lock file, so two benchmarks starting at once do not race.

How a benchmark uses it::

    from _peers import python_for, peer_env, run_in
    py = python_for("obstore")                     # path of that venv's python (created if missing)
    subprocess.run([py, "-c", code], env=peer_env({"AWS_ENDPOINT_URL": ...}))
    value = run_in("original", "import s3dlio, json; print(json.dumps(s3dlio.__version__))")

`run_in` runs code and returns the JSON of its last output line. `ensure_bytecode(name)` compiles a
peer's sources to .pyc as an installed package has them (the harness calls it before the first round). For timed rounds, use `_harness.py`
(it takes a peer name per client and calls `python_for` itself). `python benchmarks/_peers.py [NAME...]`
creates (or checks) the venvs and prints each one's python and probe result.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pathlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".bench"
WHEELS = "/opt/wheels"  # the local wheel directory holding torch 2.13.0+cpu


@dataclass(frozen=True)
class Peer:
    """A venv recipe: what to install, extra uv arguments, and an import that proves it works."""

    name: str
    requirements: tuple[str, ...]
    probe: str
    uv_args: tuple[str, ...] = ()


PEERS: dict[str, Peer] = {
    "original": Peer("original", ("s3dlio==0.10.0", "numpy", "boto3==1.44.5", "zstandard"),
                     "import s3dlio; print(s3dlio.__version__)"),
    "boto3": Peer("boto3", ("boto3==1.44.5",), "import boto3; print(boto3.__version__)"),
    "obstore": Peer("obstore", ("obstore==0.12.1",), "import obstore; print(obstore.__version__)"),
    # `torch==2.13.0+cpu` exists only in /opt/wheels, so the resolver cannot pick the CUDA build
    "s3torch": Peer("s3torch", ("torch==2.13.0+cpu", "s3torchconnector[dcp]==1.5.0"),
                    "import torch, s3torchconnector; assert not torch.cuda.is_available(); print(torch.__version__)",
                    ("--find-links", WHEELS)),
}


def uv_binary() -> str:
    """The uv binary: $UV if it works, else what scripts/lib/uv.sh finds (PATH, or .tools/uv, installed
    there with the machine's python3 if missing)."""
    env_uv = os.environ.get("UV")
    if env_uv and subprocess.run([env_uv, "--version"], capture_output=True).returncode == 0:
        return env_uv
    script = ROOT / "scripts" / "lib" / "uv.sh"
    proc = subprocess.run(["bash", "-c", f'source "{script}" >&2 && printf %s "$UV"'], capture_output=True,
                          text=True)
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"could not find or install uv with {script}:\n{proc.stderr[-2000:]}")
    return proc.stdout


def peer_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ without our venv's traces (VIRTUAL_ENV, PYTHONPATH, PYTHONHOME) plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith("VIRTUAL_ENV")}
    env.update(extra or {})
    return env


def ours_python() -> str:
    """The workspace venv's python (where `import s3dlio` is ours)."""
    py = ROOT / ".venv" / "bin" / "python"
    return str(py) if py.exists() else sys.executable


@contextlib.contextmanager
def _locked(path: pathlib.Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _stamp(peer: Peer) -> str:
    return json.dumps({"requirements": peer.requirements, "uv_args": peer.uv_args}, sort_keys=True)


def _ready(peer: Peer, venv: pathlib.Path) -> bool:
    py = venv / "bin" / "python"
    stamp = venv / ".peer-spec"
    if not py.exists() or not stamp.exists() or stamp.read_text() != _stamp(peer):
        return False
    return subprocess.run([str(py), "-c", peer.probe], capture_output=True, env=peer_env()).returncode == 0


def python_for(name: str) -> str:
    """Path of the python for peer `name` ("ours" = the workspace venv); the venv is made on first use."""
    if name == "ours":
        return ours_python()
    try:
        peer = PEERS[name]
    except KeyError:
        raise ValueError(f"unknown peer {name!r}; known: ours, {', '.join(PEERS)}") from None
    venv = BENCH_DIR / peer.name
    py = venv / "bin" / "python"
    if _ready(peer, venv):
        return str(py)
    with _locked(BENCH_DIR / f".{peer.name}.lock"):
        if _ready(peer, venv):  # another process made it while we waited
            return str(py)
        uv = uv_binary()
        env = peer_env({"UV_PYTHON_DOWNLOADS": "never"})
        print(f"[peers] creating {venv} ({', '.join(peer.requirements)})", file=sys.stderr, flush=True)
        subprocess.run([uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(venv)], check=True,
                       env=env)
        subprocess.run([uv, "pip", "install", "--quiet", "--python", str(py), *peer.uv_args,
                        *peer.requirements], check=True, env=env)
        probe = subprocess.run([str(py), "-c", peer.probe], capture_output=True, text=True, env=peer_env())
        if probe.returncode != 0:
            raise RuntimeError(f"peer venv {venv} does not work ({peer.probe!r}):\n{probe.stderr[-2000:]}")
        (venv / ".peer-spec").write_text(_stamp(peer))
    return str(py)


_compiled: set[str] = set()


def compile_dir(python: str, *dirs: str) -> None:
    """Compile the Python sources under `dirs` to .pyc with `python` (once per run and directory)."""
    todo = [d for d in dirs if (python, d) not in _compiled_dirs]
    if todo:
        subprocess.run([python, "-m", "compileall", "-q", "-j0", "-x", r"/site-packages/torch/", *todo],
                       check=True, capture_output=True, env=peer_env())
        _compiled_dirs.update((python, d) for d in todo)


_compiled_dirs: set[tuple[str, str]] = set()


def ensure_bytecode(name: str) -> None:
    """Compile peer `name`'s Python sources to .pyc once per run (ours: the workspace packages' sources;
    a peer: its venv's site-packages, torch's tree left out). pip compiles on install, uv does not, and
    this machine sets PYTHONDONTWRITEBYTECODE=1: without this, every fresh process would compile the
    modules it imports lazily inside a timed call from source, which no installed package does."""
    if name in _compiled:
        return
    py = python_for(name)
    if name == "ours":
        dirs = [str(p) for p in sorted((ROOT / "packages").glob("*/src"))]
    else:
        dirs = [str(p) for p in (BENCH_DIR / name / "lib").glob("python*/site-packages")]
    compile_dir(py, *dirs)
    _compiled.add(name)


def run_in(name: str, code: str, env: Mapping[str, str] | None = None, timeout: float = 900) -> Any:
    """Run `code` (dedented) with peer `name`'s python; return the JSON its last output line holds."""
    proc = subprocess.run([python_for(name), "-c", textwrap.dedent(code)], env=peer_env(env), text=True,
                          capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} run failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    for n in sys.argv[1:] or list(PEERS):
        p = python_for(n)
        out = subprocess.run([p, "-c", PEERS[n].probe if n in PEERS else "import s3dlio"], capture_output=True,
                             text=True, env=peer_env())
        print(f"{n}: {p} -> {out.stdout.strip() or out.stderr.strip()[-200:]}")
