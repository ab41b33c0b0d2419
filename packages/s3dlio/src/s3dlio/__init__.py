"""s3dlio: one fast API over object stores and local disks for AI/ML.

`import s3dlio` is cheap: no cloud SDK, numpy or torch is imported until a URI or feature needs it.
"""

from __future__ import annotations

from s3dlio_core import (
    BytesView,
    ExportStillReferencedError,
    InvalidUriError,
    LengthMismatchError,
    ObjectNotFoundError,
    PermissionDeniedError,
    S3dlioError,
    UnsupportedOperationError,
)
from s3dlio_core.metadata import ObjectMetadata

from ._api_checkpoint import *  # noqa: F403
from ._api_checkpoint import __all__ as _checkpoint_all
from ._api_core import *  # noqa: F403
from ._api_core import __all__ as _core_all
from ._api_datagen import *  # noqa: F403
from ._api_datagen import __all__ as _datagen_all
from ._api_formats import *  # noqa: F403
from ._api_formats import __all__ as _formats_all
from ._api_gcs import *  # noqa: F403
from ._api_gcs import __all__ as _gcs_all
from ._api_loaders import *  # noqa: F403
from ._api_loaders import __all__ as _loaders_all
from ._api_loaders import lazy_attr as _lazy_attr
from ._api_multi_endpoint import *  # noqa: F403
from ._api_multi_endpoint import __all__ as _multi_all
from ._api_oplog import *  # noqa: F403
from ._api_oplog import __all__ as _oplog_all
from ._api_s3 import *  # noqa: F403
from ._api_s3 import __all__ as _s3_all
from ._api_writers import *  # noqa: F403
from ._api_writers import __all__ as _writers_all
from ._legacy import *  # noqa: F403
from ._legacy import __all__ as _legacy_all
from ._transfer import TransferError, download, upload


def __getattr__(name: str) -> object:
    if name == "__version__":  # resolved on first use: importlib.metadata is slow to import
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("s3dlio")
        except PackageNotFoundError:  # pragma: no cover - source checkout without install
            return "0.0.0+unknown"
    return _lazy_attr(name)  # S3IterableDataset, JaxIterable, ...: imports the framework adapter

__all__ = [
    *_checkpoint_all, *_core_all, *_datagen_all, *_formats_all, *_gcs_all, *_loaders_all, *_multi_all, *_oplog_all, *_s3_all,
    *_writers_all, *_legacy_all,
    "upload", "download", "TransferError",
    "BytesView", "ObjectMetadata", "S3dlioError", "ObjectNotFoundError", "LengthMismatchError",
    "UnsupportedOperationError", "ExportStillReferencedError", "InvalidUriError", "PermissionDeniedError",
    "__version__",  # noqa: F405 - module __getattr__
]
