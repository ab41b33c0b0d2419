"""Azurite (Azure Blob emulator, npm, tools/servers) on 127.0.0.1, one per test session.

The session is configured the spec's way (AZURE_STORAGE_ENDPOINT + AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY)
and each conformance test gets a fresh container in the account form `az://devstoreaccount1/<container>/`.
"""

from __future__ import annotations

import itertools
import os
import pathlib
import shutil
import subprocess
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from s3dlio_testsupport.procs import HOST, free_port, scoped_env, spawn_and_wait, stop_process

CONFORMANCE_BACKENDS = {"azure": "azure_prefix"}

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_ROOT = pathlib.Path(__file__).resolve().parents[2]
_AZURITE = _ROOT / "tools" / "servers" / "node_modules" / ".bin" / "azurite-blob"
_counter = itertools.count()


class AzuriteServer(NamedTuple):
    """A running Azurite: where it listens and how to reach its development account."""

    port: int
    pid: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def blob_endpoint(self) -> str:
        return f"{self.endpoint}/{AZURITE_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                f"BlobEndpoint={self.blob_endpoint};")

    @property
    def env(self) -> dict[str, str]:
        """The spec's variables for Azurite."""
        return {"AZURE_STORAGE_ENDPOINT": self.endpoint, "AZURE_STORAGE_ACCOUNT": AZURITE_ACCOUNT,
                "AZURE_STORAGE_KEY": AZURITE_KEY}


def start_azurite(location: pathlib.Path) -> tuple[subprocess.Popen[bytes], AzuriteServer]:
    """Start azurite-blob on a free loopback port and wait until it answers HTTP."""
    if not _AZURITE.exists():
        raise RuntimeError(f"Azurite is not installed at {_AZURITE}: run `npm ci --prefix tools/servers`")
    if shutil.which("node") is None:
        raise RuntimeError("node is not on PATH; Azurite needs it")
    port = free_port()
    proc = spawn_and_wait(
        "Azurite",
        [str(_AZURITE), "--location", str(location), "--blobHost", HOST, "--blobPort", str(port),
         "--skipApiVersionCheck", "--silent", "--disableTelemetry", "--loose"],
        f"http://{HOST}:{port}/{AZURITE_ACCOUNT}?comp=list")
    return proc, AzuriteServer(port, proc.pid)


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
