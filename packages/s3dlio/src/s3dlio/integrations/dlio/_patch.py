"""`generate_patch()`: a unified diff that registers the `s3dlio` storage type in a DLIO tree.

The diff is computed against the DLIO sources it will be applied to (so its context lines and hunk
headers are exact and `patch -p1` accepts it), with paths `a/dlio_benchmark/...` and
`b/dlio_benchmark/...`. It makes four changes, each only if still needed:

1. `common/enumerations.py`: `StorageType.S3DLIO = 's3dlio'`;
2. `storage/storage_factory.py`: a branch returning `S3dlioStorage` for that type;
3. `reader/reader_factory.py`: the object-store (S3) readers for that type too, since DLIO's local-file
   readers cannot open URIs;
4. `storage/s3dlio_storage.py`: the storage class itself (a new file), so one `patch -p1` is the whole
   install.
"""

from __future__ import annotations

import difflib
import logging
import os
import pathlib
import re

from ._install import dlio_package_dir, get_s3dlio_storage_content

__all__ = ["generate_patch", "patched_sources", "DEFAULT_PATCH_FILE"]

_log = logging.getLogger("s3dlio.integrations.dlio")
DEFAULT_PATCH_FILE = "dlio_s3dlio.patch"

_FACTORY_BRANCH = (
    "{i}elif storage_type == StorageType.S3DLIO:\n"
    "{i}    from dlio_benchmark.storage.s3dlio_storage import S3dlioStorage\n"
    "{i}    return S3dlioStorage(namespace, framework)\n"
)


class _Unsupported(ValueError):
    pass


def _patch_enumerations(text: str, name: str) -> str:
    m = re.search(r"^class StorageType\b.*?:[ \t]*\n", text, re.M)
    if m is None:
        raise _Unsupported(f"{name}: no 'class StorageType' found")
    body_start = m.end()
    nxt = re.search(r"^\S", text[body_start:], re.M)
    body_end = body_start + nxt.start() if nxt else len(text)
    body = text[body_start:body_end]
    if re.search(r"^\s+S3DLIO\s*=", body, re.M):
        return text
    members = list(re.finditer(r"^([ \t]+)[A-Z][A-Z0-9_]*\s*=\s*['\"][^'\"]*['\"][ \t]*\n", body, re.M))
    if not members:
        raise _Unsupported(f"{name}: StorageType has no members of the form NAME = 'value'")
    last = members[-1]
    insert = f"{last.group(1)}S3DLIO = 's3dlio'\n"
    at = body_start + last.end()
    return text[:at] + insert + text[at:]


def _patch_storage_factory(text: str, name: str) -> str:
    if "StorageType.S3DLIO" in text:
        return text
    m = re.search(r"^([ \t]*)elif storage_type == StorageType\.S3\s*:[ \t]*\n", text, re.M)
    if m is None:
        raise _Unsupported(f"{name}: no 'elif storage_type == StorageType.S3:' branch found")
    return text[:m.start()] + _FACTORY_BRANCH.format(i=m.group(1)) + text[m.start():]


_READER_TUPLE = re.compile(r"(storage_type in \()([^)]*\bStorageType\.S3\b[^)]*)(\))")
_READER_EQ = re.compile(r"(storage_type )== StorageType\.S3\b(?!\w)")


def _patch_reader_factory(text: str, name: str) -> str:
    if "StorageType.S3DLIO" in text:
        return text
    new, n = _READER_TUPLE.subn(lambda m: f"{m.group(1)}{m.group(2)}, StorageType.S3DLIO{m.group(3)}", text)
    if n == 0:
        new, n = _READER_EQ.subn(r"\1in (StorageType.S3, StorageType.S3DLIO)", text)
    if n == 0:
        raise _Unsupported(f"{name}: no S3 reader selection (storage_type in (StorageType.S3, ...)) found")
    return new


_EDITS = (
    ("common/enumerations.py", _patch_enumerations),
    ("storage/storage_factory.py", _patch_storage_factory),
    ("reader/reader_factory.py", _patch_reader_factory),
)


def patched_sources(dlio_path: str | os.PathLike[str] | None = None) -> dict[str, tuple[str | None, str]]:
    """{path relative to the directory holding dlio_benchmark/: (current text or None, patched text)}
    for every file the patch changes. Raises ValueError for a tree this cannot patch."""
    pkg = dlio_package_dir(dlio_path)
    out: dict[str, tuple[str | None, str]] = {}
    for rel, edit in _EDITS:
        path = pkg / rel
        if not path.is_file():
            raise ValueError(f"{path} does not exist: not a DLIO tree generate_patch() knows")
        old = path.read_text(encoding="utf-8")
        try:
            new = edit(old, str(path))
        except _Unsupported as e:
            raise ValueError(f"cannot generate the s3dlio patch for this DLIO version: {e}") from None
        if new != old:
            out[f"{pkg.name}/{rel}"] = (old, new)
    storage = pkg / "storage" / "s3dlio_storage.py"
    ours = get_s3dlio_storage_content()
    current = storage.read_text(encoding="utf-8") if storage.exists() else None
    if current != ours:
        out[f"{pkg.name}/storage/s3dlio_storage.py"] = (current, ours)
    return out


def _diff(rel: str, old: str | None, new: str) -> str:
    a = (old or "").splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    fromfile = f"a/{rel}" if old is not None else "/dev/null"
    lines = []
    for line in difflib.unified_diff(a, b, fromfile=fromfile, tofile=f"b/{rel}", n=3):
        if not line.endswith("\n"):  # the last line of a file without a final newline
            line += "\n\\ No newline at end of file\n"
        lines.append(line)
    return "".join(lines)


def generate_patch(dlio_path: str | os.PathLike[str] | None = None,
                   output_file: str | os.PathLike[str] | None = None) -> str:
    """Write the patch that adds the `s3dlio` storage type to the DLIO at `dlio_path` (see the module's
    docs); returns the patch file's path (default `./dlio_s3dlio.patch`).

    `dlio_path` is the checkout that holds `dlio_benchmark/` or that directory itself; None means the
    importable `dlio_benchmark`. Apply it where `dlio_benchmark/` lives: `patch -p1 < dlio_s3dlio.patch`.
    A tree that already has everything gets an empty patch. Raises ValueError when `dlio_path` is not a
    DLIO tree, or is one whose sources do not have the places the patch changes."""
    changes = patched_sources(dlio_path)
    text = "".join(_diff(rel, old, new) for rel, (old, new) in changes.items())
    out = pathlib.Path(os.fspath(output_file) if output_file is not None else DEFAULT_PATCH_FILE)
    out.write_text(text, encoding="utf-8")
    root = dlio_package_dir(dlio_path).parent
    if text:
        _log.info("wrote %s; apply it with: cd %s && patch -p1 < %s", out, root, out.resolve())
    else:
        _log.info("DLIO at %s already has the s3dlio storage type; wrote an empty %s", root, out)
    return str(out)
