"""The s3:// store (S3Store), its configuration (S3Config) and the explicit multipart writer
(MultipartUploadWriter).

Names resolve on first use, so importing the writer (which `import s3dlio` does) stays cheap and the
store's HTTP/TLS machinery loads only when an s3:// URI is used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["S3Store", "S3Config", "MultipartUploadWriter"]


def __getattr__(name: str) -> Any:
    if name == "S3Config":
        from .config import S3Config

        return S3Config
    if name == "S3Store":
        from .store import S3Store

        return S3Store
    if name == "MultipartUploadWriter":
        from .writer import MultipartUploadWriter

        return MultipartUploadWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
