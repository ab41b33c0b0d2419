"""gs:// and gcs://: Google Cloud Storage (see store.py and config.py)."""

from __future__ import annotations

from .config import GcsConfig
from .store import GcsStore

__all__ = ["GcsStore", "GcsConfig"]
