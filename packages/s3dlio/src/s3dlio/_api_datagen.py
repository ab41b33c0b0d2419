"""Synthetic data generation and the bulk `put(prefix, num, template, ...)` generator.

The generator itself lives in s3dlio-ml (issue: data generation); until it lands, bulk put says so.
"""

from __future__ import annotations

from typing import Any

from s3dlio_core import UnsupportedOperationError

__all__: list[str] = []


def put_objects(prefix: str, num: Any, **options: Any) -> None:
    """Generate `num` synthetic objects under `prefix` (bulk form of `put`)."""
    raise UnsupportedOperationError(
        f"bulk put (put(prefix, num, ...)) needs the data generator, which is not built yet ({prefix})",
        prefix)
