"""Small helpers shared by the conformance tests."""

from __future__ import annotations

import s3dlio_core


def has_directories(prefix: str) -> bool:
    """True for stores with real directories (file://, direct://): they cannot hold `foo` and `foo/x`."""
    store, _ = s3dlio_core.store_for_uri(prefix)
    return bool(store.capabilities.directories)


def rel(prefix: str, uris: list[str]) -> list[str]:
    """The listed URIs relative to `prefix`, sorted (backends list in different orders)."""
    assert all(u.startswith(prefix) for u in uris), uris
    return sorted(u[len(prefix):] for u in uris)
