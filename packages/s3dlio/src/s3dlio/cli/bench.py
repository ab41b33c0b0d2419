"""`s3-cli bench`: PUT then GET (then DELETE) a set of synthetic objects and print a throughput table."""

from __future__ import annotations

import argparse
import os
import sys
import time

from s3dlio_core import bounded_map, store_for_uri

from .progress import Progress

__all__ = ["cmd_bench"]


def _row(op: str, n: int, nbytes: int, seconds: float) -> str:
    s = max(seconds, 1e-9)
    return f"{op:<7} {n:>9,} {nbytes:>15,} {seconds:>9.3f} {nbytes / s / 1e6:>11,.1f} {n / s:>11,.1f}"


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure PUT and GET throughput on `args.uri` with `args.num` objects of `args.size` bytes."""
    from s3dlio._api_datagen import object_uris, put_objects

    base = args.uri if args.uri.endswith("/") else args.uri + "/"
    run = f"{base}s3cli-bench-{os.getpid()}-{os.urandom(3).hex()}/"
    template = "obj_{}.dat"
    num, size, jobs = args.num, args.size, args.jobs
    uris = object_uris(run, num, template)
    store, _ = store_for_uri(run)
    rows = []
    failed = 0
    try:
        t0 = time.perf_counter()
        with Progress(num * size, "PUT") as bar:
            put_objects(run, num, template=template, max_in_flight=jobs, size=size,
                        dedup_factor=args.dedup, compress_factor=args.compress,
                        data_gen_mode="single-pass", progress=bar.update,
                        should_create_bucket=args.create_bucket)
        rows.append(_row("PUT", num, num * size, time.perf_counter() - t0))

        if args.procs > 1:
            import s3dlio

            r = s3dlio.mp_get(run, procs=args.procs, jobs=jobs, num=num, template=template, op_log=args.op_log)
            failed += r["failed"]
            rows.append(_row(f"GET x{args.procs}", r["succeeded"], r["total_bytes"], r["duration_seconds"]))
        else:
            t0 = time.perf_counter()
            with Progress(num * size, "GET") as bar:
                def one(u: str) -> int:
                    n = len(store.get(u))
                    bar.update(n)
                    return n

                got = bounded_map(one, uris, jobs)
            rows.append(_row("GET", len(got), sum(got), time.perf_counter() - t0))
    finally:
        if not args.keep:
            t0 = time.perf_counter()
            try:
                store.delete(run, recursive=True)
                rows.append(_row("DELETE", num, 0, time.perf_counter() - t0))
            except Exception as e:  # report, but do not hide the benchmark's own error
                sys.stderr.write(f"s3-cli: cleanup of {run} failed: {e}\n")
    sys.stdout.write(f"bench {run}  ({num:,} objects x {size:,} bytes, {jobs} in flight, dedup {args.dedup}, "
                     f"compress {args.compress})\n")
    sys.stdout.write(f"{'op':<7} {'objects':>9} {'bytes':>15} {'seconds':>9} {'MB/s':>11} {'ops/s':>11}\n")
    for r in rows:
        sys.stdout.write(r + "\n")
    if args.keep:
        sys.stdout.write(f"kept {run}\n")
    return 1 if failed else 0
