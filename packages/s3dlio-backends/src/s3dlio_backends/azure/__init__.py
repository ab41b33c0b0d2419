"""az:// and azure://: Azure Blob Storage (see store.py and config.py)."""

from __future__ import annotations

from .config import AzureConfig
from .store import AzureStore

__all__ = ["AzureStore", "AzureConfig"]
