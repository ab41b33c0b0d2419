"""Endpoint lists: `{1...10}` / `{01...99}` templates, endpoint files and S3_ENDPOINT_URIS."""

from __future__ import annotations

import itertools
import os
import re

from s3dlio_core.errors import S3dlioError

__all__ = ["expand_template", "read_endpoint_file", "endpoints_from_env", "ENV_VAR"]

ENV_VAR = "S3_ENDPOINT_URIS"
_RANGE = re.compile(r"\{(\d+)\.\.\.(\d+)\}")


def _values(start_s: str, end_s: str) -> list[str]:
    start, end = int(start_s), int(end_s)
    if start > end:
        raise S3dlioError(f"Template expansion failed: Invalid range: start ({start}) > end ({end})")
    # zero padding kept: {01...99} -> 01, 02, ..., 99 (width of the wider bound when one is padded)
    width = max(len(start_s), len(end_s)) if (start_s.startswith("0") and len(start_s) > 1) or (
        end_s.startswith("0") and len(end_s) > 1) else 0
    return [str(i).zfill(width) for i in range(start, end + 1)]


def expand_template(template: str) -> list[str]:
    """Every URI a template names: each `{a...b}` range (three dots) expands in order, several ranges
    give their cartesian product (first range outermost), `{01...99}` keeps its zero padding."""
    if not isinstance(template, str):
        raise TypeError(f"uri_template must be a str, got {type(template).__name__}")
    matches = list(_RANGE.finditer(template))
    if not matches:
        return [template]
    pieces: list[str] = []
    ranges: list[list[str]] = []
    pos = 0
    for m in matches:
        pieces.append(template[pos:m.start()])
        ranges.append(_values(m.group(1), m.group(2)))
        pos = m.end()
    tail = template[pos:]
    out = []
    for combo in itertools.product(*ranges):
        out.append("".join(p + v for p, v in zip(pieces, combo, strict=True)) + tail)
    return out


def read_endpoint_file(file_path: str) -> list[str]:
    """One URI per line; blank lines and `#` comments are skipped, lines trimmed."""
    try:
        with open(file_path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as e:
        raise S3dlioError(f"Failed to read endpoint file {file_path!r}: {e.strerror or e}", file_path) from None
    return [s for s in (ln.strip() for ln in lines) if s and not s.startswith("#")]


def endpoints_from_env(env: dict[str, str] | None = None) -> list[str]:
    """The comma-separated URIs of S3_ENDPOINT_URIS, trimmed, empty entries dropped."""
    raw = (os.environ if env is None else env).get(ENV_VAR)
    if raw is None:
        raise S3dlioError(f"Failed to create multi-endpoint store: environment variable {ENV_VAR} is not set")
    return [s.strip() for s in raw.split(",") if s.strip()]
