"""Settings read once from the S3DLIO_* environment variables (the original's names and defaults),
overridable in code with `configure(...)`."""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass, field

__all__ = ["Settings", "settings", "configure", "reset_settings", "env_bool"]

MiB = 1 << 20
_TRUE = frozenset({"1", "true", "yes", "on", "enable", "enabled"})
_FALSE = frozenset({"0", "false", "no", "off", "disable", "disabled"})


def env_bool(name: str, default: bool, env: dict[str, str] | None = None) -> bool:
    """Parse a boolean variable the original's way (1/true/yes/on; 0/false/no/off)."""
    raw = (env if env is not None else os.environ).get(name)
    if raw is None:
        return default
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return default


def _env_int(env: dict[str, str], name: str, default: int, minimum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        v = int(raw.strip())
    except ValueError:
        return default
    if minimum is not None and v < minimum:
        return default
    return v


def _env_float(env: dict[str, str], name: str, default: float) -> float:
    try:
        return float(env[name])
    except (KeyError, ValueError):
        return default


def _env_redirects(raw: str | None) -> str:
    """S3DLIO_FOLLOW_REDIRECTS: the original's booleans (1/true/yes/on/enable = "on"), or one of the modes
    "same-host" and "all" (see s3dlio_backends.s3.redirect); anything else is "off"."""
    v = (raw or "").strip().lower()
    if v in _TRUE:
        return "on"
    if v in ("same-host", "same_host", "samehost", "all"):
        return "all" if v == "all" else "same-host"
    return "off"


@dataclass
class Settings:
    """Tunables of the data path. Field comments name the environment variable each one comes from."""

    # HTTP / runtime
    connect_timeout_s: float = 20.0  # S3DLIO_CONNECT_TIMEOUT_SECS
    operation_timeout_s: float = 60.0  # S3DLIO_OPERATION_TIMEOUT_SECS
    max_retry_attempts: int = 3  # S3DLIO_MAX_RETRY_ATTEMPTS (attempts, first included; min 1)
    rt_threads: int = 0  # S3DLIO_RT_THREADS (0 = automatic)
    pool_max_idle_per_host: int = 0  # S3DLIO_POOL_MAX_IDLE_PER_HOST (0 = unlimited)
    adaptive_concurrency: bool = True  # S3DLIO_ADAPTIVE_CONCURRENCY (per-endpoint limit backs off on 503/429)
    follow_redirects: str = "off"  # S3DLIO_FOLLOW_REDIRECTS: off | on | same-host | all (S3 3xx with Location)
    redirect_max: int = 5  # S3DLIO_REDIRECT_MAX: redirect hops followed per request
    # GET path
    enable_range_optimization: bool = True  # S3DLIO_ENABLE_RANGE_OPTIMIZATION
    range_threshold: int = 32 * MiB  # S3DLIO_RANGE_THRESHOLD_MB
    range_concurrency: int = 0  # S3DLIO_RANGE_CONCURRENCY (0 = by object size)
    range_chunk_size: int = 0  # S3DLIO_CHUNK_SIZE (0 = by object size)
    skip_head: bool = False  # S3DLIO_SKIP_HEAD
    file_drop_cache: bool = False  # S3DLIO_FILE_DROP_CACHE: file:// reads drop their pages afterwards
    # writes
    put_verify: bool = False  # S3DLIO_PUT_VERIFY
    put_max_retries: int = 3  # S3DLIO_PUT_MAX_RETRIES
    put_retry_delay_ms: int = 1000  # S3DLIO_PUT_RETRY_DELAY_MS
    mpu_put_verify: bool = False  # S3DLIO_MPU_PUT_VERIFY
    multipart_part_size: int = 16 * MiB  # S3DLIO_MULTIPART_PART_SIZE_MB
    multipart_threshold: int = 32 * MiB  # S3DLIO_MULTIPART_THRESHOLD_MB
    multipart_max_in_flight: int = 0  # S3DLIO_MULTIPART_MAX_IN_FLIGHT (0 = max(32, ceil(512MiB/part)))
    unsigned_payload: bool = False  # S3DLIO_UNSIGNED_PAYLOAD
    # op-log
    oplog_lossless: bool = False  # S3DLIO_OPLOG_LOSSLESS
    oplog_buf: int = 256  # S3DLIO_OPLOG_BUF
    oplog_wbufcap: int = 262144  # S3DLIO_OPLOG_WBUFCAP
    oplog_level: int = 1  # S3DLIO_OPLOG_LEVEL (zstd level)
    extra: dict[str, str] = field(default_factory=dict)  # every S3DLIO_* variable as read

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read every setting from `env` (default: os.environ)."""
        e = dict(os.environ if env is None else env)
        d = cls()
        return cls(
            connect_timeout_s=_env_float(e, "S3DLIO_CONNECT_TIMEOUT_SECS", d.connect_timeout_s),
            operation_timeout_s=_env_float(e, "S3DLIO_OPERATION_TIMEOUT_SECS", d.operation_timeout_s),
            max_retry_attempts=_env_int(e, "S3DLIO_MAX_RETRY_ATTEMPTS", d.max_retry_attempts, minimum=1),
            rt_threads=_env_int(e, "S3DLIO_RT_THREADS", 0, minimum=0),
            pool_max_idle_per_host=_env_int(e, "S3DLIO_POOL_MAX_IDLE_PER_HOST", 0, minimum=0),
            adaptive_concurrency=env_bool("S3DLIO_ADAPTIVE_CONCURRENCY", True, e),
            follow_redirects=_env_redirects(e.get("S3DLIO_FOLLOW_REDIRECTS")),
            redirect_max=_env_int(e, "S3DLIO_REDIRECT_MAX", 5, minimum=0),
            enable_range_optimization=env_bool("S3DLIO_ENABLE_RANGE_OPTIMIZATION", True, e),
            range_threshold=_env_int(e, "S3DLIO_RANGE_THRESHOLD_MB", 32, minimum=1) * MiB,
            range_concurrency=_env_int(e, "S3DLIO_RANGE_CONCURRENCY", 0, minimum=0),
            range_chunk_size=_env_int(e, "S3DLIO_CHUNK_SIZE", 0, minimum=0),
            skip_head=env_bool("S3DLIO_SKIP_HEAD", False, e),
            file_drop_cache=env_bool("S3DLIO_FILE_DROP_CACHE", False, e),
            put_verify=env_bool("S3DLIO_PUT_VERIFY", False, e),
            put_max_retries=_env_int(e, "S3DLIO_PUT_MAX_RETRIES", 3, minimum=1),
            put_retry_delay_ms=_env_int(e, "S3DLIO_PUT_RETRY_DELAY_MS", 1000, minimum=0),
            mpu_put_verify=env_bool("S3DLIO_MPU_PUT_VERIFY", False, e),
            multipart_part_size=_env_int(e, "S3DLIO_MULTIPART_PART_SIZE_MB", 16, minimum=5) * MiB,
            multipart_threshold=_env_int(e, "S3DLIO_MULTIPART_THRESHOLD_MB", 32, minimum=1) * MiB,
            multipart_max_in_flight=_env_int(e, "S3DLIO_MULTIPART_MAX_IN_FLIGHT", 0, minimum=0),
            unsigned_payload=env_bool("S3DLIO_UNSIGNED_PAYLOAD", False, e),
            oplog_lossless=env_bool("S3DLIO_OPLOG_LOSSLESS", False, e),
            oplog_buf=_env_int(e, "S3DLIO_OPLOG_BUF", 256, minimum=1),
            oplog_wbufcap=_env_int(e, "S3DLIO_OPLOG_WBUFCAP", 262144, minimum=1),
            oplog_level=_env_int(e, "S3DLIO_OPLOG_LEVEL", 1, minimum=0),
            extra={k: v for k, v in e.items() if k.startswith("S3DLIO_")},
        )

    def io_threads(self) -> int:
        """Threads for the shared I/O pool: S3DLIO_RT_THREADS, else max(32, 8 x cores)."""
        return self.rt_threads or max(32, 8 * (os.cpu_count() or 1))


_lock = threading.Lock()
_current: Settings | None = None


def settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    global _current
    s = _current
    if s is None:
        with _lock:
            if _current is None:
                _current = Settings.from_env()
            s = _current
    return s


def configure(**overrides: object) -> Settings:
    """Override settings in code, e.g. `configure(range_threshold=64 << 20)`; unknown names raise."""
    global _current
    with _lock:
        base = _current if _current is not None else Settings.from_env()
        names = {f.name for f in dataclasses.fields(Settings)}
        bad = sorted(set(overrides) - names)
        if bad:
            raise TypeError(f"unknown setting(s): {', '.join(bad)}; known: {', '.join(sorted(names))}")
        _current = dataclasses.replace(base, **overrides)  # type: ignore[arg-type]
        return _current


def reset_settings() -> None:
    """Forget overrides; the next `settings()` re-reads the environment."""
    global _current
    with _lock:
        _current = None
