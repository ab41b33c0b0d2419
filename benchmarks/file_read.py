"""file:// read throughput: our `get` and `get_many` as a ratio to plain `open().read()`, warm page cache.

64 files of 16 MiB (1 GiB) under a temporary directory; each method is timed as the best of N repeats
after one warm-up pass, all in this run. Optionally the original s3dlio 0.10.0 (own venv) is measured on
the same files (--original).

Two baselines: the read-and-drop loop (each result freed before the next read, so the allocator hands the
same, already-mapped memory back every time) and the read-and-keep list (all 64 results alive at once, as
`get_many` must return them: 1 GiB of fresh memory that the kernel maps and zeroes page by page).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable

import s3dlio

sys.path.insert(0, os.path.dirname(__file__))


def best_of(fn: Callable[[], int], repeats: int) -> float:
    fn()  # warm-up (page cache, allocator)
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = fn()
        dt = time.perf_counter() - t0
        best = max(best, n / dt / 1e6)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=64)
    ap.add_argument("--size-mib", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--in-flight", type=int, default=64)
    ap.add_argument("--original", action="store_true", help="also measure the original s3dlio 0.10.0")
    ap.add_argument("--dir", default=None)
    a = ap.parse_args()
    root = a.dir or tempfile.mkdtemp(prefix="s3dlio-bench-")
    size = a.size_mib << 20
    paths = [os.path.join(root, f"f{i:03d}.bin") for i in range(a.files)]
    block = os.urandom(size)
    for p in paths:
        if not os.path.exists(p) or os.path.getsize(p) != size:
            with open(p, "wb") as f:
                f.write(block)
    uris = [f"file://{p}" for p in paths]
    total = size * len(paths)

    def plain() -> int:
        n = 0
        for p in paths:
            with open(p, "rb") as f:
                n += len(f.read())
        return n

    def plain_keep() -> int:
        results = []
        for p in paths:
            with open(p, "rb") as f:
                results.append(f.read())
        return sum(len(r) for r in results)

    def ours_get() -> int:
        return sum(len(s3dlio.get(u)) for u in uris)

    def ours_get_many() -> int:
        return sum(len(v) for _, v in s3dlio.get_many(uris, max_in_flight=a.in_flight))

    base = best_of(plain, a.repeats)
    keep = best_of(plain_keep, a.repeats)
    g = best_of(ours_get, a.repeats)
    gm = best_of(ours_get_many, a.repeats)
    print(f"file:// read, {a.files} x {a.size_mib} MiB ({total >> 20} MiB), warm page cache, best of {a.repeats}")
    print(f"open().read() loop, each result dropped    {base:8.0f} MB/s  (1.00)")
    print(f"open().read() list, all results kept       {keep:8.0f} MB/s  ({keep / base:.2f})")
    print(f"s3dlio.get loop, each result dropped       {g:8.0f} MB/s  ({g / base:.2f} of the open().read() loop)")
    print(f"s3dlio.get_many x{a.in_flight:<3}, all results kept     {gm:8.0f} MB/s  ({gm / base:.2f} of the loop, "
          f"{gm / keep:.2f} of the open().read() list)")
    if a.original:
        from _original import run_original

        res = run_original(f"""
            import json, time, s3dlio
            uris = {uris!r}
            def best(fn):
                fn(); b = 0
                for _ in range({a.repeats}):
                    t = time.perf_counter(); n = fn(); b = max(b, n / (time.perf_counter() - t) / 1e6)
                return b
            g = best(lambda: sum(len(s3dlio.get(u)) for u in uris))
            gm = best(lambda: sum(len(v) for _, v in s3dlio.get_many(uris, max_in_flight={a.in_flight})))
            print(json.dumps([g, gm]))
        """)
        og, ogm = res
        print(f"original get loop                          {og:8.0f} MB/s  ({og / base:.2f} of the loop; "
              f"ours {g / og:.2f}x)")
        print(f"original get_many x{a.in_flight:<3}                    {ogm:8.0f} MB/s  ({ogm / base:.2f} of the loop, "
              f"{ogm / keep:.2f} of the list; ours {gm / ogm:.2f}x)")
    if a.dir is None:
        for p in paths:
            os.unlink(p)
        os.rmdir(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
