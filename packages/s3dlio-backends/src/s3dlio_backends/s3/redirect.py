"""HTTP redirects of S3 endpoints (AIStore-style 307s): which ones we follow and where the next hop goes.

An AIStore gateway answers an S3 request with `307 Temporary Redirect` and a `Location` on the storage
target that holds the object; the AWS SDKs do not follow such a hop across hosts, so S3 clients fail
there (mlcommons/storage#271). With S3DLIO_FOLLOW_REDIRECTS the S3 client follows 301, 302, 307 and 308
answers that carry a `Location`, keeping the method and re-sending the body (a PUT or an UploadPart goes
to the target whole), at most S3DLIO_REDIRECT_MAX hops per request. Every hop is a new request signed
(SigV4) for its own host, path and query: the Authorization header of one host never reaches another.
The next host gets what any S3 host gets (the access key id, a session token if there is one, and a
signature valid for that host and request only), never the secret.

Modes (S3DLIO_FOLLOW_REDIRECTS, or `StoreConfig(follow_redirects=...)`):

* ``off`` (default): a redirect is an error (StorageIOError naming the URI, with a hint at this setting).
* ``on`` (the original's ``1``/``true``/``yes``/``on``/``enable``): any host, over the same scheme or from
  http to https; a hop from https down to plain http is refused (the request and its signature would
  travel in clear).
* ``same-host``: only hops to the same scheme, host and port (path rewrites).
* ``all``: any http or https hop, downgrades included (trusted networks only).

A redirect that is refused, leads elsewhere than http(s), or exceeds the hop limit raises a
StorageIOError naming the URI (`code` RedirectRefused or TooManyRedirects; not retried).
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote, urljoin, urlsplit

from s3dlio_core.errors import StorageIOError

from ..sigv4 import canonical_query, quote_path

__all__ = ["MODES", "REDIRECT_STATUSES", "Hop", "redirect_mode", "next_hop", "too_many_redirects",
           "redirect_hint"]

MODES = ("off", "on", "same-host", "all")
REDIRECT_STATUSES = frozenset({301, 302, 307, 308})
_DEFAULT_PORT = {"http": 80, "https": 443}


def redirect_mode(value: object) -> str:
    """The mode of a setting value: one of MODES (True/False and the original's booleans accepted)."""
    if value is True:
        return "on"
    if value is None or value is False:
        return "off"
    v = str(value).strip().lower().replace("_", "-")
    if v in ("1", "true", "yes", "on", "enable", "enabled"):
        return "on"
    if v in ("same-host", "samehost"):
        return "same-host"
    if v == "all":
        return "all"
    if v in ("", "0", "false", "no", "off", "disable", "disabled"):
        return "off"
    raise ValueError(f"follow_redirects must be one of {', '.join(MODES)} (or a boolean), got {value!r}")


class Hop(NamedTuple):
    """Where one redirected request goes: connection target, Host header, encoded path and query."""

    scheme: str
    host: str  # to connect to (no brackets)
    port: int
    host_header: str  # the Host header (and the signed host): the Location's host[:port]
    path: str  # percent-encoded the way the first request was (S3's canonical URI)
    query: str  # canonical query string (what is signed and what is sent)

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host_header}"


def _canonical_query_of(raw: str) -> str:
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        pairs.append((unquote(k), unquote(v)))
    return canonical_query(pairs)


def next_hop(current: Hop, location: str, mode: str, origin_scheme: str, op: str, uri: str) -> Hop:
    """The hop a `Location` (absolute or relative to `current`) names, if `mode` allows it; raises a
    StorageIOError (code RedirectRefused) naming `uri` otherwise. `origin_scheme` is the scheme of the
    request's first hop (once on https, a request never goes down to http unless the mode is 'all')."""
    def refuse(where: str, reason: str) -> StorageIOError:
        return StorageIOError(f"S3 {op} for {uri} failed: the endpoint redirects to {where}, which "
                              f"S3DLIO_FOLLOW_REDIRECTS={mode} does not allow ({reason})", uri,
                              code="RedirectRefused")

    base = f"{current.scheme}://{current.host_header}{current.path}"
    try:
        target = urlsplit(urljoin(base, location.strip()))
        scheme = target.scheme.lower()
        host = target.hostname
        port = target.port or _DEFAULT_PORT.get(scheme, 0)
    except ValueError:  # a malformed host or port
        raise refuse(repr(location.split("?", 1)[0][:80]), "not a valid URL") from None
    netloc = target.netloc.rpartition("@")[2]
    where = f"{scheme}://{netloc}"
    if scheme not in _DEFAULT_PORT or not host or not port:
        raise refuse(where, "not an http(s) URL with a host")
    if "@" in target.netloc:
        raise refuse(where, "the Location carries user credentials")
    same = scheme == current.scheme and host == current.host and port == current.port
    if mode == "same-host" and not same:
        raise refuse(where, "another host")
    if mode == "on" and origin_scheme == "https" and scheme == "http":
        raise refuse(where, "a downgrade from https to http")
    path = quote_path(unquote(target.path)) if target.path else "/"
    return Hop(scheme, host, port, netloc, path, _canonical_query_of(target.query))


def too_many_redirects(op: str, uri: str, limit: int, last: Hop, status: int) -> StorageIOError:
    """The error of a request still redirected after `limit` hops (a loop, or a chain too long)."""
    return StorageIOError(f"S3 {op} for {uri} failed: more than {limit} redirect(s) (the last one to "
                          f"{last.origin}); S3DLIO_REDIRECT_MAX sets the limit", uri, status=status,
                          code="TooManyRedirects")


def redirect_hint(location: str | None) -> str | None:
    """The hint of a redirect we did not follow (its target's origin only: a Location's query may carry
    tokens)."""
    if not location:
        return None
    sp = urlsplit(location)
    where = f" to {sp.scheme}://{sp.netloc.rpartition('@')[2]}" if sp.scheme and sp.netloc else ""
    return f"the endpoint redirects{where}; set S3DLIO_FOLLOW_REDIRECTS=1 to follow redirects"
