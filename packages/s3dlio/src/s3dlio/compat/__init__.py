"""Drop-in replacements for the storage libraries other ML code is written for.

`s3dlio.compat.s3torchconnector` stands in for AWS's `s3torchconnector` (change only the import). This
package re-exports its three most used names, S3IterableDataset, S3MapDataset and S3Checkpoint, loaded on
first use so that `import s3dlio.compat` imports no torch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["S3IterableDataset", "S3MapDataset", "S3Checkpoint"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import s3torchconnector

        return getattr(s3torchconnector, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
