"""The s3-cli subcommands (except bench): each takes the parsed arguments and returns an exit status.

Results go to stdout; progress (only on a terminal) and notes go to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from s3dlio_core import S3dlioError, store_for_uri

from .progress import Progress

__all__ = ["COMMANDS"]


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def _note(args: argparse.Namespace, line: str) -> None:
    """Informational text for a person at a terminal (stderr; never when -q)."""
    if not getattr(args, "quiet", False) and sys.stderr.isatty():
        sys.stderr.write(line + "\n")


def _rate(nbytes: int, seconds: float) -> str:
    return f"{nbytes / max(seconds, 1e-9) / 1e6:,.1f} MB/s"


# ------------------------------------------------------------------ listing and metadata
def cmd_ls(args: argparse.Namespace) -> int:
    store, _ = store_for_uri(args.uri)
    t0 = time.perf_counter()
    n = 0
    with Progress(None, "listing", unit="obj", enabled=args.count_only) as bar:
        for uri in store.list_iter(args.uri, recursive=args.recursive, pattern=args.pattern):
            n += 1
            if args.count_only:
                bar.update()
            else:
                _out(uri)
    if args.count_only:
        dt = time.perf_counter() - t0
        _out(f"Total objects: {n:,} ({dt:.1f}s, rate: {n / max(dt, 1e-9):,.0f} objects/s)")
    return 0


def cmd_list_buckets(args: argparse.Namespace) -> int:
    import s3dlio

    rows = s3dlio.list_containers(args.uri)
    if not rows:
        _out("No containers found.")
        return 0
    w = max(4, *(len(r["name"]) for r in rows))
    wu = max(3, *(len(r["uri"]) for r in rows))
    _out(f"{'Name':<{w}}  {'URI':<{wu}}  Creation Date")
    for r in rows:
        _out(f"{r['name']:<{w}}  {r['uri']:<{wu}}  {r.get('creation_date') or '-'}")
    return 0


_STAT_FIELDS = [("size", "Size"), ("last_modified", "LastModified"), ("etag", "ETag"),
                ("content_type", "Content-Type"), ("content_language", "Content-Language"),
                ("content_encoding", "Content-Encoding"), ("storage_class", "StorageClass"),
                ("version_id", "VersionId"), ("replication_status", "ReplicationStat"),
                ("server_side_encryption", "SSE"), ("ssekms_key_id", "SSE-KMS Key ID")]


def cmd_stat(args: argparse.Namespace) -> int:
    import s3dlio

    for i, uri in enumerate(args.uris):
        st = s3dlio.stat(uri)
        if args.json:
            import json

            _out(json.dumps({"uri": uri, **st}))
            continue
        if i:
            _out()
        _out(f"{'URI':<17}: {uri}")
        for key, label in _STAT_FIELDS:
            if st.get(key) is not None:
                _out(f"{label:<17}: {st[key]}")
        if st.get("metadata"):
            _out(f"{'User Metadata':<17}: {st['metadata']}")
    return 0


# ------------------------------------------------------------------ reading
def _keylist(path: str) -> list[str]:
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]


def _expand_get_uris(args: argparse.Namespace) -> list[str]:
    uris: list[str] = list(args.uris)
    if args.keylist:
        uris += _keylist(args.keylist)
    if not uris:
        raise S3dlioError("get needs a URI or --keylist FILE")
    if args.recursive:
        out: list[str] = []
        for u in uris:
            store, _ = store_for_uri(u)
            out += [x for x in store.list(u, recursive=True) if not x.endswith("/")]
        if not out:
            raise S3dlioError(f"no objects under {', '.join(uris)}")
        return out
    return uris


def cmd_get(args: argparse.Namespace) -> int:
    """Download objects: to a file / stdout with -o, else as a benchmark (data discarded, rate printed)."""
    import s3dlio

    uris = _expand_get_uris(args)
    ranged = args.offset is not None or args.length is not None
    if (ranged or args.output) and len(uris) != 1:
        raise S3dlioError("--offset/--length and --output need exactly one object")
    if args.output:
        return _get_to_output(args, uris[0])
    jobs = args.concurrent or args.jobs
    t0 = time.perf_counter()
    if ranged:
        off = args.offset or 0
        data = s3dlio.get_range(uris[0], off, args.length)
        dt = time.perf_counter() - t0
        _out(f"Range GET bytes {off}-{off + len(data) - 1}: {len(data):,} bytes in {dt:.3f} s "
             f"({_rate(len(data), dt)})")
        return 0
    store, _ = store_for_uri(uris[0])
    failures: list[str] = []
    total = 0
    with Progress(len(uris), "GET", unit="obj") as bar:
        def one(u: str) -> int:
            try:
                n = len(store.get(u))
            except Exception as e:
                failures.append(f"{u}: {e}")
                n = -1
            bar.update()
            return n

        from s3dlio_core import bounded_map

        sizes = bounded_map(one, uris, min(jobs, len(uris)))
    dt = time.perf_counter() - t0
    ok = [s for s in sizes if s >= 0]
    total = sum(ok)
    _out(f"Benchmarked {len(ok):,} objects: {total:,} bytes in {dt:.3f} s ({_rate(total, dt)}, "
         f"{len(ok) / max(dt, 1e-9):,.1f} objects/s)")
    _out(f"GET summary: attempted={len(uris)}, succeeded={len(ok)}, failed={len(failures)}")
    for f in failures[:10]:
        sys.stderr.write(f"s3-cli: failed: {f}\n")
    return 1 if failures else 0


def _get_to_output(args: argparse.Namespace, uri: str) -> int:
    import s3dlio

    if args.output == "-":
        data = (s3dlio.get_range(uri, args.offset or 0, args.length)
                if args.offset is not None or args.length is not None else s3dlio.get(uri))
        sys.stdout.flush()
        sys.stdout.buffer.write(memoryview(data))
        sys.stdout.buffer.flush()
        return 0
    if args.offset is not None or args.length is not None:
        data = s3dlio.get_range(uri, args.offset or 0, args.length)
        with open(args.output, "wb") as f:
            f.write(memoryview(data))
        return 0
    store, _ = store_for_uri(uri)
    t0 = time.perf_counter()
    n = store.download_to(uri, args.output)
    _note(args, f"wrote {args.output}: {n:,} bytes ({_rate(n, time.perf_counter() - t0)})")
    return 0


# ------------------------------------------------------------------ writing
def _generate_objects(args: argparse.Namespace, prefix: str) -> int:
    from s3dlio._api_datagen import object_names, put_objects

    num, size = args.num, args.size
    t0 = time.perf_counter()
    with Progress(num * size, "PUT") as bar:
        put_objects(prefix, num, template=args.template, max_in_flight=min(args.jobs, max(num, 1)), size=size,
                    should_create_bucket=args.create_bucket, object_type=args.object_type,
                    dedup_factor=args.dedup, compress_factor=args.compress,
                    data_gen_mode=args.data_gen_mode, chunk_size=args.chunk_size, progress=bar.update)
    dt = time.perf_counter() - t0
    base = prefix if prefix.endswith("/") else prefix + "/"
    names = object_names(num, args.template) if num else []
    where = f"{base}{names[0]}" + (f" .. {names[-1]}" if num > 1 else "") if names else base
    _out(f"Uploaded {num:,} objects ({num * size:,} bytes) in {dt:.3f} s ({_rate(num * size, dt)}, "
         f"{num / max(dt, 1e-9):,.1f} objects/s): {where}")
    return 0


def cmd_put(args: argparse.Namespace) -> int:
    """Put a file / stdin / literal bytes as one object, or generate synthetic objects under a prefix."""
    import s3dlio

    if args.file is None and args.data is None:
        return _generate_objects(args, args.uri)
    if args.data is not None:
        payload: Any = args.data.encode()
        s3dlio.put_bytes(args.uri, payload)
        _note(args, f"wrote {args.uri}: {len(payload):,} bytes")
        return 0
    store, _ = store_for_uri(args.uri)
    t0 = time.perf_counter()
    if args.file == "-":
        store.put(args.uri, sys.stdin.buffer)
    else:
        with open(args.file, "rb", buffering=0) as f:
            store.put(args.uri, f)
    size = store.stat(args.uri)["size"]
    _note(args, f"wrote {args.uri}: {size:,} bytes ({_rate(size, time.perf_counter() - t0)})")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """Synthetic data: objects under a URI prefix (like put), or one blob to a local file / stdout."""
    if args.uri is not None and "://" in args.uri:
        rc = _generate_objects(args, args.uri)
        if args.verify:
            _verify(args)
        return rc
    from s3dlio_core import BytesView
    from s3dlio_ml.datagen import Generator

    t0 = time.perf_counter()
    gen = Generator(args.size, args.dedup, args.compress, seed=args.seed)
    buf = memoryview(BytesView.allocate(min(args.size, 8 << 20)))
    target = args.uri or "-"
    f = sys.stdout.buffer if target == "-" else open(target, "wb")  # noqa: SIM115 - closed below
    try:
        sys.stdout.flush()
        while n := gen.fill_chunk(buf):  # bounded memory, any size
            f.write(buf[:n])
        f.flush()
    finally:
        if f is not sys.stdout.buffer:
            f.close()
    dt = time.perf_counter() - t0
    _note(args, f"generated {args.size:,} bytes in {dt:.3f} s ({_rate(args.size, dt)})")
    return 0


def _verify(args: argparse.Namespace) -> None:
    """Read the generated objects back and print their measured dedup and zstd-1 ratios."""
    import hashlib

    import zstandard
    from s3dlio_ml.datagen import BLOCK_SIZE

    from s3dlio._api_datagen import object_uris

    uris = object_uris(args.uri, args.num, args.template)
    store, _ = store_for_uri(uris[0])
    blocks = unique = raw = packed = 0
    comp = zstandard.ZstdCompressor(level=1)
    for u in uris[: min(len(uris), 8)]:
        data = store.get(u)
        step = min(len(data), BLOCK_SIZE) or 1
        digests = [hashlib.blake2b(memoryview(data)[i:i + step], digest_size=16).digest()
                   for i in range(0, len(data), step)]
        blocks += len(digests)
        unique += len(set(digests))
        raw += len(data)
        packed += len(comp.compress(memoryview(data)))
    _out(f"Verified {min(len(uris), 8)} objects: dedup ratio {blocks / max(unique, 1):.2f} "
         f"(asked {args.dedup}), zstd-1 compress ratio {raw / max(packed, 1):.2f} (asked {args.compress})")


def cmd_upload(args: argparse.Namespace) -> int:
    import s3dlio
    from s3dlio._transfer import expand_local_patterns

    files = expand_local_patterns(args.files)
    nbytes = sum(os.path.getsize(f) for f in files)
    t0 = time.perf_counter()
    with Progress(nbytes, "upload") as bar:
        s3dlio.upload(args.files, args.dest, max_in_flight=args.jobs, create_bucket=args.create_bucket,
                      progress=bar.update)
    dt = time.perf_counter() - t0
    _out(f"Uploaded {len(files):,} files ({nbytes:,} bytes) in {dt:.3f} s ({_rate(nbytes, dt)}) to {args.dest}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    import s3dlio

    t0 = time.perf_counter()
    done = [0]

    with Progress(None, "download") as bar:
        def count(nbytes: int) -> None:
            done[0] += nbytes
            bar.update(nbytes)

        s3dlio.download(args.src, args.dest, max_in_flight=args.jobs, recursive=args.recursive, progress=count)
    dt = time.perf_counter() - t0
    n = done[0]
    _out(f"Downloaded {args.src} to {args.dest} ({n:,} bytes) in {dt:.3f} s ({_rate(n, dt)})")
    return 0


def cmd_cp(args: argparse.Namespace) -> int:
    """Copy: local -> URI uploads, URI -> local downloads, URI -> URI streams objects across stores."""
    src_remote, dst_remote = "://" in args.src, "://" in args.dest
    if not src_remote and dst_remote:
        args.files = [args.src]
        return cmd_upload(args)
    if src_remote and not dst_remote:
        return cmd_download(args)
    if not src_remote:
        raise S3dlioError("cp needs at least one URI (use cp for local <-> store or store <-> store copies)")
    src_store, _ = store_for_uri(args.src)
    if args.recursive:
        objects = [u for u in src_store.list(args.src, recursive=True) if not u.endswith("/")]
        base = args.src if args.src.endswith("/") else args.src + "/"
        dest = args.dest if args.dest.endswith("/") else args.dest + "/"
        pairs = [(u, dest + u[len(base):]) if u.startswith(base) else (u, dest + u.rsplit("/", 1)[-1])
                 for u in objects]
    else:
        target = args.dest + args.src.rsplit("/", 1)[-1] if args.dest.endswith("/") else args.dest
        pairs = [(args.src, target)]
    if not pairs:
        raise S3dlioError(f"no objects under {args.src}", args.src)
    from s3dlio_core import bounded_map

    def one(pair: tuple[str, str]) -> int:
        return _copy_object(src_store, pair[0], pair[1])

    t0 = time.perf_counter()
    sizes = bounded_map(one, pairs, args.jobs)
    dt = time.perf_counter() - t0
    _out(f"Copied {len(pairs):,} objects ({sum(sizes):,} bytes) in {dt:.3f} s ({_rate(sum(sizes), dt)})")
    return 0


_COPY_WHOLE = 64 << 20  # objects up to this size are copied in one GET + PUT
_COPY_PIECE = 16 << 20  # larger ones stream through ranged GETs into a writer


def _copy_object(src_store: Any, src: str, dst: str) -> int:
    """Copy one object between (possibly different) stores with bounded memory."""
    dst_store, _ = store_for_uri(dst)
    size = src_store.stat(src)["size"]
    if size <= _COPY_WHOLE:
        data = src_store.get(src)
        dst_store.put(dst, data)
        return len(data)
    with dst_store.open_writer(dst) as w:  # an error aborts: no half-copied object
        for off in range(0, size, _COPY_PIECE):
            w.write(src_store.get_range(src, off, min(_COPY_PIECE, size - off)))
    return size


def cmd_delete(args: argparse.Namespace) -> int:
    store, _ = store_for_uri(args.uri)
    if args.pattern is None:
        if args.recursive:
            store.delete(args.uri, recursive=True)
        else:
            store.delete(args.uri)
        _note(args, f"deleted {args.uri}{' (recursive)' if args.recursive else ''}")
        return 0
    targets = [u for u in store.list_iter(args.uri, recursive=args.recursive, pattern=args.pattern)
               if not u.endswith("/")]
    with Progress(len(targets), "DELETE", unit="obj") as bar:
        from s3dlio_core import bounded_map

        def one(u: str) -> None:
            store.delete(u)
            bar.update()

        bounded_map(one, targets, args.jobs)
    _out(f"Deleted {len(targets):,} objects")
    return 0


def cmd_mkdir(args: argparse.Namespace) -> int:
    import s3dlio

    s3dlio.mkdir(args.uri)
    return 0


def cmd_create_bucket(args: argparse.Namespace) -> int:
    import s3dlio

    s3dlio.create_bucket(args.uri)
    _out(f"Successfully created or verified '{args.uri}'.")
    return 0


def cmd_delete_bucket(args: argparse.Namespace) -> int:
    import s3dlio

    s3dlio.delete_bucket(args.uri)
    _out(f"Successfully deleted '{args.uri}'.")
    return 0


def cmd_mp_get(args: argparse.Namespace) -> int:
    import s3dlio

    r = s3dlio.mp_get(args.uri, procs=args.procs, jobs=args.jobs, num=args.num, template=args.template,
                      op_log=args.op_log)
    if args.json:
        import json

        _out(json.dumps(r))
    else:
        _out(f"mp_get {r['succeeded']:,}/{r['attempted']:,} objects, {r['total_bytes']:,} bytes in "
             f"{r['duration_seconds']:.3f} s: {r['throughput_mb_s']:,.1f} MB/s, {r['ops_per_sec']:,.1f} ops/s "
             f"({len(r['workers'])} processes)")
    return 1 if r["failed"] else 0


COMMANDS = {
    "ls": cmd_ls, "list-buckets": cmd_list_buckets, "stat": cmd_stat, "get": cmd_get, "put": cmd_put,
    "generate": cmd_generate, "upload": cmd_upload, "download": cmd_download, "delete": cmd_delete,
    "mkdir": cmd_mkdir, "create-bucket": cmd_create_bucket, "delete-bucket": cmd_delete_bucket,
    "mp-get": cmd_mp_get, "cp": cmd_cp,
}
