"""What an active op-log costs: 4 KiB GET throughput with the op-log on vs off, measured in one run.

One worker process per access pattern holds one op-log session and alternates timed passes with the
op-log paused (no observer attached: exactly the path of a program that never called init_op_log) and
recording, so drift and machine noise hit both sides alike; the ratio of the medians is printed, e.g.
`4KiB GET file:// oplog on/off: 0.97x`. Two access patterns: one `get` after another (the worst case
for a per-operation hook: the cheapest operation there is) and `get_many` with 64 in flight. The same
runs against a local SeaweedFS S3 server (started and stopped here; `--no-s3` or S3_BENCH=0 skips it).
The CPU line is the calling process's CPU per GET (the op-log writer runs in a process of its own).

    uv run python benchmarks/oplog_overhead.py [--objects 2000] [--passes 1] [--rounds 41] [--no-s3]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

SIZE = 4096
PATTERNS = ("get", "get_many")


def worker(prefix: str, n: int, passes: int, rounds: int, pattern: str, logdir: str) -> dict:
    """One process, one op-log session: `rounds` times, a timed pass with the op-log paused (no observer:
    exactly the never-initialised path) and one with it recording; returns per-pass ops/s and CPU/op."""
    import s3dlio
    from s3dlio_oplog import pause_op_log, resume_op_log

    uris = [f"{prefix}o{i:06d}.bin" for i in range(n)]
    s3dlio.get_many(uris[:200], max_in_flight=64)  # warm the store, pools and code paths
    for u in uris[:200]:
        s3dlio.get(u)
    s3dlio.init_op_log(os.path.join(logdir, f"bench-{os.getpid()}.tsv.zst"))
    get = s3dlio.get

    def one_pass() -> tuple[float, float]:
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(passes):
            if pattern == "get":
                for u in uris:
                    get(u)
            else:
                s3dlio.get_many(uris, max_in_flight=64)
        dt = time.perf_counter() - t0
        return n * passes / dt, (time.process_time() - c0) / (n * passes) * 1e6

    out: dict = {"off": [], "on": []}
    for r in range(rounds):
        for mode in (("off", "on") if r % 2 == 0 else ("on", "off")):
            (resume_op_log if mode == "on" else pause_op_log)()
            out[mode].append(one_pass())
    s3dlio.finalize_op_log()
    out["stats"] = s3dlio.op_log_stats()
    return out


def compare(label: str, prefix: str, args: argparse.Namespace, env: dict | None = None) -> None:
    """For each pattern, one worker process alternating paused/recording passes; print the ratios."""
    med = statistics.median
    for pattern in PATTERNS:
        with tempfile.TemporaryDirectory(prefix="oplog-bench-") as logdir:
            cmd = [sys.executable, __file__, "--worker", "--pattern", pattern, "--prefix", prefix,
                   "--objects", str(args.objects), "--passes", str(args.passes), "--rounds", str(args.rounds),
                   "--logdir", logdir]
            p = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            if p.returncode:
                raise RuntimeError(f"worker failed ({pattern}): {p.stderr[-2000:]}")
            r = json.loads(p.stdout.strip().splitlines()[-1])
        st = r["stats"]
        lost = st["accepted"] - st["written"] + st["dropped_full"]
        ops = {m: med(x[0] for x in r[m]) for m in ("off", "on")}
        cpu = {m: med(x[1] for x in r[m]) for m in ("off", "on")}
        what = "" if pattern == "get" else " get_many(64)"
        print(f"  {label}{what}: off {ops['off']:,.0f} ops/s, {cpu['off']:.2f} us CPU/op; on {ops['on']:,.0f} "
              f"ops/s, {cpu['on']:.2f} us CPU/op; rows written {st['written']}, lost {lost}")
        print(f"  CPU per GET in the calling process{what}, {label} oplog off/on: {cpu['off'] / cpu['on']:.2f}x")
        print(f"4KiB GET {label}{what} oplog on/off: {ops['on'] / ops['off']:.2f}x")


def _file_prefix(root: str, n: int) -> str:
    import s3dlio

    prefix = pathlib.Path(root).as_uri() + "/"
    data = os.urandom(SIZE)
    s3dlio.put_many([(f"{prefix}o{i:06d}.bin", data) for i in range(n)])
    return prefix


def _s3(args: argparse.Namespace) -> None:
    """The same comparison on a local SeaweedFS S3 server (tests/support/s3dlio_testsupport/s3_procs.py starts it)."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "support"))
    from s3dlio_testsupport import s3_procs as procs

    with procs.running_seaweedfs() as srv:
        env = {**os.environ, **procs.s3_env(srv.endpoint)}
        os.environ.update(procs.s3_env(srv.endpoint))
        import s3dlio

        bucket = f"oplog-bench-{os.getpid()}"
        s3dlio.create_bucket(bucket)
        prefix = f"s3://{bucket}/"
        data = os.urandom(SIZE)
        args.objects = args.s3_objects
        s3dlio.put_many([(f"{prefix}o{i:06d}.bin", data) for i in range(args.objects)])
        compare("s3:// (SeaweedFS)", prefix, args, env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=2000)
    ap.add_argument("--s3-objects", type=int, default=400, help="objects for the (slower) S3 leg")
    ap.add_argument("--passes", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=41)
    ap.add_argument("--no-s3", dest="s3", action="store_false", default=os.environ.get("S3_BENCH") != "0",
                    help="skip the SeaweedFS leg (also S3_BENCH=0)")
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--pattern", choices=PATTERNS, default="get")
    ap.add_argument("--prefix")
    ap.add_argument("--logdir")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.prefix, args.objects, args.passes, args.rounds, args.pattern, args.logdir)))
        return
    with tempfile.TemporaryDirectory(prefix="oplog-bench-data-") as root:
        compare("file://", _file_prefix(root, args.objects), args)
    if args.s3:
        _s3(args)


if __name__ == "__main__":
    main()
