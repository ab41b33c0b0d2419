"""Data formats: what a read costs in bytes and time, and TFRecord writing, against references measured in
the same run (issue 10).

Cases (each client in a fresh process per round, rounds interleaved, medians; `_harness.py`):
1. NPZ on S3 (SeaweedFS on 127.0.0.1): `read_npz(uri, name)` of one 64 MiB STORED member of a 256 MiB
   archive, against a plain `get_range` of exactly that member's data bytes (and the original's read_npz,
   which reads S3 float32 members). The bytes every client moves are counted by an observer on
   `s3dlio_core.instrument` (for ours) and printed beside the rates.
2. TFRecord writing: 10,000 records of 100 KiB with both indexes (binary `.index`, DALI `.idx`) to file://
   through `TFRecordWriter`, against TensorFlow's `tf.io.TFRecordWriter` writing the same records (no index)
   to a local file.
3. Parquet on S3: `parquet_get_rg` of one row group, cold (a fresh process: the footer is read once, then
   the row group) and warm (another row group read first, so the store is set up and the footer cached),
   bytes counted against the row group's column-chunk bytes plus the footer; time against the original's
   `parquet_get_rg` of the same row group.

Usage: uv run python benchmarks/formats.py [--rounds 5] [--cases npz,tfrecord,parquet]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile

from _harness import Client, measure, report
from _s3_bench import MiB, procs

OBSERVER = """
from s3dlio_core import add_observer
MOVED = {"bytes": 0, "requests": 0}
def _count(rec):
    if rec.op in ("GET", "GET_RANGE"):
        MOVED["bytes"] += rec.bytes
        MOVED["requests"] += 1
add_observer(_count)
"""

# ---------------------------------------------------------------- 1. NPZ
NPZ_OURS = OBSERVER + """
import numpy, s3dlio  # numpy: imported before the clock, as in a user's process
def run(p):
    arr = s3dlio.read_npz(p["uri"], p["member"])
    EXTRA.update(MOVED)
    return arr.nbytes, arr
def check(arr, p):
    assert arr.nbytes == p["nbytes"] and float(arr[12345]) == p["probe"], (arr.nbytes, float(arr[12345]))
"""

NPZ_GET_RANGE = OBSERVER + """
import numpy, s3dlio
def run(p):
    data = s3dlio.get_range(p["uri"], p["offset"], p["nbytes"])
    EXTRA.update(MOVED)
    return len(data), data
def check(data, p):
    assert len(data) == p["nbytes"]
"""

NPZ_ORIGINAL = """
import numpy, s3dlio
def run(p):
    arr = s3dlio.read_npz(p["uri"], p["member"])
    return arr.nbytes, arr
def check(arr, p):
    assert arr.nbytes == p["nbytes"], arr.nbytes
"""


def npz_case(env: dict[str, str], rounds: int) -> None:
    import numpy as np
    import s3dlio

    members = {f"m{i}": np.random.default_rng(i).random(16 * MiB, dtype=np.float32) for i in range(4)}
    uri = "s3://bench-formats/npz/archive.npz"
    blob = s3dlio.build_multi_npz(members)
    s3dlio.put_bytes(uri, blob)
    import zipfile

    info = zipfile.ZipFile(io.BytesIO(bytes(blob))).getinfo("m2.npy")
    local = 30 + len(info.filename) + len(info.extra)
    hdr = 128  # NPY header of a 1-D float32 array written by build_multi_npz
    member = members["m2"]
    payload = {"uri": uri, "member": "m2", "nbytes": member.nbytes, "probe": float(member[12345]),
               "offset": info.header_offset + local + hdr}
    assert bytes(s3dlio.get_range(uri, payload["offset"], 16)) == member[:4].tobytes()
    print(f"\n# NPZ: read_npz of one 64 MiB STORED member of a {len(blob) / MiB:.0f} MiB archive on SeaweedFS",
          flush=True)
    clients = [Client("read_npz", NPZ_OURS, env=env), Client("get_range", NPZ_GET_RANGE, env=env),
               Client("original read_npz", NPZ_ORIGINAL, peer="original",
                      env={**env, "S3DLIO_ENABLE_RANGE_OPTIMIZATION": "0"})]
    res = measure("read_npz 64MiB member of 256MiB archive (S3)", clients, payload, rounds=rounds)
    report(res)
    for name in ("read_npz", "get_range"):
        moved = statistics.median(s.extra["bytes"] for s in res.samples[name])
        reqs = statistics.median(s.extra["requests"] for s in res.samples[name])
        print(f"    {name}: {moved:,.0f} bytes in {reqs:.0f} requests = member + {moved - member.nbytes:,.0f} "
              f"bytes ({(moved - member.nbytes) / MiB:.4f} MiB; the bound is 1 MiB)", flush=True)


# ---------------------------------------------------------------- 2. TFRecord writing
RECORDS_SETUP = """
import os, random, shutil, tempfile
rnd = random.Random(7)
POOL = [rnd.randbytes(PAYLOAD["size"]) for _ in range(64)]
RECORDS = [POOL[i % 64] for i in range(PAYLOAD["count"])]
DIR = tempfile.mkdtemp(prefix="bench-tfrecord-", dir=PAYLOAD["dir"])
def check(held, p):
    size = os.path.getsize(os.path.join(DIR, "train.tfrecord"))
    assert size == p["count"] * (p["size"] + 16), size
    shutil.rmtree(DIR)
"""

TF_OURS = RECORDS_SETUP + """
import s3dlio
def run(p):
    with s3dlio.TFRecordWriter("file://" + os.path.join(DIR, "train.tfrecord")) as w:  # .index and .idx too
        for r in RECORDS:
            w.write(r)
    return p["count"] * (p["size"] + 16)
"""

TF_TENSORFLOW = RECORDS_SETUP + """
import tensorflow as tf
def run(p):
    with tf.io.TFRecordWriter(os.path.join(DIR, "train.tfrecord")) as w:
        for r in RECORDS:
            w.write(r)
    return p["count"] * (p["size"] + 16)
"""


def tfrecord_case(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-formats-") as d:
        payload = {"count": 10_000, "size": 100 << 10, "dir": d}
        print("\n# TFRecord: 10,000 records of 100 KiB to a local file (ours: file:// with both indexes)",
              flush=True)
        env = {"TF_CPP_MIN_LOG_LEVEL": "3"}
        res = measure("TFRecord write 10000 x 100KiB", [Client("ours+indexes", TF_OURS, env=env),
                                                          Client("tf.io.TFRecordWriter", TF_TENSORFLOW, env=env)],
                      payload, rounds=rounds)
        report(res)


# ---------------------------------------------------------------- 3. Parquet
PQ_OURS = OBSERVER + """
import pyarrow, pyarrow.parquet, s3dlio  # pyarrow: imported before the clock (the original's is compiled in)
if PAYLOAD["warm"]:  # another row group first: the store is set up and the footer cached before the clock
    s3dlio.parquet_get_rg(PAYLOAD["uri"], 0, decode=PAYLOAD["decode"])
    MOVED.update(bytes=0, requests=0)
def run(p):
    bv = s3dlio.parquet_get_rg(p["uri"], p["rg"], decode=p["decode"])
    EXTRA.update(MOVED)
    return len(bv), bv
"""

PQ_ORIGINAL = """
import s3dlio
if PAYLOAD["warm"]:
    s3dlio.parquet_get_rg(PAYLOAD["uri"], 0, decode=PAYLOAD["decode"])
def run(p):
    bv = s3dlio.parquet_get_rg(p["uri"], p["rg"], decode=p["decode"])
    return len(bv), bv
"""


def parquet_case(env: dict[str, str], rounds: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import s3dlio

    uri = "s3://bench-formats/parquet/train.parquet"
    s3dlio.generate_and_write_parquet(uri, 64, 16 << 10, 16)  # 16 row groups of 4 MiB
    raw = bytes(s3dlio.get(uri))
    md = pq.ParquetFile(pa.BufferReader(raw)).metadata
    rg = 7
    g = md.row_group(rg)
    start = min(g.column(j).data_page_offset for j in range(g.num_columns))
    end = max(g.column(j).data_page_offset + g.column(j).total_compressed_size for j in range(g.num_columns))
    footer = md.serialized_size + 8
    print(f"\n# Parquet: parquet_get_rg of row group {rg} of {md.num_row_groups} ({(end - start) / MiB:.2f} MiB) "
          f"of a {len(raw) / MiB:.0f} MiB file on SeaweedFS; footer {footer:,} bytes", flush=True)
    for warm, decode in ((False, "raw"), (False, "arrow"), (True, "arrow")):
        payload = {"uri": uri, "rg": rg, "decode": decode, "warm": warm}
        how = "warm: footer cached, store set up" if warm else "cold: a fresh process"
        res = measure(f"parquet_get_rg decode={decode} (S3, {how})",
                      [Client("ours", PQ_OURS, env=env), Client("original", PQ_ORIGINAL, peer="original",
                                                                env={**env, "S3DLIO_ENABLE_RANGE_OPTIMIZATION": "0"})],
                      payload, rounds=rounds)
        report(res)
        s = res.samples["ours"][0]
        moved, reqs = s.extra["bytes"], s.extra["requests"]
        print(f"    ours moved {moved:,} bytes in {reqs} requests: row group {end - start:,} + footer read "
              f"{moved - (end - start):,} (the footer itself is {footer:,}); expected at most "
              f"{end - start + (0 if warm else max(footer, 64 << 10)):,}", flush=True)


# third-party packages these cases import in their timed code or their set-up
_PRECOMPILE = ("numpy", "pyarrow", "urllib3", "botocore", "boto3", "s3transfer", "jmespath", "dateutil", "google",
               "zstandard", "cryptography", "h5py", "tensorflow", "keras", "absl", "ml_dtypes", "wrapt",
               "opt_einsum", "rich", "requests", "charset_normalizer", "idna", "certifi", "jax", "jaxlib", "optree",
               "flatbuffers", "gast", "termcolor", "namex")


def precompile() -> None:
    """Byte-compile the workspace packages and the third-party packages the cases import.

    The environment sets PYTHONDONTWRITEBYTECODE and uv installs without .pyc files, so every fresh
    process would compile these modules from source (about a second of CPU in an S3 round of ours): an
    artefact of this machine that an installed wheel does not have. compileall skips up-to-date files."""
    import compileall
    import pathlib
    import site

    root = pathlib.Path(__file__).resolve().parent.parent
    dirs = [str(p) for p in sorted((root / "packages").glob("*/src"))]
    for sp in site.getsitepackages():
        dirs += [str(pathlib.Path(sp) / n) for n in _PRECOMPILE if (pathlib.Path(sp) / n).is_dir()]
    for d in dirs:
        compileall.compile_dir(d, quiet=2, workers=2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cases", default="npz,tfrecord,parquet")
    a = ap.parse_args()
    cases = {c.strip() for c in a.cases.split(",") if c.strip()}
    precompile()
    print(f"# formats benchmark: a fresh process per round, medians of {a.rounds} interleaved rounds; "
          f"ratios = first client / other; {os.cpu_count()} CPUs (numbers taken on a shared machine)", flush=True)
    if "tfrecord" in cases:
        tfrecord_case(a.rounds)
    if cases & {"npz", "parquet"}:
        with procs.running_seaweedfs() as server:
            env = procs.s3_env(server.endpoint)
            os.environ.update(env)
            import s3dlio

            s3dlio.create_bucket("bench-formats")
            if "npz" in cases:
                npz_case(env, a.rounds)
            if "parquet" in cases:
                parquet_case(env, a.rounds)
    print(json.dumps({"done": sorted(cases)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
