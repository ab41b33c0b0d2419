"""How fsspec paths and `s3dlio://` URLs map onto s3dlio URIs (one rule, both directions).

An fsspec path of this filesystem is an s3dlio URI with its `://` replaced by one `/`; the URL is that
path behind `s3dlio://`:

=====================================  ==================================  ====================================
s3dlio URI                             fsspec path (what `ls` returns)     URL for `fsspec.open`
=====================================  ==================================  ====================================
``s3://bucket/key``                    ``s3/bucket/key``                   ``s3dlio://s3/bucket/key``
``s3://127.0.0.1:9000/bucket/key``     ``s3/127.0.0.1:9000/bucket/key``    ``s3dlio://s3/127.0.0.1:9000/bucket/key``
``gs://bucket/key``                    ``gs/bucket/key``                   ``s3dlio://gs/bucket/key``
``az://account/container/key``         ``az/account/container/key``        ``s3dlio://az/account/container/key``
``memory://bucket/key``                ``memory/bucket/key``               ``s3dlio://memory/bucket/key``
``file:///data/x.npz``                 ``file/data/x.npz``                 ``s3dlio://file/data/x.npz``
``direct:///data/x.npz``               ``direct/data/x.npz``               ``s3dlio://direct/data/x.npz``
=====================================  ==================================  ====================================

Local paths (`file`, `direct`) are absolute: `file/data/x` is `/data/x`; a relative `file://rel` URI is taken
relative to the current directory. The first segment always names the scheme, so a bucket may be called
`s3` or `file`. Every method of the filesystem also accepts the s3dlio URI itself (`fs.ls("s3://bucket/")`)
and the `s3dlio://` URL; trailing slashes are dropped, as fsspec does. A path whose first segment is not a
scheme raises InvalidUriError (a ValueError) naming it.
"""

from __future__ import annotations

import os

from s3dlio_core.errors import InvalidUriError
from s3dlio_core.uri import SCHEME_ALIASES, parse_uri

__all__ = ["PROTOCOL", "PATH_SCHEMES", "strip_protocol", "to_uri", "to_path", "to_url", "split_scheme"]

PROTOCOL = "s3dlio"
#: schemes whose URIs hold a local filesystem path (absolute in fsspec paths)
PATH_SCHEMES = frozenset({"file", "direct"})
_URL_PREFIX = PROTOCOL + "://"


def split_scheme(path: str) -> tuple[str, str, str]:
    """(written scheme, canonical scheme, rest) of an fsspec path; InvalidUriError if it names no scheme."""
    scheme, _, rest = path.partition("/")
    canon = SCHEME_ALIASES.get(scheme.lower())
    if canon is None:
        raise InvalidUriError(
            f"fsspec path {path!r} does not start with a storage scheme: s3dlio paths are an s3dlio URI "
            f"with '://' replaced by '/', e.g. 's3/bucket/key' or 'file/tmp/x' "
            f"(schemes: {', '.join(sorted(SCHEME_ALIASES))})", path)
    return scheme.lower(), canon, rest


def to_path(uri: str) -> str:
    """The fsspec path of an s3dlio URI (`s3://b/k` -> `s3/b/k`, `file:///tmp/x` -> `file/tmp/x`)."""
    i = uri.find("://")
    written = uri[:i].lower()
    rest = uri[i + 3:]
    if SCHEME_ALIASES.get(written) in PATH_SCHEMES:
        if rest and not rest.startswith("/"):
            rest = os.path.join(os.getcwd(), rest)  # a relative local path, made absolute (not normalised)
        rest = rest.lstrip("/")
    rest = rest.rstrip("/")
    return f"{written}/{rest}" if rest else written


def strip_protocol(path: str) -> str:
    """The fsspec path for any accepted spelling: an `s3dlio://` URL, an s3dlio URI, or a path."""
    if path.startswith(_URL_PREFIX):
        path = path[len(_URL_PREFIX):]
    elif path.startswith(PROTOCOL + "::"):
        path = path[len(PROTOCOL) + 2:]
    i = path.find("://")
    if i > 0 and path[:i].lower() in SCHEME_ALIASES:
        return to_path(path)
    return path.rstrip("/")


def to_uri(path: str, *, directory: bool = False) -> str:
    """The s3dlio URI of an fsspec path (already stripped); with `directory`, the URI ends in '/' so that a
    listing selects what is under it (and not `name.bak` beside it)."""
    written, canon, rest = split_scheme(path)
    if canon in PATH_SCHEMES:
        uri = f"{written}:///{rest}"
        if directory and not uri.endswith("/"):
            uri += "/"
        return uri
    uri = f"{written}://{rest}"
    if rest and not uri.endswith("/") and (directory or not _names_key(uri)):
        uri += "/"  # a bucket itself is written 'scheme://bucket/'
    return uri


def _names_key(uri: str) -> bool:
    """Whether a bucket-store URI without a trailing '/' goes past its bucket (the bucket may follow an
    endpoint, as in s3://host:port/bucket)."""
    try:
        parse_uri(uri)
    except InvalidUriError:
        return False
    return True


def to_url(path: str) -> str:
    """The `s3dlio://` URL of an fsspec path or s3dlio URI."""
    return _URL_PREFIX + strip_protocol(path)
