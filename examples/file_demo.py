"""Write a small dataset to file://, list it, read it back in parallel, and print the throughput."""

from __future__ import annotations

import os
import sys
import tempfile
import time

import s3dlio


def main() -> int:
    root = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="s3dlio-demo-")
    prefix = f"file://{os.path.abspath(root)}/dataset/"
    n, size = 64, 1 << 20
    payloads = [os.urandom(size) for _ in range(n)]
    t0 = time.perf_counter()
    s3dlio.put_many([(f"{prefix}obj_{i:04d}.bin", payloads[i]) for i in range(n)], max_in_flight=16)
    t1 = time.perf_counter()
    uris = s3dlio.list(prefix, recursive=True)
    results = s3dlio.get_many(uris, max_in_flight=16)
    t2 = time.perf_counter()
    ok = all(bytes(v) == payloads[int(u.rsplit("_", 1)[1][:4])] for u, v in results)
    total = n * size
    print(f"dataset   {prefix}  ({n} objects x {size >> 20} MiB)")
    print(f"put_many  {total / (t1 - t0) / 1e6:8.0f} MB/s")
    print(f"get_many  {total / (t2 - t1) / 1e6:8.0f} MB/s   verified: {ok}")
    print(f"stat      {s3dlio.stat(uris[0])['size']} bytes, etag {s3dlio.stat(uris[0])['etag']}")
    s3dlio.delete(prefix, recursive=True)
    print(f"cleaned   {len(s3dlio.list(prefix, recursive=True))} objects left")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
