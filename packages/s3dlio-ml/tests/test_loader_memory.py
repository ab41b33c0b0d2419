"""A loader's memory stays bounded by about prefetch x object size, however many samples stream through
(20,000 here, 5 GiB in all: hard links to one 256 KiB file, so the disk holds 256 KiB)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import psutil
from s3dlio_ml.loaders import create_async_loader

SIZE = 256 << 10
SAMPLES = 20_000
PREFETCH = 32


def test_rss_is_bounded_over_20000_samples(tmp_path: Path) -> None:
    root = tmp_path / "links"
    root.mkdir()
    src = tmp_path / "one.bin"
    src.write_bytes(os.urandom(SIZE))
    for d in range(20):
        sub = root / f"d{d:02d}"
        sub.mkdir()
        for i in range(SAMPLES // 20):
            os.link(src, sub / f"s{i:04d}.bin")
    loader = create_async_loader(f"file://{root}/", {"prefetch": PREFETCH, "batch_size": 64})
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    n = total = 0
    for item in loader:
        n += 1
        total += len(item)
    done.set()
    sampler.join()
    assert n == SAMPLES and total == SAMPLES * SIZE
    growth = peak - base
    # prefetch objects ahead + the chunk in the consumer's hands + allocator slack; far below 5 GiB
    bound = 4 * PREFETCH * SIZE + (64 << 20)
    print(f"RSS growth {growth / 2**20:.1f} MiB over {SAMPLES} samples of {SIZE >> 10} KiB "
          f"({total / 2**30:.1f} GiB streamed), bound {bound / 2**20:.0f} MiB")
    assert growth < bound
