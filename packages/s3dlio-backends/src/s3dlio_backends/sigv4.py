"""AWS Signature Version 4 for the lean S3 data path, byte-for-byte what botocore's S3SigV4Auth produces.

Per request the cost is one SHA-256 of the canonical request and one HMAC (OpenSSL one-shot calls); the
derived signing key is cached per (date, region, service) and the timestamp strings per second.
Credentials are passed in (never stored here) and never appear in anything this module returns except
the access key id inside the Authorization header, which is what S3 requires.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

__all__ = ["UNSIGNED_PAYLOAD", "EMPTY_SHA256", "Signer", "quote_path", "canonical_query", "amz_dates",
           "sha256_hex"]

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_ALGO = "AWS4-HMAC-SHA256"
_sha256 = hashlib.sha256
_hmac_digest = hmac.digest

_date_cache: tuple[int, str, str] = (-1, "", "")


def amz_dates(now: float | None = None) -> tuple[str, str]:
    """('20261121T093000Z', '20261121') for `now` (default: the current second, cached)."""
    global _date_cache
    sec = int(time.time() if now is None else now)
    c = _date_cache
    if c[0] == sec:
        return c[1], c[2]
    t = time.gmtime(sec)
    amz = time.strftime("%Y%m%dT%H%M%SZ", t)
    c = (sec, amz, amz[:8])
    _date_cache = c
    return c[1], c[2]


def quote_path(key: str) -> str:
    """Percent-encode an S3 key for the URL path and the canonical URI ('/' and '~' stay as is)."""
    return quote(key, safe="/~")


def canonical_query(params: dict[str, str] | list[tuple[str, str]] | None) -> str:
    """The canonical (sorted, RFC 3986 encoded) query string; also what we send on the wire."""
    if not params:
        return ""
    items = params.items() if isinstance(params, dict) else params
    enc = sorted((quote(str(k), safe="-_.~"), quote(str(v), safe="-_.~")) for k, v in items)
    return "&".join(f"{k}={v}" for k, v in enc)


def sha256_hex(data: object) -> str:
    """Hex SHA-256 of a bytes-like payload (hashlib releases the GIL on large buffers)."""
    return _sha256(data).hexdigest()  # type: ignore[arg-type]


class Signer:
    """Signs S3 requests for one region and service; the derived key is cached per day and secret."""

    __slots__ = ("_key_cache", "region", "service")

    def __init__(self, region: str, service: str = "s3") -> None:
        self.region = region
        self.service = service
        self._key_cache: tuple[str, str, bytes] = ("", "", b"")

    def __repr__(self) -> str:
        return f"Signer(region={self.region!r}, service={self.service!r})"

    def signing_key(self, secret_key: str, datestamp: str) -> bytes:
        c = self._key_cache
        if c[0] == datestamp and c[1] == secret_key:
            return c[2]
        k = _hmac_digest(("AWS4" + secret_key).encode(), datestamp.encode(), "sha256")
        k = _hmac_digest(k, self.region.encode(), "sha256")
        k = _hmac_digest(k, self.service.encode(), "sha256")
        k = _hmac_digest(k, b"aws4_request", "sha256")
        self._key_cache = (datestamp, secret_key, k)
        return k

    def sign(self, method: str, path: str, query: str, headers: dict[str, str], payload_hash: str,
             access_key: str, secret_key: str, token: str | None = None,
             now: float | None = None) -> dict[str, str]:
        """Add X-Amz-Date, X-Amz-Content-SHA256, X-Amz-Security-Token and Authorization to `headers`.

        `headers` maps lower-case names to values and must hold 'host'; every header in it is signed
        (like botocore, which signs all but a few hop-by-hop ones). `path` is already percent-encoded.
        """
        amz_date, datestamp = amz_dates(now)
        headers["x-amz-date"] = amz_date
        headers["x-amz-content-sha256"] = payload_hash
        if token:
            headers["x-amz-security-token"] = token
        names = sorted(headers)
        canon_headers = "".join(f"{n}:{' '.join(str(headers[n]).split())}\n" for n in names)
        signed = ";".join(names)
        creq = f"{method}\n{path}\n{query}\n{canon_headers}\n{signed}\n{payload_hash}"
        scope = f"{datestamp}/{self.region}/{self.service}/aws4_request"
        sts = f"{_ALGO}\n{amz_date}\n{scope}\n{_sha256(creq.encode()).hexdigest()}"
        sig = _hmac_digest(self.signing_key(secret_key, datestamp), sts.encode(), "sha256").hex()
        headers["authorization"] = (f"{_ALGO} Credential={access_key}/{scope}, "
                                    f"SignedHeaders={signed}, Signature={sig}")
        return headers
