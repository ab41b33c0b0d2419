"""DLIO samples/s on s3dlio: ours against the original s3dlio 0.10.0, in the same run.

The workload of the DLIO tier (tests/dlio), scaled up: upstream DLIO (the vendored argonne-lcf commit)
generates an NPZ dataset (one 128 KiB sample per file) on a SeaweedFS of its own on 127.0.0.1, then
trains with PyTorch, 2 reader processes, no compute time (so the loader is the bottleneck). Each client
runs in a DLIO venv of its own (.bench/dlio-ours, .bench/dlio-original) with its own drop-in installed
by its own installer. Every run is a fresh DLIO process on a fresh prefix; rounds are interleaved
(ours, original, ...) so drift on a shared machine hits every client alike; medians are reported.

Measured per run, from DLIO's own output: training samples/s (summary.json's mean over epochs) and
generation files/s (the "Starting data generation" -> "Generation done" timestamps of dlio.log); also
the CPU seconds of the whole DLIO process tree (getrusage of the waited children), per GB moved.

The original's drop-in is broken as shipped; the one change made to run it: in its installed
`storage/s3_torch_storage.py`, `from . import _multipart_config` (a sibling its installer does not copy:
ImportError) becomes `from s3dlio.integrations.dlio import _multipart_config`. Under DLIO's default
`multiprocessing_context: fork` the original then hangs in the reader processes (its native runtime does
not survive fork), so the comparison runs under `spawn`, where both work; ours is also measured under
`fork` (`--original-fork` tries the original there too, with a short timeout).

Usage: uv run python benchmarks/dlio.py [--rounds 3] [--files 512] [--epochs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "tests" / "dlio"))

import dlio_env  # noqa: E402
from s3dlio_testsupport import s3_procs as procs  # noqa: E402

BUCKET = "dlio-bench"
SAMPLE = 128 * 1024
_TS = re.compile(r"\[OUTPUT\] (\S+) (Starting data generation|Generation done)")
ORIGINAL_IMPORT = "from . import _multipart_config\n"
FIXED_IMPORT = "from s3dlio.integrations.dlio import _multipart_config\n"


def install(flavor: str, python: str, tree: pathlib.Path) -> None:
    """Each client's own drop-in installer; for the original, plus the one-line import fix."""
    code = ("import sys, contextlib, io\nfrom s3dlio.integrations.dlio import install_dropin_replacement\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    install_dropin_replacement(sys.argv[1])\n")
    subprocess.run([python, "-c", code, str(tree / "dlio_benchmark")], check=True, capture_output=True)
    if flavor == "original":
        target = tree / "dlio_benchmark" / "storage" / "s3_torch_storage.py"
        text = target.read_text()
        if text.count(ORIGINAL_IMPORT) != 1:
            raise RuntimeError(f"the original's drop-in no longer has {ORIGINAL_IMPORT.strip()!r}: re-check the fix")
        target.write_text(text.replace(ORIGINAL_IMPORT, FIXED_IMPORT))


def one_run(python: str, tree: pathlib.Path, endpoint: str, prefix: str, context: str, files: int, epochs: int,
            timeout: float) -> dict[str, float] | str:
    """One DLIO run; its numbers, or why there are none."""
    opts = {"access_key_id": procs.TEST_KEY, "secret_access_key": procs.TEST_SECRET, "endpoint_url": endpoint,
            "region": procs.TEST_REGION}
    workload = dlio_env.workload_yaml(data_folder=f"s3://{BUCKET}/{prefix}", storage_type="s3", storage_root=BUCKET,
                                      storage_options=opts, num_files=files, context=context, epochs=epochs,
                                      batch_size=8, record_bytes=SAMPLE)
    with tempfile.TemporaryDirectory(prefix="s3dlio-dlio-bench-") as work:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        run = dlio_env.run_dlio(python, tree, pathlib.Path(work), workload, timeout=timeout)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if run.timed_out:
            return f"hung (killed after {run.seconds:.0f} s)"
        if run.returncode:
            return f"failed ({run.returncode}): {run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ''}"
        stamps = {m[2]: dt.datetime.fromisoformat(m[1]) for m in _TS.finditer(run.log())}
        gen_s = (stamps["Generation done"] - stamps["Starting data generation"]).total_seconds()
        summary = run.summary()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    gb = files * SAMPLE * (1 + epochs) / 1e9  # written once, read every epoch
    return {"samples_s": summary["metric"]["train_throughput_mean_samples_per_second"],
            "gen_files_s": files / gen_s, "cpu_s_per_gb": cpu / gb, "wall_s": run.seconds}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--files", type=int, default=512, help="NPZ files (one 128 KiB sample each)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900, help="seconds before a DLIO run counts as hung")
    ap.add_argument("--original-fork", action="store_true",
                    help="also try the original under fork (it hangs; killed after 180 s)")
    args = ap.parse_args()

    pythons = {f: dlio_env.ensure_venv(f) for f in ("ours", "original")}
    clients = [("ours", "spawn"), ("original", "spawn"), ("ours", "fork")]
    if args.original_fork:
        clients.append(("original", "fork"))
    results: dict[tuple[str, str], list[dict[str, float]]] = {c: [] for c in clients}
    failures: dict[tuple[str, str], str] = {}
    with tempfile.TemporaryDirectory(prefix="s3dlio-dlio-trees-") as trees, \
            procs.running_seaweedfs(buckets=BUCKET) as server:
        tree = {}
        for flavor, py in pythons.items():
            tree[flavor] = dlio_env.unpack_dlio(pathlib.Path(trees) / flavor)
            install(flavor, py, tree[flavor])
        print(f"DLIO {dlio_env.TARBALL_NAME} on SeaweedFS {server.endpoint}: {args.files} NPZ files x 128 KiB, "
              f"{args.epochs} epochs, batch 8, 2 readers, no compute; median of {args.rounds} interleaved rounds "
              f"(fresh DLIO process each); ratios = ours / original (spawn)", flush=True)
        for r in range(args.rounds):
            for flavor, context in clients:
                if (flavor, context) in failures:
                    continue
                timeout = 180 if (flavor, context) == ("original", "fork") else args.timeout
                res = one_run(pythons[flavor], tree[flavor], server.endpoint, f"{flavor}-{context}-{r}", context,
                              args.files, args.epochs, timeout)
                if isinstance(res, str):
                    failures[(flavor, context)] = res
                    print(f"  round {r + 1}: {flavor} {context}: {res}", flush=True)
                else:
                    results[(flavor, context)].append(res)
                    print(f"  round {r + 1}: {flavor} {context}: {res['samples_s']:,.0f} samples/s, "
                          f"generation {res['gen_files_s']:,.0f} files/s, {res['wall_s']:.0f} s", flush=True)

    def med(c: tuple[str, str], key: str) -> float:
        return statistics.median(x[key] for x in results[c])

    base = ("original", "spawn")
    for c in clients:
        name = f"{c[0]} ({c[1]})"
        if not results[c]:
            print(f"{name}: no result: {failures.get(c, 'not run')}")
            continue
        line = (f"{name}: training {med(c, 'samples_s'):,.0f} samples/s | generation {med(c, 'gen_files_s'):,.0f} "
                f"files/s | {med(c, 'cpu_s_per_gb'):,.0f} CPU-s/GB (whole DLIO run)")
        if c[0] == "ours" and results[base]:
            line += (f" | vs original (spawn): training {med(c, 'samples_s') / med(base, 'samples_s'):.2f}x, "
                     f"generation {med(c, 'gen_files_s') / med(base, 'gen_files_s'):.2f}x")
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
