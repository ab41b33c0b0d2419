"""S3 PUT throughput of 16 MiB objects against a SeaweedFS of our own on 127.0.0.1: ours (put_many,
16 in flight) vs the original s3dlio 0.10.0 (put_many, 16 in flight) vs boto3 (16 threads, checksums
when_required), measured in the same run. Every client signs the payload the way it does by default
over plain http (ours and the original: SHA-256 of each body; boto3 likewise).

Usage: uv run python benchmarks/s3_put.py [--rounds 5] [--objects 32]
(PUT is server-bound here: SeaweedFS uses ~170 % CPU while our client uses ~15 %, so rounds vary a lot.)
"""

from __future__ import annotations

import argparse
import os
import sys

from _s3_bench import MiB, best_of, boto3_client, boto3_map, clock, original, procs, report, split

IN_FLIGHT = 16
ORIGINAL_PUT = """
import os
uris = PAYLOAD["uris"]; n = PAYLOAD["in_flight"]
data = os.urandom(PAYLOAD["size"])
s3dlio.put_many([(uris[0], data)], n)
t = time.perf_counter()
s3dlio.put_many([(u, data) for u in uris], n)
print(json.dumps(time.perf_counter() - t))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--objects", type=int, default=32)
    args = ap.parse_args()
    size = 16 * MiB
    with procs.running_seaweedfs() as server:
        env = procs.s3_env(server.endpoint)
        os.environ.update(env)
        import s3dlio

        bucket = "bench-put"
        s3dlio.create_bucket(bucket)
        boto = boto3_client(server.endpoint)
        data = os.urandom(size)
        print(f"SeaweedFS {server.endpoint}; best of {args.rounds} interleaved rounds; ratios = ours / other",
              flush=True)

        def uris(who: str) -> list[str]:
            return [f"s3://{bucket}/{who}/obj-{i:04d}" for i in range(args.objects)]

        s3dlio.put_many([(u, data) for u in uris("ours")[:2]], IN_FLIGHT)  # warm connections

        def ours() -> float:
            items = [(u, data) for u in uris("ours")]
            t = clock()
            s3dlio.put_many(items, IN_FLIGHT)
            return clock() - t

        def orig() -> float:
            return original(ORIGINAL_PUT, env, {"uris": uris("original"), "in_flight": IN_FLIGHT, "size": size})

        def b3() -> float:
            def one(u: str) -> None:
                b, k = split(u)
                boto.put_object(Bucket=b, Key=k, Body=data)

            t = clock()
            boto3_map(one, uris("boto3"))
            return clock() - t

        secs = best_of(args.rounds, {"ours": ours, "original": orig, "boto3": b3})
        report(f"16MiB PUT x{IN_FLIGHT}", args.objects * size / 1e6, "MB/s", secs)
        assert s3dlio.stat(uris("ours")[-1])["size"] == size
        for who in ("ours", "original", "boto3"):
            s3dlio.delete(f"s3://{bucket}/{who}/", recursive=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
