"""S3PartSink: the S3 calls behind a multipart upload (create, upload part, complete, abort), on the
client alone (it knows nothing of the store)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3dlio_core.errors import StorageIOError
from s3dlio_core.uri import ObjectUri

from ..multipart import MIN_PART_SIZE
from .xml_codec import complete_body, parse_complete, parse_upload_id

if TYPE_CHECKING:
    from ..http_pool import HttpConnection, HttpResponseHead
    from .client import S3Client

__all__ = ["S3PartSink"]


class S3PartSink:
    """Multipart primitives for one S3 object."""

    min_part_size = MIN_PART_SIZE  # S3 refuses a non-last part under 5 MiB at completion
    part_quantum = 1
    sequential = False

    def __init__(self, client: S3Client, u: ObjectUri, content_type: str | None = None) -> None:
        self.client = client
        self.u = u
        self.content_type = content_type

    def create(self) -> str:
        u = self.u
        headers = {"content-type": self.content_type or "application/octet-stream"}
        _, body = self.client.call("POST", u.uri, "CreateMultipartUpload", u.bucket, u.key,
                                   query={"uploads": ""}, headers=headers, body=b"")
        try:
            return parse_upload_id(body)
        except ValueError as e:
            raise StorageIOError(f"Multipart init failed for {u.uri}: {e}", u.uri) from None

    def upload_part(self, upload_id: str, number: int, data: memoryview) -> str:
        u = self.u

        def read(conn: HttpConnection, head: HttpResponseHead) -> str:
            conn.discard_body(head, "PUT")
            etag = head.get("etag")
            if not etag:
                raise StorageIOError(f"UploadPart {number} for {u.uri} answered without an ETag", u.uri)
            return etag

        return self.client.request("PUT", u.uri, "UploadPart", u.bucket, u.key, read,
                                   query={"partNumber": str(number), "uploadId": upload_id}, body=data)

    def complete(self, upload_id: str, parts: list[tuple[int, str]]) -> str | None:
        u = self.u
        _, body = self.client.call("POST", u.uri, "CompleteMultipartUpload", u.bucket, u.key,
                                   query={"uploadId": upload_id}, body=complete_body(parts))
        etag, err = parse_complete(body)
        if err is not None:  # S3 may report a failure inside a 200
            raise StorageIOError(f"CompleteMultipartUpload for {u.uri} failed: {err[0]} ({err[1]})", u.uri,
                                 code=err[0])
        return etag

    def abort(self, upload_id: str) -> None:
        u = self.u
        self.client.call("DELETE", u.uri, "AbortMultipartUpload", u.bucket, u.key,
                         query={"uploadId": upload_id}, accept=frozenset({404}))
