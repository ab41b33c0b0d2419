"""Drop-in for DLIO's `dlio_benchmark/storage/s3_torch_storage.py`: the class DLIO picks for
`storage_type: s3` with the PyTorch framework, on s3dlio instead of s3torchconnector.

`install_dropin_replacement()` copies this file over DLIO's (keeping the original as
`s3_torch_storage.py.original.bak`). It imports only DLIO and the installed s3dlio package (no relative
import), so the copy works wherever DLIO is; DLIO's workload files need no change: `storage_options`'
`endpoint_url`, `access_key_id`, `secret_access_key` and `region` fill the AWS environment where it is
not set already. Unlike s3torchconnector's class, objects are stored under their key (`train/x.npz`), not
under the whole URI, and every s3dlio scheme works, not only s3://.

DLIO's configuration check still imports s3torchconnector for `storage_type: s3`; it does no I/O, so
installing it without its dependencies is enough.
"""

from __future__ import annotations

from typing import Any

from dlio_benchmark.common.constants import MODULE_STORAGE
from dlio_benchmark.common.enumerations import MetadataType
from dlio_benchmark.storage.s3_storage import S3Storage
from dlio_benchmark.utils.utility import Profile

from s3dlio.integrations.dlio._storage_ops import StorageOps, traced_by

__all__ = ["S3PyTorchConnectorStorage"]

dlp = Profile(MODULE_STORAGE)


@traced_by(dlp)
class S3PyTorchConnectorStorage(StorageOps, S3Storage):
    """DLIO's S3 storage for PyTorch, on s3dlio (name kept so DLIO finds it); see the module's docs."""

    metadata_type = MetadataType

    def __init__(self, namespace: Any, framework: Any = None) -> None:
        # DLIO's config (self._args) and flat namespace; framework None: see _storage_ops.FRAMEWORK_NOTE
        S3Storage.__init__(self, namespace, None)
        self.framework_type = framework
        self._setup(namespace)
