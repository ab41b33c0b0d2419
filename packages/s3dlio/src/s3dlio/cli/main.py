"""s3-cli: the command line over every store (s3://, gs://, az://, file://, direct://).

Failures exit non-zero with one line on stderr (the traceback only with -v). Output that is a result goes
to stdout; progress bars appear only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from .numbers import parse_count, parse_jobs, parse_size

__all__ = ["main", "build_parser"]

DEFAULT_OBJECT_SIZE = 20 << 20
_EPILOG = """\
examples:
  s3-cli ls -r s3://bucket/data/ -p '\\.npz$'           list recursively, regex on the relative path
  s3-cli ls -rc file:///data/                          count objects
  s3-cli put file:///tmp/ds/ -n 100 -s 4MiB -d 2 -x 3  100 synthetic objects, dedup 2, compress 3
  s3-cli put s3://bucket/a.bin --file ./a.bin          one object from a local file ('-' = stdin)
  s3-cli get -r file:///tmp/ds/ -j 32                  GET everything, discard, print the rate
  s3-cli get s3://bucket/a.bin -o a.bin                download one object ('-' = stdout)
  s3-cli upload './logs/*.log' s3://bucket/logs/       upload local files (globs, dirs, regex)
  s3-cli download -r s3://bucket/logs/ ./logs          download a prefix
  s3-cli cp -r s3://bucket/ds/ gs://other/ds/          copy between stores (or to/from local paths)
  s3-cli delete -r file:///tmp/ds/                     delete everything under a prefix
  s3-cli bench file:///tmp/b/ -n 200 -s 1MiB -j 32     PUT + GET throughput table
  s3-cli mp-get s3://bucket/ds/ -P 8 -n 10k            GET object_0.dat .. from 8 processes
  s3-cli oplog ...                                     op-log tools (s3dlio-oplog)
  s3-cli oplog plot run.tsv.zst -o run.png             throughput and latency picture (s3dlio[plot])

sizes and counts take suffixes: k, m, g (x1000) and ki, mi, gi (x1024), e.g. 64KiB, 20MiB, 10k.
"""


def _add_gen_options(p: argparse.ArgumentParser, default_num: int = 1, default_size: int = DEFAULT_OBJECT_SIZE,
                     ) -> None:
    g = p.add_argument_group("synthetic data")
    g.add_argument("-n", "--num", type=parse_count, default=default_num, help=f"objects to write (default {default_num})")
    g.add_argument("-s", "--size", type=parse_size, default=default_size,
                   help=f"bytes per object, e.g. 4MiB (default {default_size:,})")
    g.add_argument("-t", "--template", default="object_{}_of_{}.dat",
                   help="object names: 1st {} = index, 2nd {} = total (default object_{}_of_{}.dat)")
    g.add_argument("-d", "--dedup", type=parse_count, default=1, help="dedup factor (default 1 = all unique)")
    g.add_argument("-x", "--compress", type=parse_count, default=1,
                   help="compress factor (default 1 = incompressible)")
    g.add_argument("-o", "--object-type", default="raw", type=str.lower,
                   choices=["raw", "npz", "tfrecord", "hdf5"], help="object format (default raw)")
    g.add_argument("-j", "--jobs", type=parse_jobs, default=32, help="objects in flight (default 32)")
    g.add_argument("-c", "--create-bucket", action="store_true", help="create the bucket first")
    g.add_argument("--data-gen-mode", default="streaming", choices=["streaming", "single-pass"],
                   help="stream each object through a writer in chunks, or generate it whole (default streaming)")
    g.add_argument("--chunk-size", type=parse_size, default=262144, help="streaming chunk size (default 256KiB)")


def build_parser() -> argparse.ArgumentParser:
    """The s3-cli argument parser."""
    p = argparse.ArgumentParser(
        prog="s3-cli", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG,
        description="Fast object-storage I/O from the shell: list, stat, get, put, upload, download, delete, "
                    "synthetic data and benchmarks on s3://, gs://, az://, file:// and direct:// URIs.")
    p.add_argument("-v", "--verbose", action="count", default=0, help="-v info logs, -vv debug (and tracebacks)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or notes on stderr")
    p.add_argument("--endpoint-url", "--endpoint", dest="endpoint_url", metavar="URL",
                   help="S3 endpoint (overrides AWS_ENDPOINT_URL)")
    p.add_argument("--region", help="S3 region (overrides AWS_REGION)")
    p.add_argument("--ca-bundle", metavar="PATH", help="PEM bundle for TLS (AWS_CA_BUNDLE)")
    p.add_argument("--op-log", metavar="FILE", help="record every operation to this op-log (.tsv.zst)")
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("s3dlio")
    except PackageNotFoundError:  # pragma: no cover
        ver = "unknown"
    p.add_argument("-V", "--version", action="version", version=f"s3-cli (s3dlio {ver})")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def cmd(name: str, help: str, aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, aliases=list(aliases))

    c = cmd("ls", "list objects under a URI (full URIs, one per line)", ["list"])
    c.add_argument("uri")
    c.add_argument("-r", "--recursive", action="store_true", help="descend into sub-directories / prefixes")
    c.add_argument("-p", "--pattern", metavar="REGEX", help="only paths (relative to URI) matching REGEX")
    c.add_argument("-c", "--count-only", action="store_true", help="print only the count and rate")

    c = cmd("list-buckets", "list buckets / containers / sub-directories")
    c.add_argument("uri", nargs="?", default="s3://", help="s3:// (default), gs://, az://account, file:///dir")

    c = cmd("stat", "show an object's metadata")
    c.add_argument("uris", nargs="+", metavar="URI")
    c.add_argument("--json", action="store_true", help="one JSON object per line")

    c = cmd("get", "GET objects: to a file with -o, else as a benchmark (data discarded, rate printed)")
    c.add_argument("uris", nargs="*", metavar="URI")
    c.add_argument("-o", "--output", metavar="FILE", help="write the (single) object to FILE ('-' = stdout)")
    c.add_argument("-r", "--recursive", action="store_true", help="every object under each URI prefix")
    c.add_argument("-j", "--jobs", type=parse_jobs, default=64, help="requests in flight (default 64)")
    c.add_argument("--concurrent", type=parse_jobs, help="same as --jobs (the original's mp_get worker flag)")
    c.add_argument("--keylist", metavar="FILE", help="more URIs, one per line (# comments)")
    c.add_argument("--offset", type=parse_size, help="range start (single object)")
    c.add_argument("--length", type=parse_size, help="range length (single object)")

    c = cmd("put", "write one object (--file / --data) or generate synthetic objects under a prefix")
    c.add_argument("uri", metavar="URI", help="the object (with --file/--data) or the prefix (generated)")
    src = c.add_mutually_exclusive_group()
    src.add_argument("-f", "--file", metavar="PATH", help="local file to upload ('-' = stdin)")
    src.add_argument("--data", metavar="TEXT", help="literal content")
    _add_gen_options(c)

    c = cmd("generate", "synthetic data with set dedup/compress ratios: objects under a URI prefix, "
                        "or one blob to a local file / stdout")
    c.add_argument("uri", nargs="?", metavar="TARGET", help="URI prefix, local file, or '-' for stdout (default)")
    _add_gen_options(c, default_size=1 << 20)
    c.add_argument("--seed", type=int, help="seed for a reproducible blob (file/stdout form)")
    c.add_argument("--verify", action="store_true", help="read objects back and print measured ratios")

    c = cmd("upload", "upload local files (paths, directories, globs, regex) to a URI prefix")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("dest", metavar="DEST_URI")
    c.add_argument("-j", "--jobs", type=parse_jobs, default=32, help="files in flight (default 32)")
    c.add_argument("-c", "--create-bucket", action="store_true", help="create the bucket first")

    c = cmd("download", "download objects under a URI into a local directory")
    c.add_argument("src", metavar="SRC_URI")
    c.add_argument("dest", metavar="DEST_DIR")
    c.add_argument("-j", "--jobs", type=parse_jobs, default=64, help="objects in flight (default 64)")
    c.add_argument("-r", "--recursive", action="store_true", help="include sub-directories / prefixes")

    c = cmd("cp", "copy: local -> URI (upload), URI -> local (download), URI -> URI (across stores)")
    c.add_argument("src", metavar="SRC")
    c.add_argument("dest", metavar="DEST")
    c.add_argument("-j", "--jobs", type=parse_jobs, default=32, help="objects in flight (default 32)")
    c.add_argument("-r", "--recursive", action="store_true", help="everything under SRC")
    c.add_argument("-c", "--create-bucket", action="store_true", help="create the bucket first (upload)")

    c = cmd("delete", "delete an object, or with -r everything under a prefix", ["rm"])
    c.add_argument("uri")
    c.add_argument("-r", "--recursive", action="store_true", help="everything the URI selects")
    c.add_argument("-p", "--pattern", metavar="REGEX", help="only paths (relative to URI) matching REGEX")
    c.add_argument("-j", "--jobs", type=parse_jobs, default=64, help="deletes in flight (default 64)")

    c = cmd("mkdir", "create a directory (file://, direct://); a no-op on object stores")
    c.add_argument("uri")
    c = cmd("create-bucket", "create a bucket / container (file://: a directory)")
    c.add_argument("uri")
    c = cmd("delete-bucket", "delete an empty bucket / container")
    c.add_argument("uri")

    c = cmd("bench", "PUT then GET synthetic objects and print a throughput table")
    c.add_argument("uri", metavar="URI_PREFIX", help="where to write (a fresh sub-prefix is used and removed)")
    c.add_argument("-n", "--num", type=parse_count, default=100, help="objects (default 100)")
    c.add_argument("-s", "--size", type=parse_size, default=1 << 20, help="bytes per object (default 1MiB)")
    c.add_argument("-j", "--jobs", type=parse_jobs, default=32, help="requests in flight (default 32)")
    c.add_argument("-P", "--procs", type=parse_jobs, default=1, help="GET from this many processes (mp_get)")
    c.add_argument("-d", "--dedup", type=parse_count, default=1, help="dedup factor (default 1)")
    c.add_argument("-x", "--compress", type=parse_count, default=1, help="compress factor (default 1)")
    c.add_argument("-c", "--create-bucket", action="store_true", help="create the bucket first")
    c.add_argument("--keep", action="store_true", help="keep the objects (default: delete them)")

    c = cmd("mp-get", "GET numbered objects from several processes (mp_get) and print the rate")
    c.add_argument("uri", metavar="URI_PREFIX")
    c.add_argument("-P", "--procs", type=parse_jobs, default=4, help="processes (default 4)")
    c.add_argument("-j", "--jobs", type=parse_jobs, default=64, help="requests in flight per process (default 64)")
    c.add_argument("-n", "--num", type=parse_count, default=1000, help="objects (default 1000)")
    c.add_argument("-t", "--template", default="object_{}.dat", help="names, {} = index (default object_{}.dat)")
    c.add_argument("--json", action="store_true", help="print the stats dict as JSON")

    sub.add_parser("oplog", help="op-log tools (s3dlio-oplog), e.g. s3-cli oplog --help", add_help=False)
    return p


def _load_dotenv() -> None:
    """Like the original's CLI: read ./.env unless S3DLIO_LOAD_DOTENV says no; the real env wins."""
    flag = os.environ.get("S3DLIO_LOAD_DOTENV", "1").strip()
    if flag.lower() in ("0", "false", "no", "off"):
        return
    path = ".env" if flag.lower() in ("1", "true", "yes", "on", "") else flag
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        if path != ".env":
            sys.stderr.write(f"s3-cli: warning: cannot read S3DLIO_LOAD_DOTENV file {path}\n")
        return
    for ln in lines:
        ln = ln.strip()
        if not ln or ln.startswith("#") or "=" not in ln:
            continue
        k, v = ln.removeprefix("export ").split("=", 1)
        k, v = k.strip(), v.strip().strip("'\"")
        if k and k not in os.environ:
            os.environ[k] = v


def _oplog(argv: list[str], verbose: bool) -> int:
    try:
        from s3dlio_oplog.cli import main as oplog_main  # type: ignore[import-not-found]
    except ImportError:
        sys.stderr.write("s3-cli: error: the op-log commands are not installed (s3dlio-oplog has no cli module)\n")
        return 2
    return int(oplog_main(argv) or 0)


def _split_oplog(argv: list[str]) -> tuple[list[str], list[str]] | None:
    """(global options, op-log arguments) when the command is `oplog`, else None."""
    takes_value = {"--endpoint-url", "--endpoint", "--region", "--ca-bundle", "--op-log"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "oplog":
            return argv[:i], argv[i + 1:]
        if not a.startswith("-"):
            return None
        i += 2 if a in takes_value else 1
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run s3-cli with `argv` (default sys.argv[1:]); returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    verbose = sum(a.count("v") for a in args_list if a.startswith("-") and not a.startswith("--")
                  and set(a[1:]) <= {"v", "q"}) + args_list.count("--verbose")
    try:
        split = _split_oplog(args_list)
        if split is not None:
            return _oplog(split[1], verbose > 0)
        args = build_parser().parse_args(args_list)
        return _run(args)
    except KeyboardInterrupt:
        sys.stderr.write("s3-cli: interrupted\n")
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's final flush
        except OSError:
            pass
        return 0
    except SystemExit as e:  # argparse: --help, --version, usage errors
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    except Exception as e:
        if verbose:
            import traceback

            traceback.print_exc()
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        sys.stderr.write(f"s3-cli: error: {msg}\n")
        return 1


def _run(args: argparse.Namespace) -> int:
    from .bench import cmd_bench
    from .commands import COMMANDS
    from .progress import set_enabled

    set_enabled(not args.quiet)
    _load_dotenv()
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    if args.region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
    if args.ca_bundle:
        os.environ["AWS_CA_BUNDLE"] = args.ca_bundle
    if args.verbose:
        import s3dlio

        s3dlio.init_logging("debug" if args.verbose > 1 else "info")
    name = {"list": "ls", "rm": "delete"}.get(args.command, args.command)
    fn = cmd_bench if name == "bench" else COMMANDS[name]
    oplog = _start_oplog(args.op_log)
    try:
        return fn(args)
    finally:
        if oplog:
            import s3dlio

            s3dlio.finalize_op_log()


def _start_oplog(path: str | None) -> bool:
    if not path:
        return False
    import s3dlio

    init = getattr(s3dlio, "init_op_log", None)
    if init is None:
        logging.getLogger("s3dlio.cli").warning("op-log is not available in this build; --op-log ignored")
        sys.stderr.write("s3-cli: warning: the op-log is not installed; --op-log ignored\n")
        return False
    init(path)
    return True
