"""Shared pieces of the S3 benchmarks (s3_get_compare.py, s3_put.py), on top of `_harness.py`: the
clients' code for GET and PUT rounds (ours, the original s3dlio 0.10.0, boto3 with 16 threads, obstore
with 16 threads), each written as a `_harness` client module that reads its work from the payload, and the
SeaweedFS they run against (the test fixtures' start/stop code, on a free port of 127.0.0.1).

Payload of a GET round: {"uris": [...], "in_flight": N, "size": bytes per object}; of a PUT round:
{"uris": [...], "in_flight": N, "size": bytes per object}. Every client holds all its results until the
round returns, and checks their sizes after the clock stops.
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "support"))

from _harness import Client  # noqa: E402
from s3dlio_testsupport import s3_procs as procs  # noqa: E402

__all__ = ["MiB", "procs", "get_clients", "put_clients", "CLIENT_NAMES", "BOTO_THREADS"]

MiB = 1 << 20
BOTO_THREADS = 16
CLIENT_NAMES = ("ours", "original", "boto3", "obstore")

_CHECK_GET = """
def check(held, p):
    assert len(held) == len(p["uris"]), (len(held), len(p["uris"]))
    bad = [i for i, n in enumerate(held_sizes(held)) if n != p["size"]]
    assert not bad, f"{len(bad)} results of the wrong size, e.g. #{bad[0]}"
"""

_S3DLIO_GET = """
import s3dlio
def held_sizes(held):
    return [len(v) for _, v in held]
def run(p):
    res = s3dlio.get_many(p["uris"], p["in_flight"])
    return sum(len(v) for _, v in res), res
""" + _CHECK_GET

_BOTO3_SETUP = f"""
import os
from concurrent.futures import ThreadPoolExecutor
import boto3
from botocore.config import Config
cfg = Config(max_pool_connections=64, request_checksum_calculation="when_required",
             response_checksum_validation="when_required", retries={{"max_attempts": 3, "mode": "standard"}},
             s3={{"addressing_style": "path"}})
cli = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], config=cfg)
def split(uri):
    bucket, _, key = uri[5:].partition("/")
    return bucket, key
THREADS = {BOTO_THREADS}
"""

_BOTO3_GET = _BOTO3_SETUP + """
def held_sizes(held):
    return [len(v) for v in held]
def one(uri):
    b, k = split(uri)
    return cli.get_object(Bucket=b, Key=k)["Body"].read()
def run(p):
    with ThreadPoolExecutor(THREADS) as ex:
        res = list(ex.map(one, p["uris"]))
    return sum(len(v) for v in res), res
""" + _CHECK_GET

# obstore: its sync get on 16 threads. (Its asyncio path, get_async + bytes_async under a semaphore of 16,
# measured 5.8 CPU-s/GB and 40 MB/s for 16 MiB objects here, against 1.3 and 210 for this one.)
_OBSTORE_GET = """
import os
from concurrent.futures import ThreadPoolExecutor
import obstore
from obstore.store import S3Store
def split(uri):
    bucket, _, key = uri[5:].partition("/")
    return bucket, key
BUCKET = split(PAYLOAD["uris"][0])[0]
store = S3Store(BUCKET, endpoint=os.environ["AWS_ENDPOINT_URL"], access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"], region=os.environ["AWS_REGION"],
                virtual_hosted_style_request=False, client_options={"allow_http": True})
def held_sizes(held):
    return [memoryview(v).nbytes for v in held]
def one(uri):
    return obstore.get(store, split(uri)[1]).bytes()
def run(p):
    with ThreadPoolExecutor(p["in_flight"]) as ex:
        res = list(ex.map(one, p["uris"]))
    return sum(memoryview(v).nbytes for v in res), res
""" + _CHECK_GET

_S3DLIO_PUT = """
import os
import s3dlio
DATA = os.urandom(PAYLOAD["size"])
def run(p):
    s3dlio.put_many([(u, DATA) for u in p["uris"]], p["in_flight"])
    return len(DATA) * len(p["uris"])
"""

_BOTO3_PUT = _BOTO3_SETUP + """
DATA = os.urandom(PAYLOAD["size"])
def one(uri):
    b, k = split(uri)
    cli.put_object(Bucket=b, Key=k, Body=DATA)
def run(p):
    with ThreadPoolExecutor(THREADS) as ex:
        list(ex.map(one, p["uris"]))
    return len(DATA) * len(p["uris"])
"""


def _pick(clients: list[Client], names: tuple[str, ...] | None) -> list[Client]:
    if names is None:
        return clients
    names = (*names, *(["ours-before"] if any(c.name == "ours-before" for c in clients) else []))
    unknown = set(names) - {c.name for c in clients}
    if unknown:
        raise ValueError(f"unknown clients {sorted(unknown)}; known: {[c.name for c in clients]}")
    return [c for c in clients if c.name in names]


def baseline_paths(tree: str) -> tuple[str, ...]:
    """The package source directories of another checkout of this repository (for a before/after run)."""
    root = pathlib.Path(tree)
    dirs = tuple(str(p) for p in sorted((root / "packages").glob("*/src")))
    if not dirs:
        raise ValueError(f"{tree} has no packages/*/src: not a checkout of this repository")
    return dirs


def get_clients(env: dict[str, str], names: tuple[str, ...] | None = None,
                ours_env: dict[str, str] | None = None, baseline: str | None = None) -> list[Client]:
    """The GET contenders, ours first. The original runs with S3DLIO_ENABLE_RANGE_OPTIMIZATION=0 (as its
    authors benchmark it: otherwise it sends a HEAD before every GET). `ours_env` adds variables for ours
    only (to try a setting); `baseline` (a checkout's directory) adds "ours-before", that checkout's code."""
    before = [Client("ours-before", _S3DLIO_GET, env=env, pythonpath=baseline_paths(baseline))] if baseline else []
    return _pick([
        Client("ours", _S3DLIO_GET, env={**env, **(ours_env or {})}),
        *before,
        Client("original", _S3DLIO_GET, peer="original", env={**env, "S3DLIO_ENABLE_RANGE_OPTIMIZATION": "0"}),
        Client("boto3", _BOTO3_GET, peer="boto3", env=env),
        Client("obstore", _OBSTORE_GET, peer="obstore", env=env),
    ], names)


def put_clients(env: dict[str, str], names: tuple[str, ...] | None = None) -> list[Client]:
    """The PUT contenders, ours first (obstore is left out: its PUT path is not what this checks)."""
    return _pick([
        Client("ours", _S3DLIO_PUT, env=env),
        Client("original", _S3DLIO_PUT, peer="original", env=env),
        Client("boto3", _BOTO3_PUT, peer="boto3", env=env),
    ], names)
