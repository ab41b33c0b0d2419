"""Numbers on the command line: counts and sizes with the original's suffixes (k, kb, m, mb, g, gb = powers
of 1000; ki, kib, mi, mib, gi, gib = powers of 1024; b = bytes), `_` and `,` separators allowed."""

from __future__ import annotations

import argparse
import re

__all__ = ["parse_count", "parse_size", "human_bytes", "MAX_JOBS"]

MAX_JOBS = 4096
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20,
          "gi": 1 << 30, "gib": 1 << 30, "ti": 1 << 40, "tib": 1 << 40}
_RX = re.compile(r"^(\d+)\s*([a-z]*)$")


def _parse(text: str, what: str, allow_b: bool) -> int:
    raw = str(text).strip().lower().replace("_", "").replace(",", "")
    m = _RX.match(raw)
    unit = m.group(2) if m else None
    if m is None or unit not in _UNITS or (unit == "b" and not allow_b):
        raise argparse.ArgumentTypeError(
            f"invalid {what} {text!r}: use an integer with an optional suffix (k, m, g, ki, mi, gi"
            f"{', b' if allow_b else ''}), e.g. 4MiB or 10k")
    return int(m.group(1)) * _UNITS[unit]


def parse_count(text: str) -> int:
    """A count such as 1000, 10k or 1Mi."""
    return _parse(text, "count", allow_b=False)


def parse_size(text: str) -> int:
    """A byte size such as 4096, 64KiB, 20MiB or 1GB."""
    return _parse(text, "size", allow_b=True)


def parse_jobs(text: str) -> int:
    """A concurrency: 1 .. 4096."""
    n = parse_count(text)
    if not 1 <= n <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"jobs must be between 1 and {MAX_JOBS}, got {n}")
    return n


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover
