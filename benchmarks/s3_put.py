"""S3 PUT of 16 MiB objects against a SeaweedFS of our own on 127.0.0.1: ours (put_many, 16 in flight) vs
the original s3dlio 0.10.0 (put_many, 16 in flight) vs boto3 (16 threads, checksums when_required),
measured in the same run: each client in a fresh process per round, rounds interleaved, medians.
Every client signs the payload the way it does by default over plain http (ours and the original:
SHA-256 of each body; boto3 likewise). The payload is generated before the clock starts.

Usage: uv run python benchmarks/s3_put.py [--rounds 5] [--objects 32]
(PUT is server-bound here: SeaweedFS uses most of the 2 cores while a client uses ~15-30 %, so rounds
vary a lot.)
"""

from __future__ import annotations

import argparse
import os
import sys

from _harness import measure, report
from _s3_bench import MiB, procs, put_clients

IN_FLIGHT = 16


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--objects", type=int, default=32)
    ap.add_argument("--verbose", action="store_true", help="print every round")
    args = ap.parse_args()
    size = 16 * MiB
    with procs.running_seaweedfs() as server:
        env = procs.s3_env(server.endpoint)
        os.environ.update(env)
        import s3dlio

        bucket = "bench-put"
        s3dlio.create_bucket(bucket)
        uris = [f"s3://{bucket}/obj-{i:04d}" for i in range(args.objects)]
        print(f"SeaweedFS {server.endpoint}; put_many(max_in_flight={IN_FLIGHT}) of {args.objects} x 16 MiB; a "
              f"fresh process per round; medians of {args.rounds} interleaved rounds; ratios = ours / other",
              flush=True)
        res = measure(f"16MiB PUT x{args.objects}", put_clients(env),
                      {"uris": uris, "in_flight": IN_FLIGHT, "size": size}, rounds=args.rounds,
                      quiet=not args.verbose)
        report(res)
        got = s3dlio.stat(uris[-1])["size"]
        if got != size:
            raise SystemExit(f"the last object is {got} bytes, not {size}")
        s3dlio.delete(f"s3://{bucket}/", recursive=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
