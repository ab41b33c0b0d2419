"""Adaptive concurrency under throttling, and what it costs when nothing throttles.

1. Throttled: put_many and get_many of small objects with max_in_flight 64 through a throttling proxy
   (tests/support fault_proxy.py, `throttle(N)`: 503 SlowDown to any request that arrives while N are
   being served, like an overloaded server) in front of SeaweedFS on 127.0.0.1, once with the adaptive
   in-flight limit (the default) and once with a fixed limit (S3DLIO_ADAPTIVE_CONCURRENCY=0). Printed per
   operation: median wall time, throttled attempts (503s the proxy sent), requests served, and whether the
   run finished (a fixed limit tends to exhaust the default 3 attempts; `--attempts` lists the settings to
   run both with), with the ratios fixed / adaptive.
2. Unthrottled cost: the same get_many straight to SeaweedFS with the limit on and off (req/s), and the
   per-request CPU of a small GET on a fake connection (no network: the request code alone; thread CPU
   time, blocks with the limit on and off alternating in one process), and the fastest block of the code of
   `--before REF` (default: main).

Each round runs in a fresh process (benchmarks/_harness.py), rounds interleaved, medians. The proxy runs in
this process. The machine is shared: read the ratios, not the absolute numbers.

Usage: uv run python benchmarks/throttle.py [--objects 1500] [--capacity 8] [--in-flight 64] [--rounds 3]
                                            [--attempts 3,10] [--before main] [--skip-throttled]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tarfile
import tempfile
import uuid
from typing import Any

from _harness import Client, Sample, measure, report, run_round
from _s3_bench import ROOT, procs  # (puts tests/support on sys.path)
from s3dlio_testsupport.fault_proxy import FaultProxy

SIZE = 4096
BUCKET = "bench-throttle"

# a throttled round: put_many or get_many, errors reported instead of raised (a fixed limit may fail)
_THROTTLED = """
import os
from s3dlio_core import new_store
from s3dlio_core.store_config import StoreConfig
def run(p):
    store = new_store(p["base"], StoreConfig(max_retry_attempts=p["attempts"]))
    EXTRA["error"] = None
    try:
        if p["op"] == "put":
            data = os.urandom(p["size"])
            store.put_many([(u, data) for u in p["uris"]], p["in_flight"])
            return len(p["uris"]) * p["size"]
        got = store.get_many(p["uris"], p["in_flight"])
        return sum(len(v) for _, v in got), got
    except Exception as e:
        EXTRA["error"] = type(e).__name__
        return 0
"""

_UNTHROTTLED_GET = """
import s3dlio
def run(p):
    got = s3dlio.get_many(p["uris"], p["in_flight"])
    return sum(len(v) for _, v in got), got
def check(held, p):
    assert len(held) == len(p["uris"]) and all(len(v) == p["size"] for _, v in held)
"""

# the per-request CPU of a small GET: S3Store._get on a socket that answers from memory
_HOT_PATH = """
import statistics, time
from s3dlio_backends.http_pool import HttpConnection
from s3dlio_backends.s3.store import S3Store
from s3dlio_core.uri import parse_uri
BODY = b"x" * 4096
RESP = (b"HTTP/1.1 206 Partial Content\\r\\nContent-Length: 4096\\r\\nETag: \\"e\\"\\r\\n"
        b"Content-Range: bytes 0-4095/4096\\r\\n\\r\\n") + BODY
class FakeSock:
    pending = b""
    def sendall(self, b):
        self.pending = RESP
    def recv_into(self, mv, n=0, flags=0):
        p = self.pending
        k = min(len(p), len(mv), n or len(mv))
        mv[:k] = p[:k]
        self.pending = p[k:]
        return k
    def close(self):
        pass
store = S3Store("127.0.0.1:9")
pool = store.client.route("bucket", "key")[0]
conn = HttpConnection("127.0.0.1", 9, None, None, 1.0, 1.0)
conn.sock = FakeSock()
conn.idle_since = time.monotonic() + 3600  # (a pooled socket idle for long is polled; this one is fresh)
pool._idle = [conn]
u = parse_uri("s3://127.0.0.1:9/bucket/data/obj-000001.bin")
for _ in range(3000):
    store._get(u)
client = store.client
LIMIT = getattr(client, "limit", None)  # None: the code before the limit existed
def block(n):
    t = time.thread_time()  # this thread's CPU: steadier than wall time on a shared machine
    for _ in range(n):
        store._get(u)
    return (time.thread_time() - t) / n * 1e6
def run(p):
    # short blocks with the limit on and off alternating in this one process: the median of the paired
    # differences cancels the drift of a shared machine; the fastest block of each says the bare cost
    n = p["requests"]
    on, off = [], []
    for _ in range(p["pairs"]):
        if LIMIT is not None:
            client.limit = LIMIT
            on.append(block(n))
        client.limit = None
        off.append(block(n))
    EXTRA["on"] = min(on) if on else None
    EXTRA["off"] = min(off)
    EXTRA["diff"] = statistics.median(a - b for a, b in zip(on, off)) if on else None
    return n * p["pairs"] * 4096 * (2 if on else 1)
"""


def _env(server: Any) -> dict[str, str]:
    return procs.s3_env(server.endpoint)


def throttled(server: Any, args: argparse.Namespace, attempts: int) -> None:
    hostport = server.endpoint.split("://", 1)[1]
    proxy = FaultProxy(hostport)
    env = _env(server)
    import s3dlio

    base_direct = f"s3://{hostport}/{BUCKET}/get/"
    names = [f"o{i:05d}" for i in range(args.objects)]
    s3dlio.put_many([(base_direct + k, os.urandom(SIZE)) for k in names], 64)
    modes = {"adaptive": Client("adaptive", _THROTTLED, env={**env, "S3DLIO_ADAPTIVE_CONCURRENCY": "1"}),
             "fixed": Client("fixed", _THROTTLED, env={**env, "S3DLIO_ADAPTIVE_CONCURRENCY": "0"})}
    print(f"throttled: {args.objects} x {SIZE // 1024} KiB, max_in_flight {args.in_flight}, the proxy serves "
          f"{args.capacity} at once (503 SlowDown above), {attempts} attempts per request; "
          f"{args.rounds} interleaved rounds, a fresh process each, medians", flush=True)
    try:
        for op in ("put", "get"):
            rows: dict[str, list[tuple[Sample, dict[str, Any]]]] = {m: [] for m in modes}
            for r in range(args.rounds):
                order = list(modes) if r % 2 == 0 else list(modes)[::-1]
                for m in order:
                    if op == "put":
                        base = f"s3://{proxy.hostport}/{BUCKET}/put-{uuid.uuid4().hex[:8]}/"
                        uris = [base + k for k in names]
                    else:
                        base = f"s3://{proxy.hostport}/{BUCKET}/get/"
                        uris = [base + k for k in names]
                    proxy.reset()
                    proxy.throttle(args.capacity)
                    s = run_round(modes[m], {"op": op, "base": base, "uris": uris, "in_flight": args.in_flight,
                                             "size": SIZE, "attempts": attempts})
                    st = proxy.stats()
                    proxy.throttle(None)
                    rows[m].append((s, st))
                    if args.verbose:
                        print(f"  [{op}] round {r + 1} {m}: {s.wall:.2f} s, {st['throttled']} throttled, "
                              f"{st['served']} served, error {s.extra.get('error')}", flush=True)
            summary = {}
            for m, rs in rows.items():
                finished = [s for s, _ in rs if not s.extra.get("error")]
                summary[m] = {
                    "wall": statistics.median(s.wall for s, _ in rs),
                    "throttled": statistics.median(st["throttled"] for _, st in rs),
                    "served": statistics.median(st["served"] for _, st in rs),
                    "finished": len(finished), "rounds": len(rs),
                    "errors": sorted({s.extra["error"] for s, _ in rs if s.extra.get("error")}),
                    "cpu": statistics.median(s.cpu for s, _ in rs),
                }
            a, f = summary["adaptive"], summary["fixed"]

            def part(name: str, x: dict[str, Any]) -> str:
                err = f", failed: {'/'.join(x['errors'])}" if x["errors"] else ""
                mb = x["served"] * SIZE / x["wall"] / 1e6 if x["wall"] else 0.0
                cpu_gb = x["cpu"] / (x["served"] * SIZE / 1e9) if x["served"] else float("nan")
                return (f"{name} {x['wall']:.2f} s, {x['throttled']:.0f} throttled attempts, {x['served']:.0f} "
                        f"served, finished {x['finished']}/{x['rounds']}{err}, {mb:.1f} MB/s "
                        f"{cpu_gb:.1f} CPU-s/GB")

            ratio = (f"fixed/adaptive: wall {f['wall'] / a['wall']:.2f}x, throttled attempts "
                     f"{f['throttled'] / max(1.0, a['throttled']):.1f}x, throttled per object served "
                     f"{(f['throttled'] / max(1.0, f['served'])) / (a['throttled'] / max(1.0, a['served']) or 1):.1f}x")
            if f["finished"] < f["rounds"]:
                ratio += "; the fixed runs that failed stopped early, so their wall time is not comparable"
            print(f"{op.upper()} under throttling: {part('adaptive', a)} | {part('fixed', f)} ({ratio})",
                  flush=True)
    finally:
        proxy.close()


def _before_tree(ref: str, d: str) -> list[str] | None:
    """The core and backends sources of git ref `ref`, unpacked into directory `d` (read-only use of the
    repository: `git archive`)."""
    paths = ["packages/s3dlio-core/src", "packages/s3dlio-backends/src"]
    tar = pathlib.Path(d) / "src.tar"
    try:
        with open(tar, "wb") as fh:
            subprocess.run(["git", "-C", str(ROOT), "archive", ref, *paths], check=True, stdout=fh,
                           stderr=subprocess.PIPE)
    except subprocess.CalledProcessError as e:
        print(f"(no 'before' rows: git archive {ref} failed: {e.stderr.decode().strip()})")
        return None
    with tarfile.open(tar) as t:
        t.extractall(d, filter="data")
    return [str(pathlib.Path(d) / p) for p in paths]


def unthrottled(server: Any, args: argparse.Namespace) -> None:
    env = _env(server)
    import s3dlio

    base = f"s3://{BUCKET}/plain/"
    uris = [f"{base}o{i:05d}" for i in range(args.objects)]
    s3dlio.put_many([(u, os.urandom(SIZE)) for u in uris], 64)
    on = Client("limit-on", _UNTHROTTLED_GET, env={**env, "S3DLIO_ADAPTIVE_CONCURRENCY": "1"})
    off = Client("limit-off", _UNTHROTTLED_GET, env={**env, "S3DLIO_ADAPTIVE_CONCURRENCY": "0"})
    res = measure(f"unthrottled get_many {args.objects} x 4 KiB, {args.in_flight} in flight", [on, off],
                  {"uris": uris, "in_flight": args.in_flight, "size": SIZE}, rounds=max(args.rounds, 5))
    report(res, unit="req/s", ops=args.objects)

    hot = [Client("after", _HOT_PATH, env=_creds())]
    with tempfile.TemporaryDirectory(prefix="s3dlio-before-") as tmp:
        before = _before_tree(args.before, tmp) if args.before else None
        if before:
            hot.append(Client(f"before({args.before})", _HOT_PATH, env=_creds(), pythonpath=tuple(before)))
        res = measure("small GET request code on a fake connection", hot, {"requests": 500, "pairs": 60},
                      rounds=max(args.rounds, 5))
    after = res.samples["after"]
    on = statistics.median(s.extra["on"] for s in after)
    off = statistics.median(s.extra["off"] for s in after)
    diff = statistics.median(s.extra["diff"] for s in after)
    line = (f"small GET CPU per request (fake connection; thread CPU, 60 alternating blocks of 500 per "
            f"process, {len(after)} processes): limit on {on:.2f} us, off {off:.2f} us (fastest blocks); "
            f"the limit costs {diff:+.2f} us per request (median paired difference, {diff / off:+.1%})")
    if before:
        b = statistics.median(s.extra["off"] for s in res.samples[f"before({args.before})"])
        line += f" | before({args.before}) {b:.2f} us (after, limit on: {on / b:.3f}x; off: {off / b:.3f}x)"
    print(line, flush=True)


def _creds() -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": procs.TEST_KEY, "AWS_SECRET_ACCESS_KEY": procs.TEST_SECRET,
            "AWS_REGION": procs.TEST_REGION, "AWS_EC2_METADATA_DISABLED": "true"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, default=1500)
    ap.add_argument("--capacity", type=int, default=8, help="requests the proxy serves at once")
    ap.add_argument("--in-flight", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--attempts", default="3,10",
                    help="comma-separated S3DLIO_MAX_RETRY_ATTEMPTS values, one set of runs each (3: the default)")
    ap.add_argument("--before", default="main", help="git ref whose code gives the 'before' hot-path row ('' = none)")
    ap.add_argument("--skip-throttled", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="print every round")
    args = ap.parse_args()
    with procs.running_seaweedfs() as server:
        os.environ.update(_env(server))
        import s3dlio

        s3dlio.create_bucket(BUCKET)
        if not args.skip_throttled:
            for attempts in (int(a) for a in args.attempts.split(",") if a.strip()):
                throttled(server, args, attempts)
        unthrottled(server, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
