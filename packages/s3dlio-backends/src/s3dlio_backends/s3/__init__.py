"""The s3:// store (S3Store) and the explicit multipart writer (MultipartUploadWriter)."""

from __future__ import annotations

from .store import S3ObjectWriter, S3Store
from .writer import MultipartUploadWriter

__all__ = ["S3Store", "S3ObjectWriter", "MultipartUploadWriter"]
