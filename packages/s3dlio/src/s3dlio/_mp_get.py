"""mp_get: GET a numbered set of objects from several processes at once (any store) and report throughput.

Per-request Python work holds the GIL, so small-object GET rates scale with processes, not threads. Each
worker process GETs its shard of the keys with `jobs` requests in flight and discards the data. Workers
are plain `python -m s3dlio._mp_get` subprocesses (like the original's s3-cli workers): no fork of a
threaded parent and no re-import of the caller's `__main__`. They start the clock together: each one
sets up, says "ready", and waits for "go", so process start-up is not counted as transfer time.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from s3dlio_core import validate_max_in_flight
from s3dlio_core.uri import parse_uri, scheme_of

__all__ = ["mp_get", "mp_get_uris"]


def mp_get_uris(uri: str, num: int, template: str = "object_{}.dat") -> list[str]:
    """The URIs mp_get reads: `uri` + template with `{}` -> index (no `{}`: index appended)."""
    scheme = scheme_of(uri)
    base = uri if (scheme in ("file", "direct") or "/" in uri.split("://", 1)[1]) else uri + "/"
    parse_uri(base)  # bad URIs fail here, naming the URI
    if "{}" in template:
        return [base + template.replace("{}", str(i)) for i in range(num)]
    return [base + template + str(i) for i in range(num)]


class _Shard:
    """One worker's share: set up first (store, connections), then `run()` GETs and counts."""

    def __init__(self, worker_id: int, uris: list[str], jobs: int) -> None:
        from s3dlio_core import store_for_uri

        self.worker_id, self.uris, self.jobs = worker_id, uris, jobs
        self.store = store_for_uri(uris[0])[0] if uris else None

    def run(self) -> dict[str, Any]:
        from s3dlio_core import bounded_map

        get = self.store.get if self.store is not None else None

        def one(u: str) -> int:
            try:
                return len(get(u))  # type: ignore[misc]
            except Exception:
                return -1

        t0 = time.time()
        sizes = bounded_map(one, self.uris, max(1, min(self.jobs, len(self.uris))))
        t1 = time.time()
        ok = [s for s in sizes if s >= 0]
        nbytes = sum(ok)
        return {"worker_id": self.worker_id, "attempted": len(self.uris), "succeeded": len(ok),
                "failed": len(self.uris) - len(ok), "bytes": nbytes, "objects": len(ok),
                "throughput_mb_s": nbytes / max(t1 - t0, 1e-9) / 1e6, "_start": t0, "_end": t1}


def _run_workers(tasks: list[tuple[int, list[str], int]], op_log: str | None = None) -> list[dict[str, Any]]:
    """One worker subprocess per shard: key list in a file, "ready"/"go" barrier, stats as JSON out.

    With `op_log`, each worker records its operations to `<op_log>.<pid>` (the op-log tools read a run's
    log together with its workers' logs)."""
    import json
    import subprocess
    import tempfile

    from s3dlio_core import S3dlioError

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    with tempfile.TemporaryDirectory(prefix="s3dlio-mp-get-") as tmp:
        procs: list[subprocess.Popen[bytes]] = []
        errs = []
        try:
            for wid, shard, jobs in tasks:
                keylist = os.path.join(tmp, f"shard-{wid}.txt")
                with open(keylist, "w") as f:
                    f.write("\n".join(shard))
                err = open(os.path.join(tmp, f"err-{wid}.txt"), "w+b")  # noqa: SIM115 - closed below
                errs.append(err)
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "s3dlio._mp_get", str(wid), str(jobs), keylist,
                     *([op_log] if op_log else [])],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env))
            for k, (p, (wid, _, _)) in enumerate(zip(procs, tasks, strict=True)):  # everyone set up ...
                assert p.stdout is not None
                if p.stdout.readline().strip() != b"ready":
                    raise S3dlioError(f"mp_get worker {wid} failed to start: {_tail(errs[k], p)}")
            for p in procs:  # ... then all start together
                assert p.stdin is not None
                p.stdin.write(b"go\n")
                p.stdin.close()
            out = []
            for k, (p, (wid, shard, _)) in enumerate(zip(procs, tasks, strict=True)):
                assert p.stdout is not None
                data = p.stdout.read()
                if p.wait() != 0:
                    raise S3dlioError(f"mp_get worker {wid} failed (exit {p.returncode}): {_tail(errs[k], p)}",
                                      shard[0] if shard else None)
                out.append(json.loads(data.decode().strip().splitlines()[-1]))
            return out
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                for s in (p.stdin, p.stdout):
                    if s is not None and not s.closed:
                        s.close()
            for e in errs:
                e.close()


def _tail(err: Any, p: Any) -> str:
    p.wait()
    err.seek(0)
    lines = err.read().decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no message"


def mp_get(uri: str, procs: int = 4, jobs: int = 64, num: int = 1000, template: str = "object_{}.dat",
           *, op_log: str | None = None) -> dict[str, Any]:
    """GET `num` objects named by `template` under `uri` from `procs` processes, `jobs` in flight each.

    Returns attempted, succeeded, failed, total_bytes, bytes_source, duration_seconds, throughput_mb_s,
    ops_per_sec, total_objects and per-worker stats in `workers`. Failed GETs are counted, not raised.
    `op_log`: record each worker's operations to `<op_log>.<worker pid>`.
    """
    validate_max_in_flight(procs, "procs")
    validate_max_in_flight(jobs, "jobs")
    if isinstance(num, bool) or not isinstance(num, int) or num < 0:
        raise ValueError(f"num must be an int >= 0, got {num!r}")
    if scheme_of(uri) == "memory":
        from s3dlio_core.errors import UnsupportedOperationError

        raise UnsupportedOperationError(f"mp_get cannot read {uri}: memory:// objects live in this process "
                                        "and its worker processes cannot see them", uri)
    uris = mp_get_uris(uri, num, template)
    nproc = max(1, min(procs, len(uris)))
    tasks = [(i, uris[i::nproc], jobs) for i in range(nproc) if uris[i::nproc]]
    t0 = time.time()
    workers = [_Shard(*t).run() for t in tasks] if len(tasks) <= 1 and not op_log else _run_workers(tasks, op_log)
    t1 = time.time()
    start = min((w.pop("_start") for w in workers), default=t0)
    end = max((w.pop("_end") for w in workers), default=t1)
    duration = max(end - start, 1e-9)
    succeeded = sum(w["succeeded"] for w in workers)
    total = sum(w["bytes"] for w in workers)
    return {
        "attempted": len(uris),
        "succeeded": succeeded,
        "failed": len(uris) - succeeded,
        "total_bytes": total,
        "bytes_source": "measured",  # bytes actually received (not sizes from a listing)
        "duration_seconds": duration,
        "throughput_mb_s": total / duration / 1e6,
        "ops_per_sec": succeeded / duration,
        "total_objects": succeeded,
        "workers": workers,
    }


def _main(argv: list[str]) -> int:
    """Worker: argv = [worker_id, jobs, keylist file, (op-log path)]; prints "ready", waits for "go",
    prints JSON stats."""
    import json

    if len(argv) > 3:
        from s3dlio._api_oplog import finalize_op_log, init_op_log

        init_op_log(f"{argv[3]}.{os.getpid()}")

    with open(argv[2]) as f:
        uris = [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
    shard = _Shard(int(argv[0]), uris, int(argv[1]))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    stats = shard.run()
    if len(argv) > 3:
        finalize_op_log()
    sys.stdout.write(json.dumps(stats) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
