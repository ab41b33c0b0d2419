"""Benchmark hygiene for storage engineers (the MLPerf Storage rules).

MLPerf Storage requires a dataset at least 5x the host's memory, so that the page cache (or any client
cache) cannot serve an epoch from memory and inflate the result. `warn_if_cacheable(total_bytes, uri)`
warns once per dataset root when a dataset being read is smaller than that; loaders call it with the size
their listing found. Silence it with `warnings.simplefilter("ignore", s3dlio_core.hygiene.BenchmarkHygieneWarning)`
or S3DLIO_WARN_SMALL_DATASET=0. To re-read file:// data from disk between epochs, set
S3DLIO_FILE_DROP_CACHE=1 (or `FileStore.drop_cache(uri)` / `s3dlio.drop_page_cache(uri)`).
"""

from __future__ import annotations

import os
import threading
import warnings

from .settings import env_bool

__all__ = ["BenchmarkHygieneWarning", "host_memory_bytes", "warn_if_cacheable", "MLPERF_FACTOR"]

MLPERF_FACTOR = 5
_warned: set[str] = set()
_lock = threading.Lock()


class BenchmarkHygieneWarning(UserWarning):
    """A measurement may be flattered by caching (dataset smaller than 5x host memory)."""


def host_memory_bytes() -> int:
    """Physical memory of this host (0 if unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 0


def warn_if_cacheable(total_bytes: int, uri: str, *, stacklevel: int = 3) -> bool:
    """Warn (once per `uri`) if a dataset of `total_bytes` is smaller than 5x host memory; True if it did."""
    if not env_bool("S3DLIO_WARN_SMALL_DATASET", True):
        return False
    mem = host_memory_bytes()
    if not mem or total_bytes >= MLPERF_FACTOR * mem:
        return False
    with _lock:
        if uri in _warned:
            return False
        _warned.add(uri)
    warnings.warn(
        f"dataset {uri} holds {total_bytes / 2**30:.2f} GiB, less than {MLPERF_FACTOR}x this host's "
        f"{mem / 2**30:.1f} GiB of memory (the MLPerf Storage rule): reads may be served from caches. "
        "Set S3DLIO_FILE_DROP_CACHE=1 for file:// data, or use a larger dataset.",
        BenchmarkHygieneWarning, stacklevel=stacklevel)
    return True
