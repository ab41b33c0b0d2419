"""DLIO's storage interface (`DataStorage`) on s3dlio's public flat API and store protocol.

One implementation, shared by both DLIO storage classes (`S3dlioStorage` for the `s3dlio` storage type
and the drop-in `S3PyTorchConnectorStorage`): they differ only in the DLIO base class they extend. This
module does not import DLIO, so it is usable (and tested) without it; the classes that do import DLIO
set `metadata_type` to DLIO's `MetadataType`.

Every URI scheme s3dlio speaks works (s3://, az://, gs://, file://, direct://). Names are resolved as
DLIO's own storages resolve them: a full URI is used exactly as written; any other name is relative to
the namespace (DLIO's `storage_root`), which is a URI or, without a scheme, an S3 bucket (and prefix).

Nothing here holds a connection or a thread: the stores behind the flat API create their pools lazily
in each process and drop them in a forked child, so the classes work under DLIO's default
`multiprocessing_context: fork` as well as `spawn`.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from typing import Any, ClassVar

from s3dlio_core import store_for_uri
from s3dlio_core.bytes_view import as_buffer
from s3dlio_core.errors import UnsupportedOperationError
from s3dlio_core.uri import SCHEME_ALIASES, parse_uri

import s3dlio

from . import _multipart_config as mp
from ._storage_options import apply_storage_options

__all__ = ["StorageOps", "traced_by", "namespace_uri", "PUBLIC_METHODS", "FRAMEWORK_NOTE"]

#: Why the DLIO classes hand DLIO's base class no framework.
FRAMEWORK_NOTE = """\
DLIO's DataStorage, given a framework, looks up the framework singleton to offer the framework's native
I/O (which these classes never use: they override every method). In a DataLoader worker started with
`multiprocessing_context: spawn`, that import runs DLIO's framework module afresh, which asks DLIO's MPI
wrapper for the communicator and fails ("DLIOMPI.comm() called in a child process"). So the classes pass
None to the base class and keep the framework type as `framework_type`."""

#: The DataStorage methods DLIO calls (wrapped for DLIO's profiler by `traced_by`).
PUBLIC_METHODS = ("get_uri", "create_namespace", "get_namespace", "create_node", "get_node", "walk_node",
                  "delete_node", "put_data", "get_data", "isfile")

_MIN_S3_PART = 5 << 20
_LOCAL_SCHEMES = frozenset({"file", "direct"})
_GLOB_CHARS = re.compile(r"[*?\[]")


def _full_uri_scheme(name: str) -> str | None:
    """The canonical scheme when `name` is a full URI of a scheme s3dlio speaks, else None."""
    i = name.find("://")
    return SCHEME_ALIASES.get(name[:i].lower()) if i > 0 else None


def namespace_uri(namespace: Any) -> str:
    """DLIO's storage_root as a full URI without a trailing '/' ('bucket/prefix' means S3).

    Raises ValueError for an empty namespace or a URI of a scheme s3dlio does not speak."""
    name = os.fspath(namespace) if not isinstance(namespace, str) else namespace
    if not isinstance(name, str) or not name.strip().strip("/"):
        raise ValueError(f"DLIO storage_root must name a bucket or a URI, got {namespace!r}")
    name = name.strip()
    if "://" in name:
        if _full_uri_scheme(name) is None:
            parse_uri(name)  # raises InvalidUriError naming the supported schemes
        scheme, _, rest = name.partition("://")
        if scheme.lower() in ("file", "direct"):
            return f"{scheme}://{rest.rstrip('/') or '/'}"
        return f"{scheme}://{rest.strip('/')}"
    return "s3://" + name.strip("/")


def _glob_regex(pattern: str) -> str:
    """A glob relative to a listed directory as an anchored regex: `*` and `?` stay within one path
    segment, `**` crosses segments, `[...]` is a character class."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 2)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:j]
                neg = body.startswith("!")
                body = body[1:] if neg else body
                out.append("[" + ("^" if neg else "") + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


class StorageOps:
    """The body of a DLIO storage class (see the module's docs). Call `_setup(namespace)` from the
    class's `__init__` after DLIO's base class has set `self._args`."""

    #: DLIO's MetadataType enum (FILE, DIRECTORY), set by the concrete class.
    metadata_type: ClassVar[Any]

    prefix: str
    scheme: str
    bucket: str
    base_path: str

    def _setup(self, namespace: Any) -> None:
        self.prefix = namespace_uri(namespace)  # validated before anything reaches the environment
        args = getattr(self, "_args", None)
        apply_storage_options(getattr(args, "storage_options", None) or {}, args)
        scheme, _, rest = self.prefix.partition("://")
        self.scheme = SCHEME_ALIASES.get(scheme.lower(), scheme)
        if self.scheme in _LOCAL_SCHEMES:
            self.bucket, self.base_path = "", rest
        else:
            self.bucket, _, self.base_path = rest.partition("/")
        if self.scheme == "s3" and not mp.multipart_disabled() and mp.multipart_part_size_bytes() < _MIN_S3_PART:
            raise ValueError(f"S3DLIO_MULTIPART_PART_SIZE_MB={os.environ.get('S3DLIO_MULTIPART_PART_SIZE_MB')} is "
                             "below S3's 5 MiB minimum part size (set it to 5 or more)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(namespace={self.prefix!r})"

    # ---------------------------------------------------------------- names
    def _make_uri(self, path: Any) -> str:
        """A full URI as written; anything else relative to the namespace (one '/' between them)."""
        name = os.fspath(path) if not isinstance(path, str) else path
        if _full_uri_scheme(name) is not None:
            return name
        name = name.lstrip("/")
        return f"{self.prefix.rstrip('/')}/{name}" if name else self.prefix

    def _dir_uri(self, path: Any) -> str:
        uri = self._make_uri(path)
        return uri if uri.endswith("/") else uri + "/"

    def get_uri(self, id: Any) -> str:
        """The full URI of `id`."""
        return self._make_uri(id)

    def get_basename(self, id: Any) -> str:
        """The last path segment of `id`."""
        return os.path.basename(os.fspath(id).rstrip("/"))

    def islocalfs(self) -> bool:
        """False: DLIO hands the bytes to put_data instead of writing paths itself (also for file://)."""
        return False

    # ---------------------------------------------------------------- namespace and nodes
    def create_namespace(self, exist_ok: bool = False) -> bool:
        """Make sure the namespace can hold objects: creates the directory on file:// and direct://,
        nothing on object stores (buckets are made by their owners)."""
        if self.scheme in _LOCAL_SCHEMES:
            s3dlio.mkdir(self._dir_uri(""))
        return True

    def get_namespace(self) -> Any:
        """The node type of the namespace itself (DIRECTORY once it holds anything)."""
        return self.get_node("")

    def create_node(self, id: Any, exist_ok: bool = False) -> bool:
        """A "directory": created on file:// and direct://; object stores need none (a validated no-op)."""
        try:
            s3dlio.mkdir(self._dir_uri(id))
        except FileExistsError:
            if not exist_ok:
                raise
        return True

    def _is_file(self, uri: str) -> bool:
        scheme = _full_uri_scheme(uri)
        if uri.endswith("/") or (scheme not in _LOCAL_SCHEMES and "/" not in uri.partition("://")[2]):
            return False  # a "directory", or a bucket itself (s3://bucket: DLIO's usual data_folder)
        try:
            s3dlio.stat(uri)
        except FileNotFoundError:  # ObjectNotFoundError is one; so is "not a file" (a directory)
            return False
        return True

    def _is_dir(self, uri: str) -> bool:
        dir_uri = uri if uri.endswith("/") else uri + "/"
        if _full_uri_scheme(dir_uri) in _LOCAL_SCHEMES:  # an empty directory is one too, as for DLIO's files
            return os.path.isdir(parse_uri(dir_uri).path)
        store, _ = store_for_uri(dir_uri)
        for _ in store.list_iter(dir_uri):  # one listing page at most, not the whole "directory"
            return True
        return False

    def get_node(self, id: Any = "") -> Any:
        """FILE if `id` is an object, DIRECTORY if objects exist under `id/`, else None."""
        uri = self._make_uri(id)
        if self._is_file(uri):
            return self.metadata_type.FILE
        if self._is_dir(uri):
            return self.metadata_type.DIRECTORY
        return None

    def isfile(self, id: Any) -> bool:
        """True if `id` is an object. Only "not found" is False: other failures (credentials, network)
        raise instead of passing for a missing object."""
        return self._is_file(self._make_uri(id))

    def walk_node(self, id: Any, use_pattern: bool = False) -> list[str]:
        """Without `use_pattern`: the names directly under `id` (objects and sub-"directories", relative
        to it, without a trailing '/'), as `os.listdir` gives them for DLIO's file storage.

        With `use_pattern`: the full URIs that the glob `id` matches (`*` and `?` within one segment,
        `**` across segments; the extension also matches in upper case), sorted, as DLIO's file storage
        returns `glob.glob` paths. Listing failures propagate; a missing directory lists as empty."""
        if not use_pattern:
            dir_uri = self._dir_uri(id)
            names = []
            for entry in s3dlio.list(dir_uri):
                name = entry[len(dir_uri):] if entry.startswith(dir_uri) else os.path.basename(entry.rstrip("/"))
                name = name.rstrip("/")
                if name:
                    names.append(name)
            return names
        uri = self._make_uri(id)
        ext = uri.rsplit(".", 1)[-1] if "." in uri.rsplit("/", 1)[-1] else ""
        if ext != ext.lower():
            raise ValueError(f"walk_node pattern {uri!r}: the extension must be given in lower case (it "
                             "also matches in upper case)")
        m = _GLOB_CHARS.search(uri)
        if m is None:
            return [uri] if self._is_file(uri) else []
        base = uri[:uri.rfind("/", 0, m.start()) + 1]
        rel = uri[len(base):]
        rx = _glob_regex(rel)
        if ext and not _GLOB_CHARS.search(ext):
            stem = _glob_regex(rel[:-len(ext)])
            rx = f"{stem}(?:{re.escape(ext)}|{re.escape(ext.upper())})"
        return sorted(s3dlio.list(base, recursive=True, pattern=f"^(?:{rx})$"))

    def delete_node(self, id: Any) -> bool:
        """Delete the object `id`, or, when `id` is a "directory", everything under it (as DLIO's file
        storage removes a tree). A missing node is not an error."""
        uri = self._make_uri(id)
        if self._is_file(uri):
            s3dlio.delete(uri)
        elif self._is_dir(uri):
            s3dlio.delete(uri if uri.endswith("/") else uri + "/", recursive=True)
        return True

    # ---------------------------------------------------------------- data
    def put_data(self, id: Any, data: Any, offset: int | None = None, length: int | None = None) -> None:
        """Write the object `id` from `data` (bytes-like, a BytesIO, or a readable binary stream).

        One PUT below S3DLIO_MULTIPART_THRESHOLD_MB, else a multipart upload (S3: parallel parts of
        S3DLIO_MULTIPART_PART_SIZE_MB, S3DLIO_MULTIPART_MAX_IN_FLIGHT at once; other stores: their
        streaming writer). Nothing is visible until the whole object is written; a failed upload is
        aborted. `length` writes only the first `length` bytes; objects have no partial writes, so an
        `offset` other than 0 raises UnsupportedOperationError."""
        uri = self._make_uri(id)
        if offset not in (None, 0):
            raise UnsupportedOperationError(f"put_data({uri!r}): objects are written whole; offset={offset!r} "
                                            "is not supported", uri)
        held: memoryview | None = None
        if isinstance(data, io.BytesIO):
            held = data.getbuffer()  # the BytesIO's own memory, no copy
            content: Any = held
        elif hasattr(data, "read") and not isinstance(data, (bytes, bytearray, memoryview)):
            if hasattr(data, "seek"):
                data.seek(0)
            content = data.read()  # a generic stream gives its bytes up only by reading them
        else:
            content = data
        view = as_buffer(content)
        try:
            if length is not None:
                if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                    raise ValueError(f"put_data({uri!r}): length must be an int >= 0, got {length!r}")
                if length > view.nbytes:
                    raise ValueError(f"put_data({uri!r}): length={length} exceeds the {view.nbytes} bytes given")
                view = view[:length]
            if mp.multipart_disabled() or view.nbytes < mp.multipart_threshold_bytes():
                s3dlio.put_bytes(uri, view)
            else:
                self._put_multipart(uri, view)
        finally:
            # A failed write keeps this frame (and its views) alive in the traceback; release them so
            # the caller's BytesIO is not left locked by an export (BufferError on close or resize).
            for export in (view, held):
                if export is not None:
                    try:
                        export.release()
                    except BufferError:
                        pass  # a slice still in use elsewhere: freed when its last user lets go

    def _put_multipart(self, uri: str, view: memoryview) -> None:
        if _full_uri_scheme(uri) == "s3":
            writer: Any = s3dlio.MultipartUploadWriter.from_uri(
                uri, part_size=mp.multipart_part_size_bytes(), max_in_flight=mp.multipart_max_in_flight(),
                abort_on_drop=True)
        else:
            store, _ = store_for_uri(uri)
            writer = store.open_writer(uri)
        try:
            writer.write(view)
            writer.close()
        except BaseException:
            writer.abort()  # now, not when a traceback lets go of the writer: no parts are left behind
            raise

    def get_data(self, id: Any, data: Any = None, offset: int | None = None,
                 length: int | None = None) -> s3dlio.BytesView:
        """The object `id` as a zero-copy BytesView: whole, or `length` bytes from `offset` (either
        alone: from 0, or to the end). `data` is ignored (DLIO passes None)."""
        uri = self._make_uri(id)
        for name, v in (("offset", offset), ("length", length)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise ValueError(f"get_data({uri!r}): {name} must be an int >= 0, got {v!r}")
        if offset is not None:
            return s3dlio.get_range(uri, offset, length)
        if length is not None:
            return s3dlio.get_range(uri, 0, length)
        return s3dlio.get(uri)


def _wrap(decorator: Callable[..., Any], fn: Callable[..., Any], name: str) -> Any:
    try:
        return decorator(fn, name=name)
    except TypeError:  # an older dftracer whose decorators take no name
        return decorator(fn)


def traced_by(profile: Any) -> Callable[[type], type]:
    """A class decorator that wraps the DataStorage methods (and `__init__`) of a StorageOps class with
    DLIO's profiler (`dlp.log` / `dlp.log_init`), as DLIO's own storages are, so DLIO's traces show
    storage calls under the class's name."""

    def decorate(cls: type) -> type:
        for name in PUBLIC_METHODS:
            setattr(cls, name, _wrap(profile.log, getattr(cls, name), f"{cls.__name__}.{name}"))
        if "__init__" in vars(cls):
            cls.__init__ = _wrap(profile.log_init, vars(cls)["__init__"], f"{cls.__name__}.__init__")  # type: ignore[misc]
        return cls

    return decorate
