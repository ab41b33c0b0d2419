"""Azurite (Azure Blob emulator, npm, tools/servers) on 127.0.0.1, one per test session.

The session is configured the spec's way (AZURE_STORAGE_ENDPOINT + AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY)
and each conformance test gets a fresh container in the account form `az://devstoreaccount1/<container>/`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from s3dlio_testsupport.azurite import AZURITE_ACCOUNT, AzuriteServer, start_azurite
from s3dlio_testsupport.procs import scoped_env, stop_process

CONFORMANCE_BACKENDS = {"azure": "azure_prefix"}

_counter = itertools.count()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteServer]:
    """One Azurite per session; AZURE_* point at it while the session runs."""

    proc, server = start_azurite(tmp_path_factory.mktemp("azurite"))
    try:
        with scoped_env(server.env, clear=("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_SAS_TOKEN",
                                           "S3DLIO_AZURE_SAS_TOKEN", "AZURE_BLOB_ENDPOINT_URL",
                                           "S3DLIO_AZURE_CREDENTIAL")):
            yield server
    finally:
        stop_process(proc)


def new_container_name() -> str:
    return f"t{os.getpid()}-{next(_counter)}-{os.urandom(3).hex()}"


@pytest.fixture
def azure_container(azurite: AzuriteServer) -> str:
    """A fresh, empty container (its name)."""
    from azure.storage.blob import BlobServiceClient

    name = new_container_name()
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(name)
    return name


@pytest.fixture
def azure_prefix(azurite: AzuriteServer, azure_container: str) -> str:
    """A fresh, empty prefix in the account form az://devstoreaccount1/<container>/."""
    import s3dlio_core.registry as registry

    for k, v in azurite.env.items():  # a test may have changed them
        if os.environ.get(k) != v:
            os.environ[k] = v
            registry.clear_store_cache()
    return f"az://{AZURITE_ACCOUNT}/{azure_container}/"
