"""Flat-API names for the S3 feature: `configure_s3` and the explicit `MultipartUploadWriter`."""

from __future__ import annotations

import os

__all__ = ["configure_s3", "MultipartUploadWriter", "ReservedBuffer"]

from s3dlio_backends.s3.writer import MultipartUploadWriter, ReservedBuffer


def configure_s3(endpoint_url: str | None = None, region: str | None = None,
                 ca_bundle: str | None = None) -> None:
    """Point S3 at `endpoint_url` / `region` / a CA bundle (sets AWS_ENDPOINT_URL, AWS_REGION and
    AWS_DEFAULT_REGION, AWS_CA_BUNDLE) and drop cached S3 stores so the next call uses them."""
    if endpoint_url is not None:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url
    if region is not None:
        os.environ["AWS_DEFAULT_REGION"] = region
        os.environ["AWS_REGION"] = region
    if ca_bundle is not None:
        os.environ["AWS_CA_BUNDLE"] = ca_bundle
    from s3dlio_core.registry import clear_store_cache

    clear_store_cache()
