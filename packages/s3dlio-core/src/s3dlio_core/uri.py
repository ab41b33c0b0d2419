"""URI parsing for every scheme s3dlio speaks (s3, gs/gcs, az/azure, file, direct).

One parse gives scheme, bucket (container), key and, for `s3://host:port/bucket/key`, an endpoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidUriError
from .paths import has_dotdot

__all__ = [
    "SCHEME_ALIASES",
    "SUPPORTED_SCHEMES",
    "ObjectUri",
    "parse_uri",
    "scheme_of",
    "parse_s3_uri_full",
    "join_uri",
]

#: Canonical scheme for each accepted spelling.
SCHEME_ALIASES: dict[str, str] = {
    "s3": "s3",
    "gs": "gs",
    "gcs": "gs",
    "az": "az",
    "azure": "az",
    "file": "file",
    "direct": "direct",
    "memory": "memory",
}
SUPPORTED_SCHEMES = ("s3://", "gs://", "gcs://", "az://", "azure://", "file://", "direct://", "memory://")
_PATH_SCHEMES = frozenset({"file", "direct"})
# a first segment that names a server: host:port or [ipv6]:port / [ipv6]
_ENDPOINT_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\](:\d+)?|[A-Za-z0-9_.-]+:\d+)$")


@dataclass(frozen=True, slots=True)
class ObjectUri:
    """A parsed URI. For file/direct, `bucket` is '' and `key` is the filesystem path."""

    uri: str  # as the caller wrote it
    scheme: str  # canonical: s3, gs, az, file, direct
    written_scheme: str  # as written: e.g. gcs, azure
    bucket: str
    key: str
    endpoint: str | None = None  # s3://host:port/... form only

    @property
    def path(self) -> str:
        """The filesystem path (file:// and direct://)."""
        return self.key

    @property
    def base(self) -> str:
        """The URI up to and including the bucket and its '/', e.g. 's3://b/' or 's3://h:1/b/'."""
        if self.scheme in _PATH_SCHEMES:
            return f"{self.written_scheme}://"
        ep = f"{self.endpoint}/" if self.endpoint else ""
        return f"{self.written_scheme}://{ep}{self.bucket}/"

    def with_key(self, key: str) -> str:
        """The full URI of another key in the same bucket (same scheme spelling and endpoint)."""
        return self.base + key


def scheme_of(uri: str) -> str:
    """Canonical scheme of `uri`, or raise InvalidUriError naming the URI and the supported schemes."""
    if not isinstance(uri, str):
        raise TypeError(f"URI must be a str, got {type(uri).__name__}")
    i = uri.find("://")
    if i > 0:
        canon = SCHEME_ALIASES.get(uri[:i].lower())
        if canon is not None:
            return canon
    raise InvalidUriError(
        f"Unable to infer backend from URI: {uri!r} (supported schemes: {', '.join(SUPPORTED_SCHEMES)})",
        uri,
    )


def parse_uri(uri: str) -> ObjectUri:
    """Parse any supported URI; raise InvalidUriError (a RuntimeError and ValueError) on bad input."""
    scheme = scheme_of(uri)
    i = uri.index("://")
    written = uri[:i].lower()
    rest = uri[i + 3 :]
    if scheme in _PATH_SCHEMES:
        if not rest:
            raise InvalidUriError(f"{written}:// URI has no path: {uri!r}", uri)
        if has_dotdot(rest):
            raise InvalidUriError(f"{written}:// path has a '..' segment, which could reach outside the "
                                  f"directory it names; refused: {uri!r}", uri)
        if "\x00" in rest:
            raise InvalidUriError(f"{written}:// path contains a NUL byte: {uri!r}", uri)
        return ObjectUri(uri, scheme, written, "", rest)
    endpoint = None
    if scheme == "s3":
        slash = rest.find("/")
        first = rest if slash < 0 else rest[:slash]
        if slash >= 0 and _ENDPOINT_RE.match(first):
            endpoint = first
            rest = rest[slash + 1 :]
    slash = rest.find("/")
    if slash < 0:
        if not rest:
            raise InvalidUriError(f"URI has no bucket: {uri!r}", uri)
        raise InvalidUriError(f"URI must contain '/' after bucket: {uri!r}", uri)
    bucket, key = rest[:slash], rest[slash + 1 :]
    if not bucket:
        raise InvalidUriError(f"URI has an empty bucket name: {uri!r}", uri)
    return ObjectUri(uri, scheme, written, bucket, key, endpoint)


def parse_s3_uri_full(uri: str) -> dict[str, str | None]:
    """The original's helper: {'endpoint': None | 'host:port', 'bucket': str, 'key': str}."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise InvalidUriError(f"URI must start with s3://: {uri!r}", uri if isinstance(uri, str) else None)
    p = parse_uri(uri)
    return {"endpoint": p.endpoint, "bucket": p.bucket, "key": p.key}


def join_uri(prefix: str, name: str) -> str:
    """`prefix` + '/' + `name`, with exactly one slash between them."""
    if not prefix.endswith("/"):
        prefix += "/"
    return prefix + name.lstrip("/")
