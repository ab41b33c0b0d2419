"""Should BytesView export the buffer protocol through `__buffer__` (PEP 688, Python 3.12+)?

BytesView is a bytearray subclass: the buffer comes from bytearray's C slot. On 3.12+ a Python class can
export a buffer itself (`__buffer__`), which would let BytesView be read-only like the original's (or wrap
memory that is not a bytearray). This measures what a consumer pays each time it takes the buffer
(`memoryview(v)`, `np.frombuffer(v)`, `bytes(v)`, `f.write(v)`) of a 4 KiB result, for:
    ours         BytesView as it is (bytearray subclass, C slot)
    pep688-sub   a bytearray subclass whose `__buffer__` returns a read-only view of itself
    pep688-wrap  a plain class holding a bytearray, `__buffer__` returns a read-only view of it
Each interpreter (the workspace venv's, .tools/py3.12, .tools/py3.13 from scripts/test-all) runs each round
in a fresh process; medians of the rounds are printed as ns per operation with the ratio to `ours`.

Usage: python benchmarks/bytesview_buffer.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

CHILD = r'''
import io, json, os, sys, timeit
import numpy as np
from s3dlio_core import BytesView

class Pep688Sub(bytearray):
    __slots__ = ()
    def __buffer__(self, flags):
        return bytearray.__buffer__(self, flags).toreadonly()

class Pep688Wrap:
    __slots__ = ("_b",)
    def __init__(self, b):
        self._b = b
    def __buffer__(self, flags):
        return memoryview(self._b).toreadonly()

n = 4096
payload = os.urandom(n)
objs = {"ours": BytesView.wrap(payload), "pep688-sub": Pep688Sub(payload), "pep688-wrap": Pep688Wrap(bytearray(payload))}
sink = io.BytesIO()
ops = {
    "memoryview(v)": lambda v: memoryview(v),
    "np.frombuffer(v)": lambda v: np.frombuffer(v, np.uint8),
    "bytes(v)": lambda v: bytes(v),
    "BytesIO.write(v)": lambda v: (sink.seek(0), sink.write(v)),
}
hook = sys.version_info >= (3, 12)  # before 3.12 __buffer__ is an ordinary method: nothing calls it
if hook:
    assert memoryview(objs["pep688-sub"]).readonly and memoryview(objs["pep688-wrap"]).readonly
out = {}
for oname, op in ops.items():
    for kname, v in objs.items():
        if kname != "ours" and not hook:
            out[f"{oname}|{kname}"] = None
            continue
        number = 200_000
        best = min(timeit.repeat(lambda: op(v), number=number, repeat=5))
        out[f"{oname}|{kname}"] = best / number * 1e9
print(json.dumps({"python": sys.version.split()[0], "ns": out}))
'''


def interpreters() -> list[str]:
    found = [str(ROOT / ".venv" / "bin" / "python")]
    found += [str(p) for v in ("3.12", "3.13") if (p := ROOT / ".tools" / f"py{v}" / "bin" / "python").exists()]
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    for py in interpreters():
        rounds = []
        for _ in range(args.rounds):
            proc = subprocess.run([py, "-c", CHILD], capture_output=True, text=True, check=True)
            rounds.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        version = rounds[0]["python"]
        keys = rounds[0]["ns"].keys()
        med = {k: (None if rounds[0]["ns"][k] is None else statistics.median(r["ns"][k] for r in rounds)) for k in keys}
        print(f"Python {version} ({py}), 4 KiB, medians of {args.rounds} fresh-process rounds, ns per operation:")
        for op in dict.fromkeys(k.split("|")[0] for k in keys):
            base = med[f"{op}|ours"]
            cells = []
            for kind in ("ours", "pep688-sub", "pep688-wrap"):
                v = med[f"{op}|{kind}"]
                cells.append(f"{kind} {'n/a (no __buffer__)':>22}" if v is None else
                             f"{kind} {v:7.0f} ns ({v / base:4.2f}x)")
            print(f"  {op:18} " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
