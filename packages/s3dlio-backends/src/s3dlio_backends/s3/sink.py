"""S3PartSink: the S3 calls behind a multipart upload (create, upload part, complete, abort)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3dlio_core.errors import StorageIOError
from s3dlio_core.uri import ObjectUri

from ..http_pool import HttpConnection, HttpResponseHead
from .xml_codec import complete_body, parse_complete, parse_upload_id

if TYPE_CHECKING:
    from .store import S3Store

__all__ = ["S3PartSink"]


class S3PartSink:
    """Multipart primitives for one object of one S3 store."""

    def __init__(self, store: S3Store, u: ObjectUri, content_type: str | None = None) -> None:
        self.store = store
        self.u = u
        self.content_type = content_type

    def create(self) -> str:
        u = self.u
        headers = {"content-type": self.content_type or "application/octet-stream"}
        _, body = self.store.client.call("POST", u.uri, "CreateMultipartUpload", u.bucket, u.key,
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

        return self.store.client.request("PUT", u.uri, "UploadPart", u.bucket, u.key, read,
                                         query={"partNumber": str(number), "uploadId": upload_id}, body=data)

    def complete(self, upload_id: str, parts: list[tuple[int, str]]) -> str | None:
        u = self.u
        _, body = self.store.client.call("POST", u.uri, "CompleteMultipartUpload", u.bucket, u.key,
                                         query={"uploadId": upload_id}, body=complete_body(parts))
        etag, err = parse_complete(body)
        if err is not None:
            raise StorageIOError(f"CompleteMultipartUpload for {u.uri} failed: {err[0]} ({err[1]})", u.uri)
        return etag

    def abort(self, upload_id: str) -> None:
        u = self.u
        self.store.client.call("DELETE", u.uri, "AbortMultipartUpload", u.bucket, u.key,
                               query={"uploadId": upload_id}, accept=frozenset({404}))
