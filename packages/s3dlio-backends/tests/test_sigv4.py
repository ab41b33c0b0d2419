"""Our SigV4 signer against botocore's S3SigV4Auth: same request, same instant, same credentials, the
same Authorization header (and the same x-amz-* headers)."""

from __future__ import annotations

import datetime as dt
import hashlib

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from s3dlio_backends.sigv4 import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    Signer,
    amz_dates,
    canonical_query,
    quote_path,
)

NOW = dt.datetime(2026, 11, 21, 9, 30, 15)
NOW_TS = NOW.replace(tzinfo=dt.UTC).timestamp()
KEYS = ["plain.bin", "dir/sub/file.bin", "with space.bin", "unicodé-ü-日本.bin", "plus+sign.bin",
        "percent%20.bin", "hash#tag.bin", "query?x=1&y=2", "tilde~star*(1)!'.bin", "a//double/./dots/../x",
        "semi;colon,comma=eq@at$dollar.bin", ""]


def botocore_sign(monkeypatch: pytest.MonkeyPatch, method: str, url: str, headers: dict[str, str],
                  body: bytes | None, params: dict[str, str] | None, token: str | None, unsigned: bool,
                  region: str = "us-east-1") -> dict[str, str]:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW)
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body, params=params or {})
    if unsigned:
        req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    botocore.auth.S3SigV4Auth(creds, "s3", region).add_auth(req)
    return {k.lower(): v for k, v in req.headers.items()}


def our_sign(method: str, host: str, path: str, query: str, headers: dict[str, str], payload_hash: str,
             token: str | None, region: str = "us-east-1") -> dict[str, str]:
    h = {"host": host, **{k.lower(): v for k, v in headers.items()}}
    return Signer(region).sign(method, path, query, h, payload_hash, "AKIDEXAMPLE",
                               "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token, now=NOW_TS)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("token", [None, "FQoGZXIvYXdzEJr//////////wEaDO+token/with+chars=="])
def test_get_and_head_match_botocore(monkeypatch: pytest.MonkeyPatch, key: str, token: str | None) -> None:
    path = "/bucket/" + quote_path(key)
    for method in ("GET", "HEAD"):
        theirs = botocore_sign(monkeypatch, method, "http://127.0.0.1:9000" + path, {}, None, None, token,
                               unsigned=True)
        ours = our_sign(method, "127.0.0.1:9000", path, "", {}, UNSIGNED_PAYLOAD, token)
        assert ours["authorization"] == theirs["authorization"]
        assert ours["x-amz-date"] == theirs["x-amz-date"]
        assert ours["x-amz-content-sha256"] == theirs["x-amz-content-sha256"] == UNSIGNED_PAYLOAD
        assert ours.get("x-amz-security-token") == theirs.get("x-amz-security-token")


@pytest.mark.parametrize("rng", ["bytes=0-99", "bytes=100-", "bytes=33554432-67108863"])
def test_range_and_if_match_headers_match_botocore(monkeypatch: pytest.MonkeyPatch, rng: str) -> None:
    path = "/bkt/" + quote_path("dir/with space+x.bin")
    headers = {"Range": rng, "If-Match": '"0123abcd-2"'}
    theirs = botocore_sign(monkeypatch, "GET", "http://localhost:8333" + path, headers, None, None, None,
                           unsigned=True)
    ours = our_sign("GET", "localhost:8333", path, "", headers, UNSIGNED_PAYLOAD, None)
    assert ours["authorization"] == theirs["authorization"]


@pytest.mark.parametrize("params", [
    {"list-type": "2", "prefix": "dir/with space+é/", "delimiter": "/", "encoding-type": "url",
     "max-keys": "1000"},
    {"list-type": "2", "prefix": "", "continuation-token": "1/abc+def==&x"},
    {"uploads": ""},
    {"partNumber": "7", "uploadId": "2~abc/DEF+ghi=="},
    {"delete": ""},
])
def test_query_strings_match_botocore(monkeypatch: pytest.MonkeyPatch, params: dict[str, str]) -> None:
    theirs = botocore_sign(monkeypatch, "GET", "http://127.0.0.1:9000/bucket", {}, None, params, None,
                           unsigned=True)
    ours = our_sign("GET", "127.0.0.1:9000", "/bucket", canonical_query(params), {}, UNSIGNED_PAYLOAD, None)
    assert ours["authorization"] == theirs["authorization"]


@pytest.mark.parametrize("body", [b"", b"hello", bytes(range(256)) * 1000])
@pytest.mark.parametrize("token", [None, "SESSIONTOKEN"])
def test_put_with_signed_payload_matches_botocore(monkeypatch: pytest.MonkeyPatch, body: bytes,
                                                  token: str | None) -> None:
    path = "/bucket/" + quote_path("unicodé/pl+us #1.bin")
    headers = {"Content-Length": str(len(body)), "Content-Type": "application/octet-stream",
               "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}
    theirs = botocore_sign(monkeypatch, "PUT", "http://127.0.0.1:9000" + path, headers, body, None, token,
                           unsigned=False)
    ours = our_sign("PUT", "127.0.0.1:9000", path, "", headers, hashlib.sha256(body).hexdigest(), token)
    assert theirs["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert ours["authorization"] == theirs["authorization"]


def test_unsigned_put_and_other_region_match_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    path = "/bucket/k"
    headers = {"Content-Length": "3"}
    theirs = botocore_sign(monkeypatch, "PUT", "https://s3.eu-west-1.amazonaws.com" + path, headers, b"abc",
                           {"partNumber": "1", "uploadId": "u"}, None, unsigned=True, region="eu-west-1")
    ours = our_sign("PUT", "s3.eu-west-1.amazonaws.com", path, canonical_query({"partNumber": "1",
                                                                                 "uploadId": "u"}),
                    headers, UNSIGNED_PAYLOAD, None, region="eu-west-1")
    assert ours["authorization"] == theirs["authorization"]


def test_header_values_are_trimmed_like_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    headers = {"X-Amz-Meta-Note": "  two   spaces  here ", "Content-Type": "text/plain"}
    theirs = botocore_sign(monkeypatch, "GET", "http://h:1/b/k", headers, None, None, None, unsigned=True)
    ours = our_sign("GET", "h:1", "/b/k", "", headers, UNSIGNED_PAYLOAD, None)
    assert ours["authorization"] == theirs["authorization"]


def test_signing_key_cache_follows_the_date_and_secret() -> None:
    s = Signer("us-east-1")
    k1 = s.signing_key("secret", "20261121")
    assert s.signing_key("secret", "20261121") is k1
    assert s.signing_key("secret", "20261122") != k1
    assert s.signing_key("other", "20261122") != s.signing_key("secret", "20261122")


def test_helpers() -> None:
    assert amz_dates(NOW_TS) == ("20261121T093015Z", "20261121")
    assert quote_path("a b/c+d%e#f~g") == "a%20b/c%2Bd%25e%23f~g"
    assert canonical_query({"b": "2", "a": "x y"}) == "a=x%20y&b=2"
    assert hashlib.sha256(b"").hexdigest() == EMPTY_SHA256
    assert "secret" not in repr(Signer("us-east-1"))
