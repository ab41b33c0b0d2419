"""s3torchconnector's `_s3client` module: S3Client and S3ClientConfig (README: `from
s3torchconnector._s3client import S3Client`), and the result types of the client's calls."""

from __future__ import annotations

from ._results import HeadObjectResult, ListObjectResult, ObjectInfo, RestoreStatus
from ._s3client import ListObjectStream, S3Client
from .s3client_config import S3ClientConfig

__all__ = [
    "S3Client",
    "S3ClientConfig",
    "ListObjectStream",
    "ObjectInfo",
    "HeadObjectResult",
    "ListObjectResult",
    "RestoreStatus",
]
