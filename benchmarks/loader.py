"""PyTorch data loading side by side on a SeaweedFS of our own (127.0.0.1) and on file://: ours
(s3dlio.torch) vs s3torchconnector 1.5 (S3MapDataset.from_prefix / S3IterableDataset.from_prefix,
path-style addressing) vs the original s3dlio 0.10.0's s3dlio.torch, with our own get_many over the same
objects as the ceiling; and on file://, ours vs a plain map-style Dataset doing open().read().

Shape: 2,000 objects of 128 KiB, DataLoader(batch_size=32), DataLoader workers 0 and 2 (fork), one epoch
per round, every sample a uint8 tensor, torch's intra-op threads at 1 in every client (on 2 shared cores
two OpenMP threads made torch.stack of one batch take ~0.45 s and hid the I/O); a fresh process per round (dataset construction, i.e. the
listing, is inside the timed part for every client), rounds interleaved, medians of --rounds. Each line
prints MB/s and client CPU-seconds per GB, with ours / other ratios (above 1: ours is faster); the
summary line gives samples/s and the targets: workers 0 >= 2.0x s3torchconnector, workers 2 >= 1.5x,
both >= 0.8x get_many; file:// >= 0.9x the plain Dataset. The original's s3dlio.torch hangs with
DataLoader workers (features §1.9), so it runs with workers 0 only.

--listing adds the listing case: 100,000 keys (100 prefixes x 1,000) listed by one serial recursive
listing vs core's parallel listing (split by common prefixes, 16 requests in flight).

Usage: uv run python benchmarks/loader.py [--rounds 3] [--objects 2000] [--size 131072] [--listing]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile

from _harness import CaseResult, Client, measure, report
from _peers import PEERS, WHEELS, Peer
from _s3_bench import procs

BATCH = 32
# the original s3dlio with torch (its s3dlio.torch needs torch), in a venv of its own
PEERS.setdefault("original-torch", Peer(
    "original-torch", ("s3dlio==0.10.0", "numpy", "torch==2.13.0+cpu"),
    "import s3dlio, torch, s3dlio.torch; print(s3dlio.__version__)", ("--find-links", WHEELS)))

_LOOP = """
torch.set_num_threads(1)  # as in DataLoader workers: collation must not fight the I/O for 2 loaded cores
def epoch(ds, workers):
    n = 0
    for batch in DataLoader(ds, batch_size=BATCH, num_workers=workers):
        n += batch.numel()
    return n
"""

OURS = f"""
import torch
from torch.utils.data import DataLoader
from s3dlio.torch import ObjectStoreIterableDataset, ObjectStoreMapDataset
BATCH = {BATCH}
{_LOOP}
def run(p):
    if p["kind"] == "map":
        ds = ObjectStoreMapDataset.from_prefix(p["prefix"])
    else:
        ds = ObjectStoreIterableDataset.from_prefix(p["prefix"], prefetch=p["prefetch"])
    return epoch(ds, p["workers"])
"""

ORIGINAL = f"""
import torch
from torch.utils.data import DataLoader
from s3dlio.torch import ObjectStoreIterableDataset, ObjectStoreMapDataset
BATCH = {BATCH}
{_LOOP}
def run(p):
    if p["kind"] == "map":
        ds = ObjectStoreMapDataset.from_prefix(p["prefix"])
    else:
        ds = ObjectStoreIterableDataset.from_prefix(p["prefix"])
    return epoch(ds, p["workers"])
"""

S3TORCH = f"""
import os, warnings
import torch
from torch.utils.data import DataLoader
from s3torchconnector import S3ClientConfig, S3IterableDataset, S3MapDataset
warnings.filterwarnings("ignore", message=".*not writable.*")
BATCH = {BATCH}
{_LOOP}
def to_tensor(obj):
    return torch.frombuffer(obj.read(), dtype=torch.uint8)
def run(p):
    kw = dict(region="us-east-1", endpoint=os.environ["AWS_ENDPOINT_URL"], transform=to_tensor,
              s3client_config=S3ClientConfig(force_path_style=True))
    if p["kind"] == "map":
        ds = S3MapDataset.from_prefix(p["prefix"], **kw)
    else:
        ds = S3IterableDataset.from_prefix(p["prefix"], enable_sharding=True, **kw)
    return epoch(ds, p["workers"])
"""

GET_MANY = """
import s3dlio
def run(p):
    res = s3dlio.get_many(s3dlio.list(p["prefix"], recursive=True), 64)
    return sum(len(v) for _, v in res), res
"""

PLAIN = f"""
import os, warnings
import torch
from torch.utils.data import DataLoader, Dataset
warnings.filterwarnings("ignore", message=".*not writable.*")
BATCH = {BATCH}
{_LOOP}
class Plain(Dataset):
    def __init__(self, root):
        self.paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
    def __len__(self):
        return len(self.paths)
    def __getitem__(self, i):
        with open(self.paths[i], "rb") as f:
            return torch.frombuffer(f.read(), dtype=torch.uint8)
def run(p):
    return epoch(Plain(p["root"]), p["workers"])
"""

LIST_SERIAL = """
from s3dlio_core import store_for_uri
def run(p):
    store, _ = store_for_uri(p["prefix"])
    n = sum(1 for i in store.list_info(p["prefix"], recursive=True) if not i.is_dir)
    assert n == p["keys"], n
    return n
"""

LIST_PARALLEL = """
from s3dlio_core import store_for_uri
from s3dlio_core.parallel_listing import list_info_parallel
def run(p):
    store, _ = store_for_uri(p["prefix"])
    n = len(list_info_parallel(store, p["prefix"], max_in_flight=16))
    assert n == p["keys"], n
    return n
"""


def _samples_per_s(res: CaseResult, name: str, n: int) -> float:
    return n / statistics.median(s.wall for s in res.samples[name])


def _wanted(case: str, cases: str) -> bool:
    return not cases or any(c.strip() and c.strip() in case for c in cases.split(","))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--objects", type=int, default=2000)
    ap.add_argument("--size", type=int, default=128 << 10)
    ap.add_argument("--prefetch", type=int, default=0, help="ours: the iterable dataset's prefetch (0 = auto)")
    ap.add_argument("--listing", action="store_true", help="also list 100,000 keys, serial vs parallel")
    ap.add_argument("--skip-loaders", action="store_true")
    ap.add_argument("--cases", default="", help="only these cases, comma-separated substrings "
                                               "(e.g. 's3 map,file')")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    n, size = args.objects, args.size
    with procs.running_seaweedfs() as server:
        env = procs.s3_env(server.endpoint)
        os.environ.update(env)
        import s3dlio

        bucket = "bench-loader"
        s3dlio.create_bucket(bucket)
        prefix = f"s3://{bucket}/train/"
        print(f"SeaweedFS {server.endpoint}; {n} objects of {size >> 10} KiB, DataLoader(batch_size={BATCH}); "
              f"a fresh process per round (listing included); medians of {args.rounds} interleaved rounds; "
              f"ratios = ours / other", flush=True)
        if not args.skip_loaders:
            payload = os.urandom(size)
            s3dlio.put_many([(f"{prefix}part{i % 8}/sample-{i:06d}.bin", payload) for i in range(n)], 32)
            ours = Client("ours", OURS, env=env)
            ceiling = Client("get_many", GET_MANY, env=env)
            s3torch = Client("s3torchconnector", S3TORCH, peer="s3torch", env=env)
            original = Client("original", ORIGINAL, peer="original-torch", env=env)
            summary = []
            for workers in (0, 2):
                for kind in ("map", "iterable"):
                    clients = [ours, s3torch, ceiling] + ([original] if workers == 0 else [])
                    case = f"s3 {kind} workers={workers}"
                    if not _wanted(case, args.cases):
                        continue
                    res = measure(case, clients, {"prefix": prefix, "kind": kind, "workers": workers,
                                                  "prefetch": args.prefetch}, rounds=args.rounds,
                                  quiet=not args.verbose)
                    report(res)
                    rates = {c.name: _samples_per_s(res, c.name, n) for c in clients}
                    target = 2.0 if workers == 0 else 1.5
                    vs_s3t = rates["ours"] / rates["s3torchconnector"]
                    vs_ceiling = rates["ours"] / rates["get_many"]
                    line = (f"  {case}: ours {rates['ours']:,.0f} samples/s, s3torchconnector "
                            f"{rates['s3torchconnector']:,.0f}, get_many {rates['get_many']:,.0f}"
                            + (f", original {rates['original']:,.0f}" if "original" in rates else "")
                            + f" -> {vs_s3t:.2f}x s3torchconnector (target {target}x: "
                            f"{'met' if vs_s3t >= target else 'NOT met'}), {vs_ceiling:.2f}x get_many "
                            f"(target 0.8x: {'met' if vs_ceiling >= 0.8 else 'NOT met'})")
                    print(line, flush=True)
                    summary.append(line)
            with tempfile.TemporaryDirectory(prefix="s3dlio-loader-bench-") as tmp:
                root = os.path.join(tmp, "train")
                for i in range(n):
                    d = os.path.join(root, f"part{i % 8}")
                    os.makedirs(d, exist_ok=True)
                    with open(os.path.join(d, f"sample-{i:06d}.bin"), "wb") as f:
                        f.write(payload)
                plain = Client("plain Dataset", PLAIN)
                for workers in (0, 2):
                    case = f"file map workers={workers}"
                    if not _wanted(case, args.cases):
                        continue
                    res = measure(case, [Client("ours", OURS), plain],
                                  {"prefix": f"file://{root}/", "root": root, "kind": "map", "workers": workers,
                                   "prefetch": args.prefetch}, rounds=args.rounds, quiet=not args.verbose)
                    report(res)
                    r = _samples_per_s(res, "ours", n) / _samples_per_s(res, "plain Dataset", n)
                    line = (f"  {case}: ours {_samples_per_s(res, 'ours', n):,.0f} samples/s, plain Dataset "
                            f"{_samples_per_s(res, 'plain Dataset', n):,.0f} -> {r:.2f}x (target 0.9x: "
                            f"{'met' if r >= 0.9 else 'NOT met'})")
                    print(line, flush=True)
                    summary.append(line)
            print("summary:", *summary, sep="\n", flush=True)
        if args.listing:
            keys = 100_000
            lp = f"s3://{bucket}/listing/"
            print(f"uploading {keys} keys for the listing case ...", flush=True)
            s3dlio.put_many([(f"{lp}p{i // 1000:03d}/k{i:06d}", b"x") for i in range(keys)], 64)
            res = measure(f"list {keys} keys (100 prefixes)", [Client("parallel", LIST_PARALLEL, env=env),
                                                                Client("serial", LIST_SERIAL, env=env)],
                          {"prefix": lp, "keys": keys}, rounds=args.rounds, quiet=not args.verbose)
            par = _samples_per_s(res, "parallel", keys)
            ser = _samples_per_s(res, "serial", keys)
            print(f"list {keys} keys on SeaweedFS: parallel (16 in flight) {par:,.0f} keys/s "
                  f"({keys / par:.2f} s), serial {ser:,.0f} keys/s ({keys / ser:.2f} s) -> {par / ser:.2f}x",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
