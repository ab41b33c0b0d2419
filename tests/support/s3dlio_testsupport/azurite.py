"""Azurite (the Azure Blob emulator, from npm in tools/servers) on a free loopback port."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
from typing import NamedTuple

from .procs import HOST, free_port, spawn_and_wait

__all__ = ["AZURITE_ACCOUNT", "AZURITE_KEY", "AzuriteServer", "start_azurite"]

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_ROOT = pathlib.Path(__file__).resolve().parents[3]
_AZURITE = _ROOT / "tools" / "servers" / "node_modules" / ".bin" / "azurite-blob"


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
