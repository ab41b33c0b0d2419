"""Which dataset indices an epoch visits, in which order, for one shard.

The epoch order (shuffled or not) is the same for every rank and worker; a shard keeps the positions
`k % shards == shard`; `drop_last` trims the shard's stream to whole batches; a resumed epoch skips
what was already read. Every dataset and loader goes through `epoch_indices`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .options import LoaderOptions
from .shuffle import epoch_order

__all__ = ["epoch_indices", "EpochCounter"]


def epoch_indices(n: int, opts: LoaderOptions, epoch: int, *, shard: int | None = None,
                  shards: int | None = None, skip: int = 0) -> Sequence[int]:
    """Dataset indices of `epoch` for one shard (default: the options' shard keys), in order."""
    order = epoch_order(n, opts.shuffle, opts.seed, epoch)
    count = opts.shard_count if shards is None else shards
    index = opts.shard_index if shard is None else shard
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard {index} is outside 0..{count - 1}")
    mine = order[index::count] if count > 1 else order
    if opts.drop_last:
        keep = len(mine) - len(mine) % opts.batch_size
        mine = mine[:keep]
    return mine[skip:] if skip else mine


class EpochCounter:
    """The epoch of each new iteration: `set_epoch(e)` pins it (the next iteration runs epoch e, the one
    after e + 1); otherwise every iteration starts the next epoch."""

    __slots__ = ("next_epoch",)

    def __init__(self) -> None:
        self.next_epoch = 0

    def set_epoch(self, epoch: int) -> None:
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
        self.next_epoch = epoch

    def start(self) -> int:
        e = self.next_epoch
        self.next_epoch = e + 1
        return e

    def __getstate__(self) -> int:
        return self.next_epoch

    def __setstate__(self, state: int) -> None:
        self.next_epoch = state
