"""s3dlio-oplog: a zstd-compressed TSV trace of every storage operation (the original's 13 columns),
with a reader, a summary and a replayer. Importing it starts nothing (and loads little); `init_op_log`
starts the writer."""

from __future__ import annotations

from typing import Any

from .logger import (
    finalize_op_log,
    init_op_log,
    is_op_log_active,
    op_log_stats,
    pause_op_log,
    resume_op_log,
)

_LAZY = {
    "COLUMNS": "format", "HEADER": "format", "OpLogRecord": "reader", "read_op_log": "reader",
    "summarize": "reader", "ReplayResult": "replay", "replay": "replay", "translate_uri": "replay",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)


__all__ = [
    "COLUMNS", "HEADER", "OpLogRecord", "ReplayResult", "finalize_op_log", "init_op_log",
    "is_op_log_active", "op_log_stats", "pause_op_log", "resume_op_log", "read_op_log", "replay", "summarize", "translate_uri",
]
