"""An environment of its own for upstream DLIO (argonne-lcf/dlio_benchmark), and running DLIO in it.

DLIO cannot share the workspace venv: hydra/omegaconf need antlr4-python3-runtime 4.9.3, the dev group
pulls 4.13. So DLIO gets a venv under .bench/ (ignored by git), made with uv (the one
scripts/lib/uv.sh finds, passed as $UV), holding DLIO's dependencies (torch is the CPU build from
/opt/wheels), s3torchconnector without its dependencies (upstream's config check imports it even when
the drop-in is in place; it does no I/O) and one s3dlio: ours (the workspace packages, editable, at the
versions uv.lock pins) or the original (PyPI s3dlio 0.10.0, for the benchmark).

DLIO itself is not installed: its source (the vendored tarball, commit e1919d7) is unpacked into a
temporary directory for each run and put on PYTHONPATH, so what an installer does to it never outlives
the run. DLIO's MPI (mpi4py) needs Open MPI: scripts/test-dlio installs libopenmpi-dev and openmpi-bin.

Used by tests/dlio (the tier) and benchmarks/dlio.py. `python tests/dlio/dlio_env.py [ours|original]`
prepares a venv and prints its python.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCH = ROOT / ".bench"
TARBALL_NAME = "dlio_benchmark-upstream-e1919d7.tar.gz"
TORCH_WHEELS = "/opt/wheels"

#: DLIO's runtime dependencies (its setup's list, less the GPU/TF extras), pinned for repeatable runs.
DLIO_REQUIREMENTS = [
    "torch==2.13.0", "hydra-core==1.3.8", "omegaconf==2.3.1", "antlr4-python3-runtime==4.9.3",
    "mpi4py==4.1.2", "numpy>=2,<3", "pandas==3.1.1", "psutil==7.2.2", "pyyaml==6.0.4", "h5py==3.16.0",
    "pillow==13.0.0", "pydftracer==2.0.6",
]
#: Imported by upstream's config check for storage_type s3; installed without dependencies.
NO_DEPS = ["s3torchconnector==1.5.0", "s3torchconnectorclient==1.5.0"]
ORIGINAL = "s3dlio==0.10.0"


def tarball() -> pathlib.Path:
    """The vendored DLIO source: $S3DLIO_DLIO_TARBALL, else ../shared/vendor/ beside the checkout."""
    env = os.environ.get("S3DLIO_DLIO_TARBALL")
    cands = [pathlib.Path(env)] if env else []
    cands += [ROOT.parent / "shared" / "vendor" / TARBALL_NAME, pathlib.Path("/work/shared/vendor") / TARBALL_NAME]
    for c in cands:
        if c.is_file():
            return c
    raise FileNotFoundError(f"the vendored DLIO source {TARBALL_NAME} is not in {', '.join(map(str, cands))} "
                            "(set S3DLIO_DLIO_TARBALL)")


def unpack_dlio(dest: pathlib.Path) -> pathlib.Path:
    """Unpack DLIO into `dest` (which then holds dlio_benchmark/); returns `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball()) as tf:
        tf.extractall(dest, filter="data")
    if not (dest / "dlio_benchmark" / "storage").is_dir():
        raise RuntimeError(f"{tarball()} holds no dlio_benchmark/storage/")
    return dest


def find_uv() -> str:
    """$UV (scripts/lib/uv.sh exports it), uv on PATH, or the repository's .tools/uv."""
    for cand in (os.environ.get("UV"), shutil.which("uv"), str(ROOT / ".tools" / "uv" / "bin" / "uv")):
        if cand and os.path.exists(cand):
            return cand
    raise RuntimeError("uv not found: run through scripts/test-dlio, or `source scripts/lib/uv.sh` first")


def _ours_requirements(uv: str) -> str:
    """The workspace's s3dlio and its dependencies at uv.lock's versions (editable paths)."""
    out = subprocess.run([uv, "export", "--frozen", "--no-hashes", "--no-header", "--package", "s3dlio",
                          "--no-dev", "--no-annotate"], cwd=ROOT, check=True, capture_output=True, text=True)
    return out.stdout


def _run(argv: list[str], **kw: Any) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(argv[:4])} ... failed ({proc.returncode}):\n{proc.stderr[-4000:]}")


def ensure_venv(flavor: str = "ours") -> str:
    """The python of the DLIO venv with our s3dlio ('ours') or the original ('original'), created or
    brought up to date first (a stamp of what it holds decides)."""
    if flavor not in ("ours", "original"):
        raise ValueError(f"flavor must be 'ours' or 'original', got {flavor!r}")
    uv = find_uv()
    venv = BENCH / f"dlio-{flavor}"
    py = venv / "bin" / "python"
    ours = _ours_requirements(uv) if flavor == "ours" else ORIGINAL + "\n"
    spec = json.dumps({"python": sys.version, "dlio": DLIO_REQUIREMENTS, "no_deps": NO_DEPS, "s3dlio": ours})
    digest = hashlib.sha256(spec.encode()).hexdigest()
    stamp = venv / ".s3dlio-stamp"
    if py.exists() and stamp.exists() and stamp.read_text() == digest:
        return str(py)
    BENCH.mkdir(exist_ok=True)
    shutil.rmtree(venv, ignore_errors=True)
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], env=env)
    req = venv / "requirements.txt"
    req.write_text(ours + "\n".join(DLIO_REQUIREMENTS) + "\n")
    # torch comes only from /opt/wheels (the CPU build); everything else from the package index
    _run([uv, "pip", "install", "--quiet", "--python", str(py), "--find-links", TORCH_WHEELS, "-r", str(req)],
         cwd=ROOT, env=env)
    _run([uv, "pip", "install", "--quiet", "--python", str(py), "--no-deps", *NO_DEPS], env=env)
    check = subprocess.run([str(py), "-c", "import torch, hydra, mpi4py, s3dlio; print(torch.__version__)"],
                           capture_output=True, text=True)
    if check.returncode or "+cpu" not in check.stdout:
        raise RuntimeError(f"the DLIO venv {venv} is not usable (torch {check.stdout.strip()!r}):\n"
                           f"{check.stderr[-2000:]}")
    stamp.write_text(digest)
    return str(py)


@dataclass
class DlioRun:
    """One finished DLIO run: its exit code, console output and output folder."""

    returncode: int
    stdout: str
    output: pathlib.Path
    seconds: float
    timed_out: bool = False

    def log(self) -> str:
        p = self.output / "dlio.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def summary(self) -> dict[str, Any]:
        return json.loads((self.output / "summary.json").read_text())

    def rank_output(self, rank: int = 0) -> dict[str, Any]:
        return json.loads((self.output / f"{rank}_output.json").read_text())


def workload_yaml(*, data_folder: str, storage_type: str, storage_root: str, storage_options: Mapping[str, str],
                  num_files: int, context: str, epochs: int = 2, batch_size: int = 4, read_threads: int = 2,
                  record_bytes: int = 128 * 1024, computation_time: float = 0.0) -> str:
    """A DLIO workload: NPZ files of one `record_bytes` sample each, generated, then `epochs` epochs of
    PyTorch training with `read_threads` reader processes started by `context` (fork or spawn)."""
    opts = "\n".join(f"    {k}: {json.dumps(str(v))}" for k, v in storage_options.items())
    return f"""model:
  name: s3dlio_dlio_tier
framework: pytorch
workflow:
  generate_data: True
  train: True
  checkpoint: False
dataset:
  data_folder: {data_folder}
  format: npz
  num_files_train: {num_files}
  num_samples_per_file: 1
  record_length_bytes: {record_bytes}
  record_length_bytes_stdev: 0
storage:
  storage_type: {storage_type}
  storage_root: {storage_root}
  storage_options:
{opts}
reader:
  data_loader: pytorch
  batch_size: {batch_size}
  read_threads: {read_threads}
  multiprocessing_context: {context}
  file_shuffle: seed
  sample_shuffle: seed
train:
  epochs: {epochs}
  computation_time: {computation_time}
"""


def run_dlio(python: str, dlio_dir: pathlib.Path, workdir: pathlib.Path, workload: str,
             env: Mapping[str, str] | None = None, timeout: float = 600, np: int = 1) -> DlioRun:
    """Run DLIO (`mpirun -np NP python -m dlio_benchmark.main`) on `workload` (YAML text) from `workdir`.

    The environment is the caller's less every AWS_* and S3DLIO_* variable (the workload's
    storage_options supply credentials and endpoint), plus `env`. MPI4PY_RC_INITIALIZE=0: DLIO
    initialises MPI itself in the main process, and a reader process started with `spawn` re-imports
    DLIO modules that `from mpi4py import MPI`, which under mpirun would try to join the job and abort.
    A run that outlives `timeout` is killed (its whole process group) and returned with timed_out."""
    conf = workdir / "conf" / "workload"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "s3dlio_tier.yaml").write_text(workload)
    out = workdir / "output"
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("AWS_", "S3DLIO_", "VIRTUAL_ENV", "PYTHON", "OMPI_", "PMIX_"))}
    full_env.update({"PYTHONPATH": str(dlio_dir), "MPI4PY_RC_INITIALIZE": "0", "HYDRA_FULL_ERROR": "1",
                     "PYTHONUNBUFFERED": "1", "AWS_EC2_METADATA_DISABLED": "true"})
    full_env.update(env or {})
    argv = [python, "-m", "dlio_benchmark.main", f"--config-dir={workdir / 'conf'}", "workload=s3dlio_tier",
            f"++workload.output.folder={out}", f"hydra.run.dir={workdir / 'hydra'}"]
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        raise RuntimeError("mpirun not found: DLIO needs Open MPI (apt-get install openmpi-bin libopenmpi-dev; "
                           "scripts/test-dlio does it)")
    mpi = [mpirun, "-np", str(np)]
    if os.geteuid() == 0:
        mpi.append("--allow-run-as-root")
    for name in sorted(k for k in full_env if k in ("PYTHONPATH", "MPI4PY_RC_INITIALIZE", "HYDRA_FULL_ERROR")
                       or k.startswith(("AWS_", "S3DLIO_"))):
        mpi += ["-x", name]
    t0 = time.monotonic()
    proc = subprocess.Popen(mpi + argv, cwd=workdir, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    timed_out = False
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this call started: mpirun, DLIO, its readers
        except ProcessLookupError:
            pass
        stdout, _ = proc.communicate()
    return DlioRun(proc.returncode, stdout or "", out, time.monotonic() - t0, timed_out)


if __name__ == "__main__":
    print(ensure_venv(sys.argv[1] if len(sys.argv) > 1 else "ours"))
