"""S3 GET side by side against a SeaweedFS of our own on 127.0.0.1: ours vs the original s3dlio 0.10.0
vs boto3 (16 threads) vs obstore (16 threads), measured in the same run.

Shape (issue 9): `get_many(uris, max_in_flight=16)` with all results held until it returns; each client
in a fresh process per round (nothing warm: no pooled sockets, no faulted-in memory); rounds interleaved;
medians of 5 rounds. Cases: 4 KiB x 2000 (request rate, the regression check), 1 MiB x 256, 16 MiB x 64.
Each line prints MB/s (or req/s) and client CPU-seconds per GB beside it, with ours / other ratios:
    16MiB GET x64: ours N MB/s C CPU-s/GB | original ... (1.05x, CPU 0.80x) | boto3 ... | obstore ...
A second line per case gives each client's range over the rounds and its median CPU %.

Usage: uv run python benchmarks/s3_get_compare.py [--rounds 5] [--cases 1MiB,16MiB] [--clients ours,boto3]
       [--ours-env KEY=VALUE ...]   (try a setting on ours only, e.g. S3DLIO_RANGE_THRESHOLD_MB=8)
       [--baseline DIR]             (also run an older checkout of ours in the same rounds, as "ours-before")
"""

from __future__ import annotations

import argparse
import os
import sys

from _harness import measure, report
from _s3_bench import CLIENT_NAMES, MiB, get_clients, procs

CASES = {  # name: (object size, object count)
    "4KiB": (4096, 2000),
    "1MiB": (MiB, 256),
    "16MiB": (16 * MiB, 64),
}
IN_FLIGHT = 16


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    ap.add_argument("--clients", default=",".join(CLIENT_NAMES), help="comma-separated; ours is the reference")
    ap.add_argument("--ours-env", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--baseline", metavar="DIR", help="also run another checkout's code as 'ours-before' "
                    "(e.g. `git archive BASE packages | tar -x -C DIR`)")
    ap.add_argument("--verbose", action="store_true", help="print every round")
    args = ap.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    for c in cases:
        if c not in CASES:
            ap.error(f"unknown case {c!r}; known: {', '.join(CASES)}")
    names = tuple(n.strip() for n in args.clients.split(",") if n.strip())
    ours_env = dict(kv.split("=", 1) for kv in args.ours_env)
    with procs.running_seaweedfs() as server:
        env = procs.s3_env(server.endpoint)
        os.environ.update(env)
        import s3dlio

        bucket = "bench-get"
        s3dlio.create_bucket(bucket)
        clients = get_clients(env, names, ours_env, args.baseline)
        print(f"SeaweedFS {server.endpoint}; get_many(max_in_flight={IN_FLIGHT}), all results held; a fresh "
              f"process per round; medians of {args.rounds} interleaved rounds; ratios = "
              f"{clients[0].name} / other" + (f"; ours with {ours_env}" if ours_env else ""), flush=True)
        for case in cases:
            size, count = CASES[case]
            payload_data = os.urandom(size)
            uris = [f"s3://{bucket}/{case}/obj-{i:05d}" for i in range(count)]
            s3dlio.put_many([(u, payload_data) for u in uris], 32)
            payload = {"uris": uris, "in_flight": IN_FLIGHT, "size": size}
            res = measure(f"{case} GET x{count}", clients, payload, rounds=args.rounds, quiet=not args.verbose)
            if size < MiB:
                report(res, unit="req/s", ops=count)
            else:
                report(res)
            s3dlio.delete(f"s3://{bucket}/{case}/", recursive=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
