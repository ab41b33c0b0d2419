"""Data generation speed: ours vs the original s3dlio 0.10.0, measured in the same run.

Prints one line per case, e.g.
    generate_data 64MiB 1 thread: ours 2.1 GB/s | original 1.8 GB/s (1.17x)
Each number is the best of several repetitions in two alternating rounds per side (other load on the
machine only ever slows a run down).
Usage: uv run python benchmarks/datagen.py [--size-mib 64] [--reps 7]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time
from collections.abc import Callable

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from _original import run_original

# (label, code building `fn` given SIZE, THREADS and the module `m`, threads or None for "all cores")
CASES: list[tuple[str, str, int | None]] = [
    ("generate_data", "fn = lambda: m.generate_data_with_threads(SIZE, 1, 1, threads=THREADS)", 1),
    ("generate_data", "fn = lambda: m.generate_data(SIZE)", None),
    ("generate_data dedup 2 compress 2", "fn = lambda: m.generate_data_with_threads(SIZE, 2, 2, threads=THREADS)", 1),
    ("generate_data dedup 2 compress 2", "fn = lambda: m.generate_data(SIZE, 2, 2)", None),
    ("generate_into_buffer", "buf = bytearray(SIZE)\nfn = lambda: m.generate_into_buffer(buf, 1, 1, threads=THREADS)", 1),
    ("generate_into_buffer", "buf = bytearray(SIZE)\nfn = lambda: m.generate_into_buffer(buf, 1, 1, threads=THREADS)",
     0),
    ("Generator.fill_chunk 8MiB chunks",
     "buf = bytearray(8 << 20)\n"
     "def fn():\n"
     "    g = m.Generator(SIZE, 1, 1, threads=THREADS)\n"
     "    while g.fill_chunk(buf):\n"
     "        pass", 1),
    ("Generator.fill_chunk seed=42 (the original's bytes) 8MiB chunks",
     "buf = bytearray(8 << 20)\n"
     "def fn():\n"
     "    g = m.Generator(SIZE, 1, 1, threads=THREADS, seed=42)\n"
     "    while g.fill_chunk(buf):\n"
     "        pass", 1),
    ("Generator.fill_chunk seed=42 (the original's bytes) 8MiB chunks",
     "buf = bytearray(8 << 20)\n"
     "def fn():\n"
     "    g = m.Generator(SIZE, 1, 1, threads=THREADS, seed=42)\n"
     "    while g.fill_chunk(buf):\n"
     "        pass", None),
]

TIMER = """
import json, time
import s3dlio as m
SIZE = {size}
THREADS = {threads}
{setup}
fn()  # warm up: imports, pools, first touch of buffers
best = float("inf")
for _ in range({reps}):
    t0 = time.perf_counter()
    fn()
    best = min(best, time.perf_counter() - t0)
print(json.dumps(SIZE / best / 1e9))
"""


BULK = """
import json, os, shutil, tempfile, time
import s3dlio as m
NUM, SIZE = {num}, {size}
root = tempfile.mkdtemp(prefix="s3dlio-bench-put-")
best = float("inf")
try:
    for r in range({reps}):
        prefix = f"file://{{root}}/run{{r}}/"
        t0 = time.perf_counter()
        m.put(prefix, NUM, template="obj-{{}}", size=SIZE, max_in_flight=16{extra})
        best = min(best, time.perf_counter() - t0)
        shutil.rmtree(f"{{root}}/run{{r}}")
finally:
    shutil.rmtree(root, ignore_errors=True)
print(json.dumps(NUM * SIZE / best / 1e9))
"""


def bulk_put(num: int, size: int, reps: int, extra: str = "") -> tuple[float, float]:
    """put(prefix, num, size=...) to a temp dir on file://: (ours, original) in GB/s."""
    code = BULK.format(num=num, size=size, reps=reps, extra=extra)
    ns: dict[str, object] = {}
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(code, ns)
    mine = json.loads(out.getvalue().strip().splitlines()[-1])
    return mine, run_original(code)


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover
        return os.cpu_count() or 1


def ours(setup: str, size: int, threads: int | None, reps: int) -> float:
    import s3dlio

    ns: dict[str, object] = {"m": s3dlio, "SIZE": size, "THREADS": threads}
    exec(setup, ns)
    fn: Callable[[], object] = ns["fn"]  # type: ignore[assignment]
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return size / best / 1e9


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=64)
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    size = a.size_mib << 20
    ncpu = cpus()
    print(f"# data generation, {a.size_mib} MiB per call, best of {a.reps}, {ncpu} CPUs", flush=True)
    ratios = []
    for label, setup, threads in CASES:
        t = ncpu if threads in (None, 0) else threads
        code = TIMER.format(size=size, threads=t, setup=setup, reps=a.reps)
        mine = theirs = 0.0
        for _ in range(2):  # alternate, so a burst of load elsewhere hits both sides alike
            mine = max(mine, ours(setup, size, t, a.reps))
            theirs = max(theirs, run_original(code))
        where = "1 thread" if t == 1 else f"{t} threads (all cores)"
        ratios.append(mine / theirs)
        print(f"{label} {a.size_mib}MiB {where}: ours {mine:.2f} GB/s | original {theirs:.2f} GB/s "
              f"({mine / theirs:.2f}x)", flush=True)
    for extra, label in (("", "default streaming"), (", data_gen_mode='single-pass'", "single-pass"),
                         (", dedup_factor=2, compress_factor=2", "dedup 2 compress 2")):
        num, size = 32, 4 << 20
        mine, theirs = bulk_put(num, size, max(3, a.reps // 2), extra)
        print(f"bulk put file:// {num} x 4MiB {label}, 16 in flight: ours {mine:.2f} GB/s | original {theirs:.2f} GB/s "
              f"({mine / theirs:.2f}x)  [the original writes one buffer to every object; ours are all distinct]",
              flush=True)
    print(json.dumps({"min_ratio_generation": round(min(ratios), 2), "generation_cases": len(ratios)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
