"""s3dlio for the DLIO benchmark (argonne-lcf/dlio_benchmark): storage classes and their installers.

Two ways in, both with every scheme s3dlio speaks (s3://, az://, gs://, file://, direct://):

1. Drop-in (no DLIO change beyond one file): `install_dropin_replacement(dlio_path)` (alias
   `install_to_dlio`) replaces DLIO's `storage/s3_torch_storage.py`, the class DLIO uses for
   `storage_type: s3` with PyTorch, keeping the original as `s3_torch_storage.py.original.bak`.
   Existing DLIO workloads then run on s3dlio unchanged.
2. A storage type of its own: `generate_patch(dlio_path)` writes `dlio_s3dlio.patch`, which adds
   `storage_type: s3dlio` (the enum member, the factory branch, the object-store readers and the
   storage file) and applies with `patch -p1` in the directory holding `dlio_benchmark/`;
   `install_s3dlio_storage(dlio_path)` copies just the storage file.

From a shell: `python -m s3dlio.integrations.dlio {install-dropin,install,patch} [DLIO_PATH]`.

The classes, `S3dlioStorage` and `S3PyTorchConnectorStorage`, import DLIO, so they are loaded on first
use (`from s3dlio.integrations.dlio import S3dlioStorage` inside a DLIO environment); importing this
package does not import DLIO. Configuration comes from DLIO's `storage_options` (see
`_storage_options`) and the multipart settings S3DLIO_MULTIPART_THRESHOLD_MB,
S3DLIO_MULTIPART_PART_SIZE_MB, S3DLIO_MULTIPART_MAX_IN_FLIGHT and S3DLIO_DISABLE_MULTIPART (see
`_multipart_config`).
"""

from __future__ import annotations

from typing import Any

from ._install import (
    BACKUP_SUFFIX,
    dlio_package_dir,
    get_s3dlio_storage_content,
    get_s3dlio_storage_path,
    get_storage_file_content,
    get_storage_file_path,
    install_dropin_replacement,
    install_s3dlio_storage,
    install_to_dlio,
)
from ._multipart_config import (
    multipart_disabled,
    multipart_max_in_flight,
    multipart_part_size_bytes,
    multipart_threshold_bytes,
)
from ._patch import DEFAULT_PATCH_FILE, generate_patch

__all__ = [
    "S3dlioStorage", "S3PyTorchConnectorStorage",
    "install_s3dlio_storage", "install_dropin_replacement", "install_to_dlio", "generate_patch",
    "get_s3dlio_storage_path", "get_s3dlio_storage_content", "get_storage_file_path",
    "get_storage_file_content", "dlio_package_dir", "BACKUP_SUFFIX", "DEFAULT_PATCH_FILE",
    "multipart_threshold_bytes", "multipart_part_size_bytes", "multipart_max_in_flight", "multipart_disabled",
]

_LAZY = {"S3dlioStorage": ".s3dlio_storage", "S3PyTorchConnectorStorage": ".s3_torch_storage"}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    try:
        cls = getattr(import_module(mod, __name__), name)
    except ImportError as e:
        raise ImportError(f"{name} is a DLIO storage class and needs dlio_benchmark importable ({e})") from e
    globals()[name] = cls
    return cls
