"""Flat-API names for the op-log: init_op_log, is_op_log_active, finalize_op_log, op_log_stats."""

from __future__ import annotations

from s3dlio_oplog.logger import finalize_op_log, init_op_log, is_op_log_active, op_log_stats

__all__: list[str] = ["init_op_log", "is_op_log_active", "finalize_op_log", "op_log_stats"]
