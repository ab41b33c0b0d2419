"""Settings `requests` would otherwise look up in the environment on every request.

With `trust_env` on, requests scans every environment variable for proxies (twice per request), looks for
~/.netrc and reads REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE: about half a millisecond per request here. The CA
bundle is read once instead (the session's `verify`); `trust_env` stays on only when a proxy or netrc
setting exists, so behaviour is unchanged.
"""

from __future__ import annotations

import os

__all__ = ["needs_trust_env", "ca_bundle"]


def needs_trust_env() -> bool:
    """True if a proxy or netrc setting is present (then requests must keep reading the environment)."""
    for k in os.environ:
        if k.lower().endswith("_proxy") or k == "NETRC":
            return True
    return os.path.exists(os.path.expanduser("~/.netrc")) or os.path.exists(os.path.expanduser("~/_netrc"))


def ca_bundle() -> str | None:
    """The CA bundle requests would use from the environment, if any."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
