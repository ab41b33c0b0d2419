"""Checkpoint save and load: ours against torch and s3torchconnector, measured in the same run.

A state dict of float32 tensors (default 1 GiB: layers of a 4096x4096 weight, 64 MiB, and a 4096 bias;
--size-mb for smaller runs) is saved and loaded by each client in a fresh process per round, rounds
interleaved, medians (see _harness.py). The state dict is built (torch.empty + normal_, in place) before
the clock starts; a load fills a preallocated state dict of the same shape, as DCP does.

file:// (a directory under --dir, default /tmp; every client's file is freshly written, so loads read from
the page cache for all of them alike):
  * spec:  s3dlio.save_checkpoint(uri=..., data=state) / s3dlio.load_checkpoint(uri)   [n/a until present]
           vs torch.save / torch.load(weights_only=True) on a local file
  * DCP:   dcp.save/load with our StorageWriter/StorageReader vs torch's FileSystemWriter/FileSystemReader
           (both thread_count=4; FileSystemWriter with sync_files=False, as ours does not fsync)
S3 (a SeaweedFS of our own on 127.0.0.1):
  * stream: torch.save into our store's open_writer / torch.load from open_reader ("ours-stream"), and the
           spec functions ("ours-spec", n/a until present), vs s3torchconnector's S3Checkpoint
           writer/reader (torch.save / torch.load)
  * DCP:   our StorageWriter/StorageReader vs s3torchconnector's S3StorageWriter / S3StorageReader
           (thread_count=4 both; its reader with its default dcp_optimized reader constructor)
For every save: the peak RSS above the state dict (ru_maxrss after the save minus after building it).

Usage: uv run python benchmarks/checkpoint.py [--size-mb 1024] [--rounds 3] [--only file|s3] [--clients a,b] [--verbose]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import uuid

from _harness import CaseResult, Client, measure, report
from _s3_bench import procs

MiB = 1 << 20
THREADS = 4

# the state dict every client builds at its top level (untimed); mark() notes the RSS high-water mark
_STATE = """
import os, resource, torch
def layer(i, empty=False):
    w = torch.empty(4096, 4096)
    b = torch.empty(4096)
    if empty:
        w.zero_(); b.zero_()
    else:
        g = torch.Generator().manual_seed(i)
        w.normal_(generator=g); b.normal_(generator=g)
    return w, b
def make_state(size_mb, empty=False):
    state = {}
    for i in range(max(1, size_mb // 64)):
        state[f"layer{i}.weight"], state[f"layer{i}.bias"] = layer(i, empty)
    return state
def nbytes(state):
    return sum(t.numel() * t.element_size() for t in state.values())
STATE = make_state(PAYLOAD["size_mb"], empty=PAYLOAD.get("empty", False))
def mark():  # run's first line: the RSS high-water mark with the state dict built, every import done
    EXTRA["rss0_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

_CHECK_LOAD = """
def check(held, p):
    for i in range(max(1, p["size_mb"] // 64)):
        w, b = layer(i)
        assert torch.equal(held[f"layer{i}.weight"], w) and torch.equal(held[f"layer{i}.bias"], b), i
"""

# ---- file:// ----
def _fresh(target: str) -> str:
    """Module code run before a file:// save round's clock: remove what this client's last round wrote and
    sync, so that no client pays for another's (or its own earlier) dirty pages being written back, and
    one that overwrites a file does not gain from the kernel dropping the old file's unwritten pages."""
    return f"""
import os as _os, shutil as _shutil
if "path" in PAYLOAD:  # file:// rounds only (the S3 rounds reuse some file:// clients)
    _t = PAYLOAD["path"] + {target!r}
    _shutil.rmtree(_t, ignore_errors=True) if _os.path.isdir(_t) else (_os.path.exists(_t) and _os.unlink(_t))
    _os.sync()
"""


FILE_SAVE = {
    "ours-spec": _STATE
    + _fresh("/spec")
    + """
import s3dlio
def run(p):
    mark()
    s3dlio.save_checkpoint(uri=p["uri"] + "spec/", data=STATE)
    return nbytes(STATE)
""",
    "torch-file": _STATE
    + _fresh("/model.pt")
    + """
def run(p):
    mark()
    torch.save(STATE, p["path"] + "/model.pt")
    return nbytes(STATE)
""",
    "ours-dcp": _STATE
    + _fresh("/ours-dcp")
    + """
import torch.distributed.checkpoint as dcp
from s3dlio.torch.dcp import StorageWriter
def run(p):
    mark()
    dcp.save(STATE, storage_writer=StorageWriter(p["uri"] + "ours-dcp/", thread_count=p["threads"]))
    return nbytes(STATE)
""",
    "torch-dcp": _STATE
    + _fresh("/torch-dcp")
    + """
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint import FileSystemWriter
def run(p):
    mark()
    dcp.save(STATE, storage_writer=FileSystemWriter(p["path"] + "/torch-dcp", thread_count=p["threads"],
                                                    sync_files=False))
    return nbytes(STATE)
""",
}

FILE_LOAD = {
    "ours-spec": _STATE
    + """
import s3dlio
def run(p):
    mark()
    out = s3dlio.load_checkpoint(p["uri"] + "spec/")
    return nbytes(STATE), out
"""
    + _CHECK_LOAD,
    "torch-file": _STATE
    + """
def run(p):
    mark()
    out = torch.load(p["path"] + "/model.pt", weights_only=True)
    return nbytes(out), out
"""
    + _CHECK_LOAD,
    "ours-dcp": _STATE
    + """
import torch.distributed.checkpoint as dcp
from s3dlio.torch.dcp import StorageReader
def run(p):
    mark()
    dcp.load(STATE, storage_reader=StorageReader(p["uri"] + "ours-dcp/", thread_count=p["threads"]))
    return nbytes(STATE), STATE
"""
    + _CHECK_LOAD,
    "torch-dcp": _STATE
    + """
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint import FileSystemReader
def run(p):
    mark()
    dcp.load(STATE, storage_reader=FileSystemReader(p["path"] + "/torch-dcp"))
    return nbytes(STATE), STATE
"""
    + _CHECK_LOAD,
}

# ---- S3 ----
_S3TORCH = """
from s3torchconnector import S3Checkpoint, S3ClientConfig
from s3torchconnector._s3client import S3Client
CFG = S3ClientConfig(force_path_style=True)
EP = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ["AWS_REGION"]
"""

S3_SAVE = {
    "ours-stream": _STATE
    + """
from s3dlio_core.registry import store_for_uri
def run(p):
    mark()
    store = store_for_uri(p["uri"])[0]
    with store.open_writer(p["uri"] + "stream/model.pt") as w:
        torch.save(STATE, w)
    return nbytes(STATE)
""",
    "ours-spec": FILE_SAVE["ours-spec"],
    "s3torch-ckpt": _STATE
    + _S3TORCH
    + """
ckpt = S3Checkpoint(REGION, endpoint=EP, s3client_config=CFG)
def run(p):
    mark()
    with ckpt.writer(p["uri"] + "s3torch/model.pt") as w:
        torch.save(STATE, w)
    return nbytes(STATE)
""",
    "ours-dcp": FILE_SAVE["ours-dcp"],
    "s3torch-dcp": _STATE
    + _S3TORCH
    + """
import torch.distributed.checkpoint as dcp
from s3torchconnector.dcp import S3StorageWriter
from s3torchconnector.dcp.s3_file_system import S3FileSystem
def run(p):
    mark()
    w = S3StorageWriter(REGION, p["uri"] + "s3torch-dcp/", s3client_config=CFG, thread_count=p["threads"])
    w.fs = S3FileSystem(REGION, s3_client=S3Client(REGION, endpoint=EP, s3client_config=CFG))
    dcp.save(STATE, storage_writer=w)
    return nbytes(STATE)
""",
}

S3_LOAD = {
    "ours-stream": _STATE
    + """
from s3dlio_core.registry import store_for_uri
def run(p):
    mark()
    store = store_for_uri(p["uri"])[0]
    with store.open_reader(p["uri"] + "stream/model.pt") as r:
        out = torch.load(r, weights_only=True)
    return nbytes(out), out
"""
    + _CHECK_LOAD,
    "ours-spec": FILE_LOAD["ours-spec"],
    "s3torch-ckpt": _STATE
    + _S3TORCH
    + """
ckpt = S3Checkpoint(REGION, endpoint=EP, s3client_config=CFG)
def run(p):
    mark()
    with ckpt.reader(p["uri"] + "s3torch/model.pt") as r:
        out = torch.load(r, weights_only=True)
    return nbytes(out), out
"""
    + _CHECK_LOAD,
    "ours-dcp": FILE_LOAD["ours-dcp"],
    "s3torch-dcp": _STATE
    + _S3TORCH
    + """
import torch.distributed.checkpoint as dcp
from s3torchconnector.dcp import S3StorageReader
from s3torchconnector.dcp.s3_file_system import S3FileSystem
from s3torchconnector import S3ReaderConstructor
def run(p):
    mark()
    r = S3StorageReader(REGION, p["uri"] + "s3torch-dcp/", s3client_config=CFG)
    r.fs = S3FileSystem(REGION, s3_client=S3Client(REGION, endpoint=EP, s3client_config=CFG),
                        reader_constructor=r._reader_constructor)
    dcp.load(STATE, storage_reader=r)
    return nbytes(STATE), STATE
"""
    + _CHECK_LOAD,
}

PEER = {"s3torch-ckpt": "s3torch", "s3torch-dcp": "s3torch"}


def _spec_available() -> bool:
    """Whether s3dlio's checkpoint functions take the spec's form (save_checkpoint(uri=..., data=...))."""
    import inspect

    import s3dlio

    fn = getattr(s3dlio, "save_checkpoint", None)
    if fn is None or not hasattr(s3dlio, "load_checkpoint"):
        return False
    try:
        inspect.signature(fn).bind(uri="x", data={})
    except TypeError:
        return False
    return True


def _clients(codes: dict[str, str], names: list[str], env: dict[str, str]) -> list[Client]:
    return [Client(n, codes[n], peer=PEER.get(n), env=env) for n in names]


def _rss_line(res: CaseResult) -> None:
    bits = []
    for name, samples in res.samples.items():
        grow = statistics.median((s.maxrss_kb - s.extra.get("rss0_kb", 0)) / 1024 for s in samples)
        bits.append(f"{name} {grow:,.0f} MiB")
    print(
        f"    peak RSS above the state dict during the save (part size 16 MiB): {', '.join(bits)}", flush=True
    )


def _subset(res: CaseResult, case: str, names: list[str]) -> CaseResult:
    return CaseResult(case, {n: res.samples[n] for n in names if n in res.samples})


def _cases(
    where: str,
    save: dict[str, str],
    load: dict[str, str],
    names: list[str],
    lines: list[tuple[str, list[str]]],
    payload: dict,
    env: dict[str, str],
    args: argparse.Namespace,
    spec: bool,
) -> None:
    """Save rounds of every client, then load rounds of what the last save round wrote (all clients
    interleaved in each); then one printed line per comparison in `lines` (label, clients: first = ours)."""
    if not spec:
        print(
            f"{where}: ours-spec n/a (s3dlio.save_checkpoint(uri=..., data=...) is not on this branch yet)",
            flush=True,
        )
        names = [n for n in names if n != "ours-spec"]
    if args.clients:
        names = [n for n in names if n in args.clients.split(",")]
    size = payload["size_mb"]
    for op, codes, pl in (("save", save, payload), ("load", load, {**payload, "empty": True})):
        res = measure(
            f"{where} {op}",
            _clients(codes, names, env),
            pl,
            rounds=args.rounds,
            quiet=not args.verbose,
            timeout=1800,
        )
        for label, group in lines:
            if group[0] in res.samples:
                sub = _subset(res, f"{where} {label} {op} {size} MiB", group)
                report(sub, ranges=False)
                if op == "save":
                    _rss_line(sub)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024, help="state dict size (multiples of 64 MiB)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=("file", "s3"), default=None)
    ap.add_argument("--clients", default=None, help="comma-separated client names to run (default: all)")
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where the file:// checkpoints go")
    ap.add_argument("--verbose", action="store_true", help="print every round")
    args = ap.parse_args()
    spec = _spec_available()
    size_mb = max(64, args.size_mb // 64 * 64)
    print(
        f"state dict: {size_mb // 64} x (4096x4096 + 4096) float32 = {size_mb} MiB; a fresh process per "
        f"round; medians of {args.rounds} interleaved rounds; ratios = first client / other",
        flush=True,
    )
    if args.only in (None, "file"):
        path = os.path.join(args.dir, f"ckpt-bench-{uuid.uuid4().hex[:8]}")
        os.makedirs(path)
        try:
            payload = {"size_mb": size_mb, "path": path, "uri": f"file://{path}/", "threads": THREADS}
            _cases(
                "file://",
                FILE_SAVE,
                FILE_LOAD,
                ["ours-spec", "ours-dcp", "torch-file", "torch-dcp"],
                [
                    ("spec", ["ours-spec", "torch-file", "torch-dcp"]),
                    ("DCP", ["ours-dcp", "torch-dcp", "torch-file"]),
                ],
                payload,
                {},
                args,
                spec,
            )
        finally:
            shutil.rmtree(path, ignore_errors=True)
    if args.only in (None, "s3"):
        with procs.running_seaweedfs() as server:
            env = procs.s3_env(server.endpoint)
            os.environ.update(env)
            import s3dlio

            bucket = "bench-ckpt"
            s3dlio.create_bucket(bucket)
            payload = {"size_mb": size_mb, "uri": f"s3://{bucket}/run/", "threads": THREADS}
            print(f"SeaweedFS {server.endpoint}", flush=True)
            _cases(
                "S3",
                S3_SAVE,
                S3_LOAD,
                ["ours-stream", "ours-spec", "s3torch-ckpt", "ours-dcp", "s3torch-dcp"],
                [
                    ("spec", ["ours-spec", "s3torch-ckpt"]),
                    ("torch.save stream", ["ours-stream", "s3torch-ckpt"]),
                    ("DCP", ["ours-dcp", "s3torch-dcp"]),
                ],
                payload,
                env,
                args,
                spec,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
