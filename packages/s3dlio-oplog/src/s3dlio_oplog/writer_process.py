"""The op-log writer: a small process of its own that formats and compresses rows.

The logging process only batches raw records into a pipe (marshal, a few hundred ns a row); the TSV
formatting and zstd compression happen here, on another core and under another GIL, so an active op-log
costs the I/O path almost nothing. Frames are closed at least every `FLUSH_INTERVAL_S`, so a file whose
writer was killed is readable up to its last closed frame. When the logging process dies (even by
SIGKILL) this process sees end-of-input, writes what it received and ends the last frame cleanly.

Run as `python -m s3dlio_oplog.writer_process OUT_FD LEVEL WBUFCAP`; input on stdin, one JSON line of
counters on stdout at exit.
"""

from __future__ import annotations

import json
import marshal
import os
import select
import sys
import time

from .format import HEADER, RowFormatter

FLUSH_INTERVAL_S = 1.0
NICE = 10
_LEN = 4


def _read_exact(fd: int, n: int) -> bytes | None:
    parts = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def decode(body: bytes) -> list[tuple]:
    """The records of one batch (see logger._encode): marshalled plain tuples after a one-byte tag."""
    return marshal.loads(body[1:])


def run(in_fd: int, out_fd: int, level: int, wbufcap: int) -> dict[str, object]:
    """Copy framed record batches from `in_fd` into the zstd TSV on `out_fd` until end of input."""
    import zstandard

    fmt = RowFormatter()
    error: str | None = None
    out = os.fdopen(out_fd, "wb", buffering=max(4096, wbufcap))
    writer = zstandard.ZstdCompressor(level=level).stream_writer(out, closefd=False)
    try:
        writer.write(HEADER.encode())
        writer.flush(zstandard.FLUSH_FRAME)
    except Exception as e:  # disk full, closed file: keep draining so the logger never blocks
        error = f"{type(e).__name__}: {e}"
    dirty = False
    last_flush = time.monotonic()
    while True:
        timeout = max(0.0, FLUSH_INTERVAL_S - (time.monotonic() - last_flush)) if dirty else None
        ready, _, _ = select.select([in_fd], [], [], timeout)
        if ready:
            head = _read_exact(in_fd, _LEN)
            if head is None:
                break
            body = _read_exact(in_fd, int.from_bytes(head, "little"))
            if body is None:
                break
            rows = fmt.rows(decode(body))
            if error is None and rows:
                try:
                    writer.write(rows.encode("utf-8", "surrogateescape"))
                    dirty = True
                except Exception as e:
                    error = f"{type(e).__name__}: {e}"
        if dirty and error is None and time.monotonic() - last_flush >= FLUSH_INTERVAL_S:
            try:
                writer.flush(zstandard.FLUSH_FRAME)
            except Exception as e:
                error = f"{type(e).__name__}: {e}"
            dirty = False
            last_flush = time.monotonic()
        elif not dirty:
            last_flush = time.monotonic()
    if error is None:
        try:
            writer.flush(zstandard.FLUSH_FRAME)
            out.flush()
            os.fsync(out.fileno())
        except Exception as e:
            error = f"{type(e).__name__}: {e}"
    try:
        out.close()
    except Exception:
        pass
    return {**fmt.counters(), "writer_error": error}


def main(argv: list[str]) -> int:
    out_fd, level, wbufcap = (int(a) for a in argv[:3])
    try:  # the trace must not slow the traced program down: yield the CPU to it when cores are scarce
        os.nice(NICE)
    except OSError:
        pass
    stats = run(sys.stdin.fileno(), out_fd, level, wbufcap)
    sys.stdout.write(json.dumps(stats) + "\n")
    sys.stdout.flush()
    return 0 if stats["writer_error"] is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
