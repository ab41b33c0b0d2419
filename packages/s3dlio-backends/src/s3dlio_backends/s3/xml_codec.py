"""The S3 XML bodies we read and write: errors, ListObjectsV2, ListBuckets, multipart, DeleteObjects."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import unquote_plus

from s3dlio_core.listing import ListedObject

__all__ = ["parse_error", "parse_list_objects", "parse_list_buckets", "parse_upload_id",
           "complete_body", "delete_body", "parse_delete_errors", "parse_complete", "create_bucket_body"]


def escape(s: str, extra: dict[str, str] | None = None) -> str:
    """XML-escape &, < and > (and any `extra` characters)."""
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for k, v in (extra or {}).items():
        s = s.replace(k, v)
    return s


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _text(el: ET.Element | None, name: str) -> str | None:
    if el is None:
        return None
    for c in el:
        if _local(c.tag) == name:
            return c.text or ""
    return None


def _root(body: bytes) -> ET.Element | None:
    if not body or not body.lstrip().startswith(b"<"):
        return None
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        return None


def parse_error(body: bytes) -> tuple[str | None, str | None]:
    """(Code, Message) of an S3 <Error> body, or (None, None)."""
    root = _root(body)
    if root is None or _local(root.tag) != "Error":
        return None, None
    return _text(root, "Code"), _text(root, "Message")


def parse_list_objects(body: bytes) -> tuple[list[ListedObject], list[str], str | None]:
    """(objects with size, last-modified (RFC 3339, seconds, like stat's) and ETag, common prefixes, next
    continuation token or None) of a ListObjectsV2 page."""
    root = _root(body)
    if root is None:
        raise ValueError("ListObjectsV2 answered with no XML")
    url_encoded = (_text(root, "EncodingType") or "").lower() == "url"
    dec = unquote_plus if url_encoded else (lambda s: s)
    keys = [ListedObject(dec(_text(c, "Key") or ""), _int(_text(c, "Size")),
                         _iso_seconds(_text(c, "LastModified")), _text(c, "ETag") or None)
            for c in _children(root, "Contents")]
    prefixes = [dec(_text(c, "Prefix") or "") for c in _children(root, "CommonPrefixes")]
    truncated = (_text(root, "IsTruncated") or "").lower() == "true"
    token = _text(root, "NextContinuationToken") if truncated else None
    return keys, prefixes, token or None


def _int(s: str | None) -> int | None:
    return int(s) if s and s.strip().isdigit() else None


def _iso_seconds(s: str | None) -> str | None:
    if not s:
        return None
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", s)
    return m.group(1) + "Z" if m else s


def parse_list_buckets(body: bytes) -> list[tuple[str, str | None]]:
    root = _root(body)
    if root is None:
        return []
    out = []
    for bs in _children(root, "Buckets"):
        for b in _children(bs, "Bucket"):
            out.append((_text(b, "Name") or "", _iso_seconds(_text(b, "CreationDate"))))
    return out


def parse_upload_id(body: bytes) -> str:
    root = _root(body)
    uid = _text(root, "UploadId") if root is not None else None
    if not uid:
        raise ValueError("CreateMultipartUpload answered without an UploadId")
    return uid


def parse_complete(body: bytes) -> tuple[str | None, tuple[str | None, str | None] | None]:
    """(ETag, error) of a CompleteMultipartUpload answer: S3 may report an error inside a 200."""
    root = _root(body)
    if root is None:
        return None, None
    if _local(root.tag) == "Error":
        return None, (_text(root, "Code"), _text(root, "Message"))
    return _text(root, "ETag"), None


def complete_body(parts: list[tuple[int, str]]) -> bytes:
    items = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{escape(e)}</ETag></Part>" for n, e in parts)
    return (f'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{items}'
            "</CompleteMultipartUpload>").encode()


def _xml_text(s: str) -> str:
    # keys may hold characters XML 1.0 cannot carry raw; escape them as character references
    out = escape(s, {'"': "&quot;"})
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\r]", lambda m: f"&#{ord(m.group())};", out)


def delete_body(keys: list[str]) -> bytes:
    objs = "".join(f"<Object><Key>{_xml_text(k)}</Key></Object>" for k in keys)
    return (f'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>{objs}'
            "</Delete>").encode()


def parse_delete_errors(body: bytes) -> list[dict[str, Any]]:
    root = _root(body)
    if root is None:
        return []
    if _local(root.tag) == "Error":
        return [{"key": None, "code": _text(root, "Code"), "message": _text(root, "Message")}]
    return [{"key": _text(e, "Key"), "code": _text(e, "Code"), "message": _text(e, "Message")}
            for e in _children(root, "Error")]


def create_bucket_body(region: str) -> bytes | None:
    if region == "us-east-1":
        return None
    return ('<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<LocationConstraint>{escape(region)}</LocationConstraint></CreateBucketConfiguration>").encode()
