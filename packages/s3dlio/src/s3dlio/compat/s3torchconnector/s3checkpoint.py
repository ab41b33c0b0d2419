"""S3Checkpoint: file objects for torch.save and torch.load on one object (any s3dlio URI)."""

from __future__ import annotations

from ._s3client import S3Client, S3ClientConfig
from ._s3dataset_common import parse_s3_uri
from .s3reader import S3Reader
from .s3writer import S3Writer

__all__ = ["S3Checkpoint"]


class S3Checkpoint:
    """`writer(uri)` for torch.save (streamed as it is written; the object appears when the writer
    closes, none after an exception in its `with` block) and `reader(uri)` for torch.load (the whole
    object in one request, then seekable in memory)."""

    def __init__(
        self,
        region: str | None = None,
        endpoint: str | None = None,
        s3client_config: S3ClientConfig | None = None,
    ) -> None:
        self.region = region
        self.endpoint = endpoint
        self._client = S3Client(region, endpoint=endpoint, s3client_config=s3client_config)

    def reader(self, s3_uri: str) -> S3Reader:
        parse_s3_uri(s3_uri)
        return self._client.reader_for_uri(s3_uri)

    def writer(self, s3_uri: str) -> S3Writer:
        parse_s3_uri(s3_uri)
        return self._client.put_object("", s3_uri)
