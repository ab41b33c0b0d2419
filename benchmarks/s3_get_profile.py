"""Where does a GET round's CPU go? A profiling companion to s3_get_compare.py.

Starts a SeaweedFS on 127.0.0.1, uploads COUNT objects of SIZE, then runs `get_many(uris, IN_FLIGHT)`
of ours in fresh processes (one per variant and round) and prints, per round: MB/s, user and sys CPU
seconds per GB, minor page faults, voluntary/involuntary context switches, and the kernel's THP and
compaction counters (/proc/vmstat deltas across the call: a huge-page fault that has to compact shows
up in compact_stall). A variant is a set of environment variables for ours (`--variant NAME:K=V,K=V`).

    uv run python benchmarks/s3_get_profile.py --size 16MiB --count 64 --rounds 3 \
        --variant base: --variant nohuge:S3DLIO_HUGEPAGE_MIN_MB=0
    uv run python benchmarks/s3_get_profile.py --size 16MiB --serve   # keep the server up; prints the
        environment and a child script, for `perf record -g` or `py-spy record` by hand (`child.py --pause`
        sleeps 2 s after its imports: `perf record -D 1500 -g -- python child.py --pause`); Ctrl-C stops it

`--calls N` makes each process call get_many N times (later calls show what a warm process costs).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time

from _harness import Client, run_round
from _s3_bench import MiB, procs

_VMSTAT_KEYS = ("thp_fault_alloc", "thp_fault_fallback", "compact_stall", "compact_fail", "pgfault")

CHILD = """
import os, resource, time, json
import s3dlio
def vmstat():
    out = {}
    with open("/proc/vmstat") as f:
        for line in f:
            k, v = line.split()
            if k in __KEYS__:
                out[k] = int(v)
    return out
def run(p):
    calls = []
    held = []
    for _ in range(p["calls"]):
        v0 = vmstat(); r0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.perf_counter()
        res = s3dlio.get_many(p["uris"], p["in_flight"])
        t1 = time.perf_counter(); r1 = resource.getrusage(resource.RUSAGE_SELF); v1 = vmstat()
        n = sum(len(v) for _, v in res)
        held.append(res)
        calls.append({"wall": t1 - t0, "user": r1.ru_utime - r0.ru_utime, "sys": r1.ru_stime - r0.ru_stime,
                      "minflt": r1.ru_minflt - r0.ru_minflt, "nvcsw": r1.ru_nvcsw - r0.ru_nvcsw,
                      "nivcsw": r1.ru_nivcsw - r0.ru_nivcsw, "nbytes": n,
                      "vm": {k: v1[k] - v0[k] for k in v1}})
        if p.get("drop"):
            held.clear()
    EXTRA["calls"] = calls
    return sum(c["nbytes"] for c in calls), held
""".replace("__KEYS__", repr(_VMSTAT_KEYS))


def parse_size(text: str) -> int:
    t = text.strip().lower()
    for suffix, mult in (("kib", 1024), ("mib", MiB), ("gib", 1 << 30), ("k", 1024), ("m", MiB)):
        if t.endswith(suffix):
            return int(float(t[: -len(suffix)]) * mult)
    return int(t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="16MiB")
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--in-flight", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=1)
    ap.add_argument("--drop", action="store_true", help="drop each call's results before the next call")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:K=V,K=V")
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()
    size = parse_size(args.size)
    variants: list[tuple[str, dict[str, str]]] = []
    for v in args.variant or ["base:"]:
        name, _, kvs = v.partition(":")
        variants.append((name, dict(kv.split("=", 1) for kv in kvs.split(",") if kv)))
    with procs.running_seaweedfs() as server:
        env = procs.s3_env(server.endpoint)
        os.environ.update(env)
        import s3dlio

        bucket = "bench-profile"
        s3dlio.create_bucket(bucket)
        uris = [f"s3://{bucket}/obj-{i:05d}" for i in range(args.count)]
        data = os.urandom(size)
        s3dlio.put_many([(u, data) for u in uris], 16)
        payload = {"uris": uris, "in_flight": args.in_flight, "calls": args.calls, "drop": args.drop}
        if args.serve:
            d = tempfile.mkdtemp(prefix="s3dlio-profile-")
            with open(os.path.join(d, "payload.json"), "w") as f:
                json.dump(payload, f)
            child = os.path.join(d, "child.py")
            with open(child, "w") as f:
                payload_path = os.path.join(d, "payload.json")
                f.write(f"import json, sys, time\nPAYLOAD = json.load(open({payload_path!r}))\nEXTRA = {{}}\n")
                f.write(CHILD)
                # the pause lets `perf record -D 1500` start after the imports
                f.write("\nif '--pause' in sys.argv:\n    time.sleep(2)\n"
                        "out, held = run(PAYLOAD)\nprint(json.dumps(EXTRA['calls']))\n")
            print("export " + " ".join(f"{k}={v}" for k, v in env.items()))
            print(f"child: {child}", flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return 0
        print(f"{args.count} x {args.size}, get_many(max_in_flight={args.in_flight}), {args.calls} call(s) per "
              f"fresh process", flush=True)
        for r in range(args.rounds):
            for name, extra in variants:
                s = run_round(Client(name, CHILD, env={**env, **extra}), payload)
                for k, c in enumerate(s.extra["calls"]):
                    gb = c["nbytes"] / 1e9
                    vm = " ".join(f"{key}={val}" for key, val in c["vm"].items() if val and key != "pgfault")
                    print(f"round {r + 1} {name:>10} call {k + 1}: {c['nbytes'] / c['wall'] / 1e6:7,.0f} MB/s  "
                          f"user {c['user'] / gb:.2f} sys {c['sys'] / gb:.2f} CPU-s/GB  "
                          f"({(c['user'] + c['sys']) / c['wall']:.0%})  minflt {c['minflt']}  "
                          f"csw {c['nvcsw']}/{c['nivcsw']}  {vm}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
