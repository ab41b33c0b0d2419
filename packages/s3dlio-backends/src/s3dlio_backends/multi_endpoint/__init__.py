"""The multi-endpoint store: one namespace over several endpoints, load-balanced, failing over.

Factories mirror the original: from a list, a `{1...10}` template, a file of URIs, or S3_ENDPOINT_URIS.
"""

from __future__ import annotations

from collections.abc import Sequence

from .store import MAX_ENDPOINTS, STRATEGIES, MultiEndpointStore, is_endpoint_failure
from .template import ENV_VAR, endpoints_from_env, expand_template, read_endpoint_file

__all__ = [
    "MultiEndpointStore", "MAX_ENDPOINTS", "STRATEGIES", "ENV_VAR", "is_endpoint_failure",
    "create_multi_endpoint_store", "create_multi_endpoint_store_from_template",
    "create_multi_endpoint_store_from_file", "create_multi_endpoint_store_from_env", "expand_template",
]


def create_multi_endpoint_store(uris: Sequence[str], strategy: str | None = "round_robin") -> MultiEndpointStore:
    """A store over `uris` (same scheme, 1..32 of them); strategy 'round_robin' or 'least_connections'."""
    return MultiEndpointStore(uris, strategy)


def create_multi_endpoint_store_from_template(uri_template: str, strategy: str | None = "round_robin"
                                              ) -> MultiEndpointStore:
    """A store over every URI the template expands to (`s3://bucket-{1...10}`, `{01...99}` padded)."""
    if strategy is not None and strategy not in STRATEGIES:
        return MultiEndpointStore([], strategy)  # raises the strategy error first, like the original
    return MultiEndpointStore(expand_template(uri_template), strategy)


def create_multi_endpoint_store_from_file(file_path: str, strategy: str | None = "round_robin"
                                          ) -> MultiEndpointStore:
    """A store over the URIs in a file: one per line, blank lines and `#` comments skipped."""
    return MultiEndpointStore(read_endpoint_file(file_path), strategy)


def create_multi_endpoint_store_from_env(strategy: str | None = "round_robin") -> MultiEndpointStore:
    """A store over the comma-separated URIs of the S3_ENDPOINT_URIS environment variable."""
    return MultiEndpointStore(endpoints_from_env(), strategy)
