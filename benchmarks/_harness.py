"""Side-by-side benchmark rounds: each client's round in a fresh subprocess, rounds interleaved across the
clients, medians printed as MB/s and client CPU-seconds per GB with ratios against the other clients
measured in the same run.

Why this shape: a fresh process per round means nothing is warm (no pooled connections, no faulted-in
result memory, no JIT-ish caches), which is what a job that starts, reads its data and exits sees;
interleaving the clients (and rotating who goes first) spreads the drift of a shared machine over all of
them; medians of several rounds resist the odd slow one; the CPU beside the rate shows what the speed costs.

A client is the source of a module that defines `run(payload)`; everything at its top level is set-up
(imports, client objects: not timed). The child process then times only `run(payload)`:
    wall        time.perf_counter() around the call
    cpu         user + sys CPU seconds of the whole process (every thread) across the call, children
                included (os.times()); reported as CPU-seconds per GB moved
    nbytes      what `run` returns: an int, or `(nbytes, held)`, where `held` (the results, typically)
                stays referenced until the clock has stopped, so freeing them is not timed
    faults      minor/major page faults and context switches across the call (getrusage), for profiling
If the module also defines `check(held, payload)`, it runs after the clock stops (verify results there).
Anything `run` puts in the dict `EXTRA` (a module global) is returned in `Sample.extra`.

How another benchmark uses it::

    from _harness import Client, measure, report
    ours = Client("ours", '''
    import s3dlio
    def run(p):
        res = s3dlio.get_many(p["uris"], max_in_flight=16)
        return sum(len(v) for _, v in res), res
    ''', env=s3_env)                                   # env: extra variables for the child
    orig = Client("original", ours.code, peer="original", env={**s3_env, "S3DLIO_...": "0"})
    res = measure("1MiB GET x256", [ours, orig], {"uris": uris}, rounds=5)
    report(res)      # prints: 1MiB GET x256: ours 812 MB/s 0.61 CPU-s/GB | original 769 MB/s ... (1.06x, ...)

`peer` names a venv from `_peers.py` ("original", "boto3", "obstore", "s3torch"; None or "ours" = the
workspace venv); `pythonpath` puts source directories first on the child's sys.path (s3_get_compare.py's
--baseline runs an older checkout of ours this way, beside the current one). The payload goes to the child as a JSON file, so it must be JSON-serialisable. The first
client is the reference: every ratio is first client / other (MB/s: above 1 means the first is faster;
CPU: below 1 means the first is cheaper). `report(res, unit="req/s", ops=n)` prints request rates for
small-object cases. `measure(..., quiet=False)` prints each round as it finishes.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _peers import compile_dir, ensure_bytecode, peer_env, python_for

__all__ = ["Client", "Sample", "CaseResult", "measure", "report", "run_round"]

_MARK = "__HARNESS_RESULT__ "

# The child: load the job, run the client's set-up, time run(payload), print one marked JSON line.
_CHILD = r'''
import gc, json, os, resource, sys, time
with open(sys.argv[1]) as f:
    job = json.load(f)
payload = job["payload"]
ns = {"__name__": "__bench_client__", "PAYLOAD": payload, "EXTRA": {}}
exec(compile(job["code"], "<client " + job["name"] + ">", "exec"), ns)
run = ns["run"]
gc.collect()
r0 = resource.getrusage(resource.RUSAGE_SELF); c0 = os.times(); t0 = time.perf_counter()
out = run(payload)
t1 = time.perf_counter(); c1 = os.times(); r1 = resource.getrusage(resource.RUSAGE_SELF)
held = None
if isinstance(out, tuple):
    out, held = out
cpu = (c1.user - c0.user) + (c1.system - c0.system) + (c1.children_user - c0.children_user) \
    + (c1.children_system - c0.children_system)
if "check" in ns:
    ns["check"](held, payload)
del held
res = {"wall": t1 - t0, "cpu": cpu, "user": c1.user - c0.user, "sys": c1.system - c0.system,
       "nbytes": int(out), "minflt": r1.ru_minflt - r0.ru_minflt, "majflt": r1.ru_majflt - r0.ru_majflt,
       "nvcsw": r1.ru_nvcsw - r0.ru_nvcsw, "nivcsw": r1.ru_nivcsw - r0.ru_nivcsw,
       "maxrss_kb": r1.ru_maxrss, "extra": ns.get("EXTRA", {})}
sys.stdout.flush()
print("__HARNESS_RESULT__ " + json.dumps(res), flush=True)
'''


@dataclass(frozen=True)
class Client:
    """One contender: `code` defines `run(payload)` (see the module docstring); `peer` picks its venv."""

    name: str
    code: str
    peer: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    pythonpath: tuple[str, ...] = ()  # source directories put first on sys.path (e.g. another checkout)


@dataclass
class Sample:
    """One round of one client, measured inside its process (see the module docstring)."""

    wall: float
    cpu: float
    nbytes: int
    user: float = 0.0
    sys: float = 0.0
    minflt: int = 0
    majflt: int = 0
    nvcsw: int = 0
    nivcsw: int = 0
    maxrss_kb: int = 0
    process_cpu: float = 0.0  # the child's whole-life CPU (imports and set-up included), from the parent
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mbps(self) -> float:
        return self.nbytes / self.wall / 1e6 if self.wall > 0 else 0.0

    @property
    def cpu_per_gb(self) -> float:
        return self.cpu / (self.nbytes / 1e9) if self.nbytes else float("nan")


@dataclass
class CaseResult:
    """Every round of every client in one case, in client order."""

    case: str
    samples: dict[str, list[Sample]]

    def median(self, name: str, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples[name])

    def spread(self, name: str, attr: str) -> tuple[float, float]:
        vals = [getattr(s, attr) for s in self.samples[name]]
        return min(vals), max(vals)


def run_round(client: Client, payload: Any, timeout: float = 900) -> Sample:
    """Run one timed round of `client` in a fresh process and return what it measured."""
    py = python_for(client.peer or "ours")
    ensure_bytecode(client.peer or "ours")
    for d in client.pythonpath:
        compile_dir(py, d)
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="bench-job-", delete=False) as f:
        json.dump({"name": client.name, "code": textwrap.dedent(client.code), "payload": payload}, f)
        job = f.name
    env = peer_env(client.env)
    if client.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(client.pythonpath)
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run([py, "-c", _CHILD, job], env=env, text=True, capture_output=True,
                              timeout=timeout)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        os.unlink(job)
    line = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith(_MARK)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"benchmark client {client.name!r} failed (exit {proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    data = json.loads(line[len(_MARK):])
    s = Sample(**data)
    s.process_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return s


def measure(case: str, clients: Sequence[Client], payload: Any, rounds: int = 5, quiet: bool = True,
            timeout: float = 900) -> CaseResult:
    """`rounds` rounds of every client, interleaved (round r starts with client r mod n), each in a
    fresh process. The payload is the same for all (each client's code interprets it)."""
    if not clients:
        raise ValueError("measure needs at least one client")
    names = [c.name for c in clients]
    if len(set(names)) != len(names):
        raise ValueError(f"client names must be unique: {names}")
    samples: dict[str, list[Sample]] = {c.name: [] for c in clients}
    n = len(clients)
    for r in range(rounds):
        for j in range(n):
            c = clients[(r + j) % n]
            s = run_round(c, payload, timeout)
            samples[c.name].append(s)
            if not quiet:
                print(f"  [{case}] round {r + 1} {c.name}: {s.mbps:,.0f} MB/s, {s.cpu_per_gb:.2f} CPU-s/GB, "
                      f"CPU {s.cpu / s.wall:.0%}, {s.minflt} minor faults", flush=True)
    return CaseResult(case, samples)


def _num(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}" if v >= 10 else f"{v:.2f}"


def report(res: CaseResult, unit: str = "MB/s", ops: int | None = None, ranges: bool = True) -> str:
    """Print and return the case's line: per client the median rate and the median CPU-s/GB; for every
    client after the first, the first's ratio to it (rate ratio, CPU ratio). With `ranges`, a second
    line gives each client's min-max rate and median CPU %.

    `unit` "MB/s" (10^6 bytes per second) or "req/s" (then `ops` = requests per round is required)."""
    if unit not in ("MB/s", "req/s"):
        raise ValueError(f"unit must be 'MB/s' or 'req/s', not {unit!r}")
    if unit == "req/s" and not ops:
        raise ValueError("unit 'req/s' needs ops (requests per round)")
    names = list(res.samples)

    def rate(name: str) -> float:
        if unit == "MB/s":
            return res.median(name, "mbps")
        return statistics.median(ops / s.wall for s in res.samples[name])  # type: ignore[operator]

    first = names[0]
    r0, c0 = rate(first), res.median(first, "cpu_per_gb")
    parts = [f"{res.case}: {first} {_num(r0)} {unit} {c0:.2f} CPU-s/GB"]
    for name in names[1:]:
        r, c = rate(name), res.median(name, "cpu_per_gb")
        parts.append(f"{name} {_num(r)} {unit} {c:.2f} CPU-s/GB ({r0 / r:.2f}x, CPU {c0 / c:.2f}x)")
    line = " | ".join(parts)
    print(line, flush=True)
    if ranges:
        bits = []
        for name in names:
            if unit == "MB/s":
                lo, hi = res.spread(name, "mbps")
            else:
                vals = [ops / s.wall for s in res.samples[name]]  # type: ignore[operator]
                lo, hi = min(vals), max(vals)
            cpu_pct = statistics.median(s.cpu / s.wall for s in res.samples[name])
            bits.append(f"{name} {_num(lo)}-{_num(hi)} (CPU {cpu_pct:.0%})")
        print(f"    ranges over {len(res.samples[first])} rounds: " + ", ".join(bits), flush=True)
    return line
