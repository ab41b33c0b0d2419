"""s3torchconnector's prefix strategies for DCP files: where each rank's `.distcp` files go under the
checkpoint URI, to spread a large job's writes over several key prefixes (S3 scales per prefix).

A strategy maps a rank to a file-name prefix such as `0100000000/epoch_5/__2_`; the rank's files are
then `<checkpoint>/0100000000/epoch_5/__2_0.distcp`, ... (the `.metadata` stays at the top)."""

from __future__ import annotations

from abc import ABC, abstractmethod

__all__ = [
    "S3PrefixStrategyBase",
    "DefaultPrefixStrategy",
    "NumericPrefixStrategy",
    "BinaryPrefixStrategy",
    "HexPrefixStrategy",
    "RoundRobinPrefixStrategy",
]


class S3PrefixStrategyBase(ABC):
    """A rank -> file-name prefix mapping; subclasses implement `generate_prefix(rank)`."""

    def __init__(self) -> None:
        pass

    def __call__(self, rank: int) -> str:
        return self.generate_prefix(rank)

    @abstractmethod
    def generate_prefix(self, rank: int) -> str: ...


class DefaultPrefixStrategy(S3PrefixStrategyBase):
    """`__{rank}_`: every file at the top of the checkpoint (torch's own layout)."""

    def generate_prefix(self, rank: int) -> str:
        return f"__{rank}_"


def _world_size() -> int:
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover
        return 1
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


class NumericPrefixStrategy(S3PrefixStrategyBase):
    """Reversed base-`base` numbers as prefixes (`<digits>/[epoch_<n>/]__<rank>_`), at least
    `min_prefix_length` digits, for `prefix_count` prefixes (default: the world size)."""

    def __init__(
        self,
        base: int,
        epoch_num: int | None = None,
        min_prefix_length: int = 10,
        prefix_count: int | None = None,
    ) -> None:
        if min_prefix_length < 1:
            raise ValueError(f"Minimum prefix length must be positive, got {min_prefix_length}")
        if epoch_num is not None and not isinstance(epoch_num, int):
            raise ValueError(f"Epoch number must be None or an integer, got {epoch_num}")
        if prefix_count is not None and (not isinstance(prefix_count, int) or prefix_count < 1):
            raise ValueError(f"Prefix count must be a positive integer, got {prefix_count}")
        super().__init__()
        self.base = base
        self.epoch_num = epoch_num
        self.min_prefix_len = min_prefix_length
        self.prefix_count = prefix_count if prefix_count is not None else _world_size()
        self.prefix_map = self._generate_prefix_map()

    def generate_prefix(self, rank: int) -> str:
        epoch = f"epoch_{self.epoch_num}/" if self.epoch_num is not None else ""
        return f"{self.prefix_map[rank % len(self.prefix_map)]}/{epoch}__{rank}_"

    def _generate_prefix_map(self) -> list[str]:
        length = max(self._calculate_prefix_length(), self.min_prefix_len)
        return [self._format_number(i, length)[::-1] for i in range(self.prefix_count)]

    def _calculate_prefix_length(self) -> int:
        length, size = 1, self.base
        while size < self.prefix_count:
            length += 1
            size *= self.base
        return length

    @abstractmethod
    def _format_number(self, number: int, length: int) -> str: ...


class BinaryPrefixStrategy(NumericPrefixStrategy):
    """Binary prefixes (`0000000000`, `1000000000`, `0100000000`, ...)."""

    def __init__(
        self,
        epoch_num: int | None = None,
        min_prefix_length: int = 10,
        prefix_count: int | None = None,
        *,
        min_prefix_len: int | None = None,
    ) -> None:
        super().__init__(
            2, epoch_num, min_prefix_len if min_prefix_len is not None else min_prefix_length, prefix_count
        )

    def _format_number(self, number: int, length: int) -> str:
        return format(number, f"0{length}b")


class HexPrefixStrategy(NumericPrefixStrategy):
    """Hexadecimal prefixes (`0000`, `1000`, ..., `f000`, `0100`, ...)."""

    def __init__(
        self,
        epoch_num: int | None = None,
        min_prefix_length: int = 10,
        prefix_count: int | None = None,
        *,
        min_prefix_len: int | None = None,
    ) -> None:
        super().__init__(
            16, epoch_num, min_prefix_len if min_prefix_len is not None else min_prefix_length, prefix_count
        )

    def _format_number(self, number: int, length: int) -> str:
        return format(number, f"0{length}x")


class RoundRobinPrefixStrategy(S3PrefixStrategyBase):
    """The user's prefixes in turn: rank r writes under `user_prefixes[r % len]/[epoch_<n>/]`."""

    def __init__(self, user_prefixes: list[str], epoch_num: int | None = None) -> None:
        super().__init__()
        if not user_prefixes:
            raise ValueError("user_prefixes must not be empty")
        self.user_prefixes = list(user_prefixes)
        self.epoch_num = epoch_num

    def generate_prefix(self, rank: int) -> str:
        epoch = f"epoch_{self.epoch_num}/" if self.epoch_num is not None else ""
        return f"{self.user_prefixes[rank % len(self.user_prefixes)]}/{epoch}__{rank}_"
