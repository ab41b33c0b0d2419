"""S3ClientConfig: s3torchconnector's client settings, and how each maps onto an s3dlio S3 store."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["S3ClientConfig"]


@dataclass(frozen=True)
class S3ClientConfig:
    """s3torchconnector's client settings (same fields and defaults).

    * `part_size` -> the store's multipart part size (writes); `max_attempts` -> attempts per request;
      `force_path_style` -> path-style addressing; `profile` -> the AWS profile whose credentials sign.
    * `throughput_target_gbps` is kept but unused: s3dlio sizes its concurrency itself (adaptive).
    * `unsigned` and `requester_pays` are kept but not sent: s3dlio's S3 store always signs with the
      credentials it finds and sends no request-payer header (see the package's "Differences").

    Raises ValueError for requester_pays with unsigned (as s3torchconnector) and for a part_size outside
    5 MiB..5 GiB or max_attempts < 1.
    """

    throughput_target_gbps: float = 10.0
    part_size: int = 8 * 1024 * 1024
    unsigned: bool = False
    force_path_style: bool = False
    max_attempts: int = 10
    profile: str | None = None
    requester_pays: bool = False

    def __post_init__(self) -> None:
        if self.requester_pays and self.unsigned:
            raise ValueError(
                "requester_pays=True requires authenticated requests and cannot be combined "
                "with unsigned=True"
            )
        if not 5 << 20 <= int(self.part_size) <= 5 << 30:
            raise ValueError(
                f"S3ClientConfig: part_size must be between 5 MiB and 5 GiB, got {self.part_size}"
            )
        if int(self.max_attempts) < 1:
            raise ValueError(f"S3ClientConfig: max_attempts must be >= 1, got {self.max_attempts}")
