"""Progress bars (tqdm on stderr) only when stderr is a terminal, so piped output stays clean."""

from __future__ import annotations

import sys
import threading
from typing import Any

__all__ = ["Progress", "set_enabled"]

_enabled = True


def set_enabled(on: bool) -> None:
    """Turn every progress bar of this process on or off (s3-cli -q turns them off)."""
    global _enabled
    _enabled = on


class Progress:
    """A thread-safe progress bar, or nothing at all when stderr is not a TTY or `enabled` is False."""

    def __init__(self, total: int | None, desc: str, unit: str = "B", enabled: bool = True) -> None:
        self._bar: Any = None
        self._lock = threading.Lock()
        if enabled and _enabled and sys.stderr.isatty():
            from tqdm import tqdm

            scale = unit == "B"
            self._bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=scale, unit_divisor=1024 if scale else 1000,
                             file=sys.stderr, leave=False, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
