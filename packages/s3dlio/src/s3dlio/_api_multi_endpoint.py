"""Flat-API names for the multi-endpoint feature (filled in by its issue)."""

from __future__ import annotations

__all__: list[str] = []
