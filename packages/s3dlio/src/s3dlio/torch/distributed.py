"""Where this process sits in a training job: its rank and world size (an initialised torch.distributed
process group, else the RANK and WORLD_SIZE environment variables of torchrun and friends, else 0 of 1)
and its DataLoader worker."""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["rank_and_world", "worker_and_count", "group_barrier"]


def _initialised_group() -> bool:
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch without distributed support
        return False
    return bool(dist.is_available() and dist.is_initialized())


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of this process; raises ValueError for unusable RANK/WORLD_SIZE values."""
    if _initialised_group():
        import torch.distributed as dist

        return int(dist.get_rank()), int(dist.get_world_size())
    rank_s, world_s = os.environ.get("RANK"), os.environ.get("WORLD_SIZE")
    if rank_s is None and world_s is None:
        return 0, 1
    try:
        rank, world = int(rank_s or 0), int(world_s or 1)
    except ValueError:
        raise ValueError(f"RANK={rank_s!r} and WORLD_SIZE={world_s!r} must be integers") from None
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"RANK={rank} must be in 0..WORLD_SIZE-1 (WORLD_SIZE={world})")
    return rank, world


def worker_and_count() -> tuple[int, int, int | None]:
    """(worker id, number of workers, the DataLoader's base seed of this epoch or None) for this
    process: (0, 1, None) outside a DataLoader worker."""
    from torch.utils.data import get_worker_info

    info = get_worker_info()
    if info is None:
        return 0, 1, None
    return int(info.id), int(info.num_workers), int(info.seed) - int(info.id)


def group_barrier() -> Callable[[], None] | None:
    """torch.distributed.barrier when a process group is initialised (else None)."""
    if not _initialised_group():
        return None
    import torch.distributed as dist

    return dist.barrier
