"""Flat-API names for the multi-endpoint store (load balancing and failover over several endpoints)."""

from __future__ import annotations

from s3dlio_backends.multi_endpoint import (
    MultiEndpointStore,
    create_multi_endpoint_store,
    create_multi_endpoint_store_from_env,
    create_multi_endpoint_store_from_file,
    create_multi_endpoint_store_from_template,
)

__all__: list[str] = [
    "MultiEndpointStore", "create_multi_endpoint_store", "create_multi_endpoint_store_from_template",
    "create_multi_endpoint_store_from_file", "create_multi_endpoint_store_from_env",
]
