"""direct://: local files with O_DIRECT I/O (see store.py)."""

from __future__ import annotations

from .store import DirectStore, DirectWriter

__all__ = ["DirectStore", "DirectWriter"]
