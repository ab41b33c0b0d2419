"""direct:// (O_DIRECT) against file:// on data evicted from the page cache, 16 MiB files.

Every read pass is preceded by posix_fadvise(DONTNEED) on every file, so both stores read from the
device (here a virtio disk whose host may still cache). Both run interleaved in this run over the same
files; each figure is the median of --repeats passes. Also prints the write rate of both stores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable

import s3dlio
from _timing import rate  # benchmarks/ is the script directory, first on sys.path


def evict(paths: list[str]) -> None:
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size-mib", type=int, default=16)
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dir", default=None, help="a directory on the disk to test (default: a temp dir)")
    a = ap.parse_args()
    root = tempfile.mkdtemp(prefix="s3dlio-bench-direct-", dir=a.dir)
    try:
        size = a.size_mib << 20
        data = os.urandom(size)
        paths = [os.path.join(root, f"f{i:03d}.bin") for i in range(a.files)]
        for p in paths:
            s3dlio.put("file://" + p, data)
        assert bytes(s3dlio.get("direct://" + paths[0])) == data

        def read(scheme: str) -> Callable[[], float]:
            def run() -> float:
                evict(paths)
                t0 = time.perf_counter()
                n = sum(len(s3dlio.get(scheme + p)) for p in paths)
                return n / (time.perf_counter() - t0)  # bytes/s of the reads alone
            return run

        def write(scheme: str) -> Callable[[], int]:
            def run() -> int:
                for i, p in enumerate(paths):
                    s3dlio.put(f"{scheme}{p}.w{i}", data)
                for i, p in enumerate(paths):
                    os.unlink(f"{p}.w{i}")
                return size * len(paths)
            return run

        res: dict[str, list[float]] = {"direct": [], "file": [], "direct_w": [], "file_w": []}
        for r in range(a.repeats):
            order = [("direct", "direct://"), ("file", "file://")]
            for name, scheme in order if r % 2 == 0 else order[::-1]:
                res[name].append(read(scheme)() / 1e6)  # time only the reads, not the eviction
            for name, scheme in order if r % 2 == 0 else order[::-1]:
                res[name + "_w"].append(rate(write(scheme)))
        m = {k: statistics.median(v) for k, v in res.items()}
        print(f"direct {a.size_mib}MiB GET (evicted): direct:// {m['direct']:.0f} MB/s | file:// {m['file']:.0f} MB/s "
              f"({m['direct'] / m['file']:.2f}x)")
        print(f"direct {a.size_mib}MiB PUT: direct:// {m['direct_w']:.0f} MB/s | file:// {m['file_w']:.0f} MB/s "
              f"({m['direct_w'] / m['file_w']:.2f}x)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
