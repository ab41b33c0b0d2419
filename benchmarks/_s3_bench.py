"""Shared pieces of the S3 benchmarks: a SeaweedFS of their own (the test fixtures' start/stop code),
the three clients (ours, the original s3dlio 0.10.0 in its venv, plain boto3 with 16 threads) and the
one-line report format. Rounds are interleaved (ours, original, boto3, ours, ...) so drift on this
shared 2-core machine hits every client alike; each client's best round is reported.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _original import run_original  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "support"))
from s3dlio_testsupport import s3_procs as procs  # noqa: E402

BOTO_THREADS = 16
MiB = 1 << 20


def boto3_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    cfg = Config(max_pool_connections=64, request_checksum_calculation="when_required",
                 response_checksum_validation="when_required", retries={"max_attempts": 3, "mode": "standard"},
                 s3={"addressing_style": "path"})
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=procs.TEST_KEY,
                        aws_secret_access_key=procs.TEST_SECRET, region_name=procs.TEST_REGION, config=cfg)


def boto3_map(fn: Callable[[Any], Any], items: list[Any]) -> None:
    with ThreadPoolExecutor(BOTO_THREADS) as ex:
        for _ in ex.map(fn, items):
            pass


def split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def original(code: str, env: dict[str, str], payload: dict[str, Any]) -> float:
    """Run `code` in the original's venv; it reads PAYLOAD (a JSON file) and prints seconds taken."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(payload, f)
        path = f.name
    try:
        prelude = f"import json, time, s3dlio\nPAYLOAD = json.load(open({path!r}))\n"
        return float(run_original(prelude + code, env))
    finally:
        os.unlink(path)


def best_of(rounds: int, runners: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Interleave the runners `rounds` times; each returns seconds for one pass. Best (least) per runner."""
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, fn in runners.items():
            dt = fn()
            best[name] = min(dt, best.get(name, float("inf")))
    return best


def report(case: str, work: float, unit: str, secs: dict[str, float]) -> str:
    """`<case>: ours X unit | original Y unit (r.rrx) | boto3 Z unit (r.rx)` (ratios = ours / theirs)."""
    rate = {k: work / v for k, v in secs.items()}
    ours = rate["ours"]

    def fmt(v: float) -> str:
        return f"{v:,.0f}"

    parts = [f"{case}: ours {fmt(ours)} {unit}"]
    for other in ("original", "boto3"):
        if other in rate:
            parts.append(f"{other} {fmt(rate[other])} {unit} ({ours / rate[other]:.2f}x)")
    line = " | ".join(parts)
    print(line, flush=True)
    return line


def clock() -> float:
    return time.perf_counter()
