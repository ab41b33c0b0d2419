"""S3 GET throughput against a SeaweedFS of our own on 127.0.0.1: ours vs the original s3dlio 0.10.0
(S3DLIO_ENABLE_RANGE_OPTIMIZATION=0, as its authors benchmark it) vs boto3 (16 threads, checksums
when_required), measured in the same run.

Cases: 4 KiB objects with 64 in flight (get_many), 1 MiB and 16 MiB objects (get_many, 64 in flight).
Usage: uv run python benchmarks/s3_get.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys

from _s3_bench import MiB, best_of, boto3_client, boto3_map, clock, original, procs, report, split

ORIGINAL_GET = """
uris = PAYLOAD["uris"]; n = PAYLOAD["in_flight"]
s3dlio.get_many(uris[:64], n)
t = time.perf_counter()
res = s3dlio.get_many(uris, n)
dt = time.perf_counter() - t
assert len(res) == len(uris)
print(json.dumps(dt))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with procs.running_seaweedfs() as server:
        env = procs.s3_env(server.endpoint)
        os.environ.update(env)
        import s3dlio

        bucket = "bench-get"
        s3dlio.create_bucket(bucket)
        cases = [("4KiB GET x64", 4096, 2000, 64, "req/s"), ("1MiB GET x64", MiB, 256, 64, "MB/s"),
                 ("16MiB GET x64", 16 * MiB, 32, 64, "MB/s")]
        boto = boto3_client(server.endpoint)
        orig_env = {**env, "S3DLIO_ENABLE_RANGE_OPTIMIZATION": "0"}
        lines = []
        print(f"SeaweedFS {server.endpoint}; best of {args.rounds} interleaved rounds; ratios = ours / other",
              flush=True)
        for case, size, count, in_flight, unit in cases:
            payload = os.urandom(size)
            uris = [f"s3://{bucket}/{size}/obj-{i:05d}" for i in range(count)]
            s3dlio.put_many([(u, payload) for u in uris], 32)
            s3dlio.get_many(uris[:64], in_flight)  # warm connections

            def ours(uris: list[str] = uris, n: int = in_flight, size: int = size) -> float:
                t = clock()
                res = s3dlio.get_many(uris, n)
                dt = clock() - t
                assert len(res) == len(uris) and all(len(v) == size for _, v in res)
                return dt

            def orig(uris: list[str] = uris, n: int = in_flight) -> float:
                return original(ORIGINAL_GET, orig_env, {"uris": uris, "in_flight": n})

            def b3(uris: list[str] = uris) -> float:
                def one(uri: str) -> None:
                    b, k = split(uri)
                    boto.get_object(Bucket=b, Key=k)["Body"].read()

                t = clock()
                boto3_map(one, uris)
                return clock() - t

            secs = best_of(args.rounds, {"ours": ours, "original": orig, "boto3": b3})
            work = count if unit == "req/s" else count * size / 1e6
            lines.append(report(case, work, unit, secs))
            s3dlio.delete(f"s3://{bucket}/{size}/", recursive=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
