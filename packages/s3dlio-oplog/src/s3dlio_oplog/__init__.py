"""s3dlio-oplog: a zstd-compressed TSV trace of every storage operation (the original's 13 columns),
with a reader, a summary and a replayer. Importing it starts nothing; `init_op_log` does."""

from __future__ import annotations

from .format import COLUMNS, HEADER
from .logger import finalize_op_log, init_op_log, is_op_log_active, op_log_stats
from .reader import OpLogRecord, read_op_log, summarize
from .replay import ReplayResult, replay, translate_uri

__all__ = [
    "COLUMNS", "HEADER", "OpLogRecord", "ReplayResult", "finalize_op_log", "init_op_log",
    "is_op_log_active", "op_log_stats", "read_op_log", "replay", "summarize", "translate_uri",
]
