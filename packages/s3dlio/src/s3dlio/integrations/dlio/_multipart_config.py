"""When the DLIO storage classes write an object with a multipart upload instead of one PUT, and how.

Read from the environment at each write (so a sweep can change them between runs without code changes),
with the original's names, units and defaults:

| variable | default | meaning |
|---|---|---|
| `S3DLIO_MULTIPART_THRESHOLD_MB` | 32 | objects of at least this many MiB go through multipart; `0` = every object; unset, not an integer or negative = the default |
| `S3DLIO_MULTIPART_PART_SIZE_MB` | 32 | part size in MiB; below 1 or not an integer = the default (S3 itself needs at least 5) |
| `S3DLIO_MULTIPART_MAX_IN_FLIGHT` | 8 | parts of one object uploading at once; below 1 or not an integer = the default |
| `S3DLIO_DISABLE_MULTIPART` | off | `1`, `true`, `yes` or `on` (any case): always one PUT, whatever the size |
"""

from __future__ import annotations

import os

__all__ = [
    "DEFAULT_MULTIPART_THRESHOLD_BYTES", "DEFAULT_MULTIPART_PART_SIZE_BYTES", "DEFAULT_MULTIPART_MAX_IN_FLIGHT",
    "multipart_threshold_bytes", "multipart_part_size_bytes", "multipart_max_in_flight", "multipart_disabled",
]

MiB = 1 << 20
DEFAULT_MULTIPART_THRESHOLD_BYTES = 32 * MiB
DEFAULT_MULTIPART_PART_SIZE_BYTES = 32 * MiB
DEFAULT_MULTIPART_MAX_IN_FLIGHT = 8
_TRUE = frozenset({"1", "true", "yes", "on"})


def _env_int(name: str, default: int, minimum: int) -> int:
    """The integer in `name`, or `default` when it is unset, not an integer or below `minimum`."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        return default
    return value if value >= minimum else default


def multipart_threshold_bytes() -> int:
    """S3DLIO_MULTIPART_THRESHOLD_MB in bytes (0 means every write is multipart)."""
    mb = _env_int("S3DLIO_MULTIPART_THRESHOLD_MB", -1, 0)
    return DEFAULT_MULTIPART_THRESHOLD_BYTES if mb < 0 else mb * MiB


def multipart_part_size_bytes() -> int:
    """S3DLIO_MULTIPART_PART_SIZE_MB in bytes."""
    mb = _env_int("S3DLIO_MULTIPART_PART_SIZE_MB", 0, 1)
    return mb * MiB if mb else DEFAULT_MULTIPART_PART_SIZE_BYTES


def multipart_max_in_flight() -> int:
    """S3DLIO_MULTIPART_MAX_IN_FLIGHT: parts of one object in flight at once."""
    return _env_int("S3DLIO_MULTIPART_MAX_IN_FLIGHT", DEFAULT_MULTIPART_MAX_IN_FLIGHT, 1)


def multipart_disabled() -> bool:
    """S3DLIO_DISABLE_MULTIPART is 1/true/yes/on (any case)."""
    return os.environ.get("S3DLIO_DISABLE_MULTIPART", "").strip().lower() in _TRUE
