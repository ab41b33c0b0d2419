"""Helpers the backends' configuration classes (S3Config, AzureConfig, GcsConfig) share: they subclass
core's StoreConfig, which holds the common tunables (retries, timeouts, part size, thresholds)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from s3dlio_core.store_config import StoreConfig

__all__ = ["common_fields", "backend_config"]

C = TypeVar("C", bound=StoreConfig)
_COMMON = tuple(f.name for f in dataclasses.fields(StoreConfig))


def common_fields(config: StoreConfig | None) -> dict[str, Any]:
    """The StoreConfig fields `config` sets (non-None), to carry them into a backend's config."""
    if config is None:
        return {}
    return {n: getattr(config, n) for n in _COMMON if getattr(config, n) is not None}


def backend_config(config: StoreConfig | None, cls: type[C], from_env: Callable[..., C]) -> C:
    """`config` itself when it is already a `cls`; else the environment's `cls` with the common tunables of
    a plain StoreConfig laid over it (so `new_store("gs://", StoreConfig(max_retry_attempts=5))` works)."""
    if isinstance(config, cls):
        return config
    return from_env(tunables=config)
