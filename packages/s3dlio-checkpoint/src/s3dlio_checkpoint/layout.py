"""Where a checkpoint's objects live under its base URI `B` (the original's layout, byte-compatible).

```
B/latest.json                                               # the latest *written* checkpoint
B/manifests/ckpt-{step}-{ts}.json                           # one manifest per checkpoint
B/shards/ckpt-{step}-{ts}/rank-{r}.bin                      # strategy "flat" (default)
B/shards/rr/{r % 16:02x}/ckpt-{step}-{ts}/rank-{r}.bin      # "round_robin" / "roundrobin"
B/shards/bin/{format(r, '08b')[:4]}/ckpt-{step}-{ts}/rank-{r}.bin   # "binary"
   + ".zst" on shard keys when the shards are zstd-compressed
```
`ts` is UTC `%Y%m%d-%H%M%S`. Every key is joined under `B` with `s3dlio_core.paths.join_key`, so a key
from a manifest cannot escape the checkpoint's base (no `..`, no absolute key, no NUL).
"""

from __future__ import annotations

import datetime as _dt
import time

from s3dlio_core.paths import check_key, join_key

from .errors import CheckpointError

__all__ = [
    "STRATEGIES",
    "normalize_strategy",
    "base_of",
    "shard_key",
    "manifest_key",
    "timestamp",
    "wall_time",
    "key_uri",
    "relative_key",
    "LATEST",
    "MANIFESTS",
    "SHARDS",
]

LATEST = "latest.json"
MANIFESTS = "manifests/"
SHARDS = "shards/"
STRATEGIES = ("flat", "round_robin", "binary")
_ALIASES = {"flat": "flat", "round_robin": "round_robin", "roundrobin": "round_robin", "binary": "binary"}


def normalize_strategy(strategy: str | None) -> str:
    """'flat', 'round_robin' or 'binary' (None = flat); anything else fails with the original's text."""
    if strategy is None:
        return "flat"
    if not isinstance(strategy, str):
        raise TypeError(f"strategy must be a str or None, got {type(strategy).__name__}")
    name = _ALIASES.get(strategy.strip().lower())
    if name is None:
        raise CheckpointError(
            f"Invalid strategy: Unknown strategy: {strategy}. Valid options: flat, round_robin, binary"
        )
    return name


def base_of(uri: str) -> str:
    """The checkpoint base: `uri` without trailing slashes (the original strips them)."""
    if not isinstance(uri, str) or not uri:
        raise TypeError(f"a checkpoint URI must be a non-empty str, got {uri!r}")
    base = uri.rstrip("/")
    if "://" not in base or base.endswith(":/") or base.endswith("://"):
        raise CheckpointError(f"not a checkpoint URI (expected scheme://...): {uri!r}", uri)
    return base


def timestamp(now: float | None = None) -> str:
    """UTC `%Y%m%d-%H%M%S` (seconds resolution), the `ts` of manifest and shard names."""
    t = time.time() if now is None else now
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(t))


def wall_time(now_ns: int | None = None) -> str:
    """RFC 3339 with nanoseconds and '+00:00', as chrono's to_rfc3339 writes it."""
    ns = time.time_ns() if now_ns is None else now_ns
    secs, frac = divmod(ns, 1_000_000_000)
    d = _dt.datetime.fromtimestamp(secs, _dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}+00:00"


def _check_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"{name} must be a non-negative int, got {value!r}")
    return value


def shard_key(strategy: str, step: int, ts: str, rank: int, compressed: bool = False) -> str:
    """The key (relative to the base) of rank `rank`'s shard of checkpoint `step`/`ts`."""
    step = _check_int("step", step)
    rank = _check_int("rank", rank)
    name = f"ckpt-{step}-{ts}/rank-{rank}.bin" + (".zst" if compressed else "")
    if strategy == "round_robin":
        key = f"shards/rr/{rank % 16:02x}/{name}"
    elif strategy == "binary":
        key = f"shards/bin/{format(rank, '08b')[:4]}/{name}"
    else:
        key = f"shards/{name}"
    return check_key(key)


def manifest_key(step: int, ts: str) -> str:
    """`manifests/ckpt-{step}-{ts}.json`."""
    return check_key(f"manifests/ckpt-{_check_int('step', step)}-{ts}.json")


def key_uri(base: str, key: str) -> str:
    """The URI of `key` under `base`; refuses keys that would escape it (InvalidUriError)."""
    return join_key(base, key, f"{base}/{key}")


def relative_key(base: str, uri: str) -> str | None:
    """`uri`'s key under `base`, or None when `uri` is not under it."""
    prefix = base.rstrip("/") + "/"
    return uri[len(prefix) :] if uri.startswith(prefix) else None
