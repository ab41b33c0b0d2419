"""DLIO storage type `s3dlio`: DLIO's storage interface on s3dlio, for every URI scheme s3dlio speaks.

This file is also what `install_s3dlio_storage()` (and the patch from `generate_patch()`) puts into
DLIO as `dlio_benchmark/storage/s3dlio_storage.py`. It imports only DLIO and the installed s3dlio
package (no relative import), so the copy works wherever DLIO is. DLIO config:

    storage:
      storage_type: s3dlio
      storage_root: s3://bucket/prefix        # or az://, gs://, file://, direct://; 'bucket' means s3://
      storage_options:                         # all optional; the environment wins where it is set
        endpoint_url: http://127.0.0.1:9000
        access_key_id: ...
        secret_access_key: ...
        region: us-east-1
        endpoint_uris: [http://a:9000, http://b:9000]   # one per process ...
        load_balance_strategy: round_robin              # ... by MPI rank (round_robin, random)

Multipart writes follow S3DLIO_MULTIPART_THRESHOLD_MB, S3DLIO_MULTIPART_PART_SIZE_MB,
S3DLIO_MULTIPART_MAX_IN_FLIGHT and S3DLIO_DISABLE_MULTIPART (see
`s3dlio.integrations.dlio._multipart_config`).
"""

from __future__ import annotations

from typing import Any

from dlio_benchmark.common.constants import MODULE_STORAGE
from dlio_benchmark.common.enumerations import MetadataType, NamespaceType
from dlio_benchmark.storage.storage_handler import DataStorage, Namespace
from dlio_benchmark.utils.utility import Profile

from s3dlio.integrations.dlio._storage_ops import StorageOps, namespace_uri, traced_by

__all__ = ["S3dlioStorage"]

dlp = Profile(MODULE_STORAGE)


@traced_by(dlp)
class S3dlioStorage(StorageOps, DataStorage):
    """DLIO storage over s3dlio (s3://, az://, gs://, file://, direct://); see the module's docs."""

    metadata_type = MetadataType

    def __init__(self, namespace: Any, framework: Any = None) -> None:
        DataStorage.__init__(self, None)  # see _storage_ops.FRAMEWORK_NOTE: no framework native I/O
        self.framework_type = framework
        local = namespace_uri(namespace).startswith(("file://", "direct://"))
        self.namespace = Namespace(namespace, NamespaceType.HIERARCHICAL if local else NamespaceType.FLAT)
        self._setup(namespace)
