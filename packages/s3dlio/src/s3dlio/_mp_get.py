"""mp_get: GET a numbered set of objects from several processes at once (any store) and report throughput.

Per-request Python work holds the GIL, so small-object GET rates scale with processes, not threads. Each
worker process GETs its shard of the keys with `jobs` requests in flight and discards the data.
"""

from __future__ import annotations

import os
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


def _worker(worker_id: int, uris: list[str], jobs: int) -> dict[str, Any]:
    """GET every URI of the shard (data discarded); counts successes, failures and bytes."""
    from s3dlio_core import bounded_map, store_for_uri

    store, _ = store_for_uri(uris[0])
    get = store.get

    def one(u: str) -> int:
        try:
            return len(get(u))
        except Exception:
            return -1

    t0 = time.time()
    sizes = bounded_map(one, uris, min(jobs, len(uris)))
    t1 = time.time()
    ok = [s for s in sizes if s >= 0]
    nbytes = sum(ok)
    dt = max(t1 - t0, 1e-9)
    return {"worker_id": worker_id, "attempted": len(uris), "succeeded": len(ok),
            "failed": len(uris) - len(ok), "bytes": nbytes, "objects": len(ok),
            "throughput_mb_s": nbytes / dt / 1e6, "_start": t0, "_end": t1}


def _run_workers(tasks: list[tuple[int, list[str], int]]) -> list[dict[str, Any]]:
    """One `python -m s3dlio._mp_get` process per shard (a key-list file in, stats as JSON out).

    Plain subprocesses, like the original's s3-cli workers: no fork of a threaded parent, and no
    re-import of the caller's __main__ (which multiprocessing's spawn needs guarded).
    """
    import json
    import subprocess
    import sys
    import tempfile

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    with tempfile.TemporaryDirectory(prefix="s3dlio-mp-get-") as tmp:
        procs = []
        for wid, shard, jobs in tasks:
            keylist = os.path.join(tmp, f"shard-{wid}.txt")
            with open(keylist, "w") as f:
                f.write("\n".join(shard))
            procs.append(subprocess.Popen([sys.executable, "-m", "s3dlio._mp_get", str(wid), str(jobs), keylist],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env))
        out = []
        try:
            for p, (wid, shard, _) in zip(procs, tasks, strict=True):
                stdout, stderr = p.communicate()
                if p.returncode != 0:
                    from s3dlio_core import S3dlioError

                    msg = stderr.decode(errors="replace").strip().splitlines()
                    raise S3dlioError(f"mp_get worker {wid} failed (exit {p.returncode}): "
                                      f"{msg[-1] if msg else 'no message'}", shard[0] if shard else None)
                out.append(json.loads(stdout.decode().strip().splitlines()[-1]))
        finally:
            for q in procs:
                if q.poll() is None:
                    q.kill()
                    q.wait()
    return out


def mp_get(uri: str, procs: int = 4, jobs: int = 64, num: int = 1000, template: str = "object_{}.dat",
           ) -> dict[str, Any]:
    """GET `num` objects named by `template` under `uri` from `procs` processes, `jobs` in flight each.

    Returns attempted, succeeded, failed, total_bytes, bytes_source, duration_seconds, throughput_mb_s,
    ops_per_sec, total_objects and per-worker stats in `workers`. Failed GETs are counted, not raised.
    """
    validate_max_in_flight(procs, "procs")
    validate_max_in_flight(jobs, "jobs")
    if isinstance(num, bool) or not isinstance(num, int) or num < 0:
        raise ValueError(f"num must be an int >= 0, got {num!r}")
    uris = mp_get_uris(uri, num, template)
    nproc = max(1, min(procs, len(uris)))
    shards = [uris[i::nproc] for i in range(nproc)]
    tasks = [(i, shard, jobs) for i, shard in enumerate(shards) if shard]
    t0 = time.time()
    workers = [_worker(*t) for t in tasks] if len(tasks) <= 1 else _run_workers(tasks)
    t1 = time.time()
    start = min((w["_start"] for w in workers), default=t0)
    end = max((w["_end"] for w in workers), default=t1)
    duration = max(end - start, 1e-9)
    for w in workers:
        w.pop("_start")
        w.pop("_end")
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
    """Worker entry: argv = [worker_id, jobs, keylist file (one URI a line)]; prints one JSON line."""
    import json
    import sys

    with open(argv[2]) as f:
        uris = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    stats = _worker(int(argv[0]), uris, int(argv[1])) if uris else {}
    sys.stdout.write(json.dumps(stats) + "\n")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
