"""Azure Blob (Azurite) 16 MiB GET and PUT: s3dlio's az:// store as a ratio to the SDK used plainly.

Starts its own Azurite on 127.0.0.1 (tools/servers). SDK baseline: `blob_client.upload_blob(data,
overwrite=True)` and `blob_client.download_blob().readall()`. Both sides run interleaved in this run over
the same objects; each figure is the median of --repeats rounds of --objects sequential operations.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import tempfile

_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT / "tests" / "support"))  # the server helpers shared with the tests

from _timing import rate  # noqa: E402 - benchmarks/ is the script directory
from s3dlio_testsupport.azurite import AZURITE_ACCOUNT, start_azurite  # noqa: E402
from s3dlio_testsupport.procs import stop_process  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size-mib", type=int, default=16)
    ap.add_argument("--objects", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    proc, server = start_azurite(pathlib.Path(tempfile.mkdtemp(prefix="s3dlio-bench-azurite-")))
    try:
        os.environ.update(server.env)
        import s3dlio
        from azure.storage.blob import BlobServiceClient

        svc = BlobServiceClient.from_connection_string(server.connection_string)
        container = "bench"
        svc.create_container(container)
        size = a.size_mib << 20
        data = os.urandom(size)
        names = [f"obj{i:03d}.bin" for i in range(a.objects)]
        clients = [svc.get_blob_client(container, n) for n in names]
        uris = [f"az://{AZURITE_ACCOUNT}/{container}/{n}" for n in names]

        def sdk_put() -> int:
            for c in clients:
                c.upload_blob(data, overwrite=True)
            return size * len(clients)

        def ours_put() -> int:
            for u in uris:
                s3dlio.put(u, data)
            return size * len(uris)

        def sdk_get() -> int:
            n = 0
            for c in clients:
                n += len(c.download_blob().readall())
            return n

        def ours_get() -> int:
            n = 0
            for u in uris:
                n += len(s3dlio.get(u))
            return n

        ours_put()
        assert bytes(s3dlio.get(uris[0])) == data and clients[0].download_blob().readall() == data
        results: dict[str, list[float]] = {k: [] for k in ("sdk_put", "ours_put", "sdk_get", "ours_get")}
        sdk_get()
        ours_get()  # warm-up: connections, allocator
        for r in range(a.repeats):
            order = [("sdk_put", sdk_put), ("ours_put", ours_put)]
            for name, fn in order if r % 2 == 0 else order[::-1]:
                results[name].append(rate(fn))
            order = [("sdk_get", sdk_get), ("ours_get", ours_get)]
            for name, fn in order if r % 2 == 0 else order[::-1]:
                results[name].append(rate(fn))
        med = {k: statistics.median(v) for k, v in results.items()}
        for op in ("GET", "PUT"):
            o, s = med[f"ours_{op.lower()}"], med[f"sdk_{op.lower()}"]
            print(f"azure {a.size_mib}MiB {op}: ours {o:.0f} MB/s | sdk {s:.0f} MB/s ({o / s:.2f}x)")
    finally:
        stop_process(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
