"""Putting the storage classes into a DLIO tree: the drop-in over `storage/s3_torch_storage.py`, or the
new `storage/s3dlio_storage.py` for the `s3dlio` storage type (registered by `generate_patch()`).

Both installed files are complete: they import only DLIO and the installed s3dlio package, never a
sibling module that is not copied along. Files are replaced atomically (temporary name, then rename),
and the original `s3_torch_storage.py` is kept once as `s3_torch_storage.py.original.bak`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pathlib
import shutil
import tempfile

__all__ = [
    "get_s3dlio_storage_path", "get_s3dlio_storage_content", "get_storage_file_path",
    "get_storage_file_content", "install_s3dlio_storage", "install_dropin_replacement", "install_to_dlio",
    "dlio_package_dir", "BACKUP_SUFFIX",
]

_log = logging.getLogger("s3dlio.integrations.dlio")
_HERE = pathlib.Path(__file__).resolve().parent
BACKUP_SUFFIX = ".original.bak"


def get_s3dlio_storage_path() -> str:
    """Path of `s3dlio_storage.py` (the `s3dlio` storage type's class, as installed into DLIO)."""
    return str(_HERE / "s3dlio_storage.py")


def get_s3dlio_storage_content() -> str:
    """Text of `s3dlio_storage.py`."""
    return pathlib.Path(get_s3dlio_storage_path()).read_text(encoding="utf-8")


def get_storage_file_path() -> str:
    """Path of the drop-in `s3_torch_storage.py`."""
    return str(_HERE / "s3_torch_storage.py")


def get_storage_file_content() -> str:
    """Text of the drop-in `s3_torch_storage.py`."""
    return pathlib.Path(get_storage_file_path()).read_text(encoding="utf-8")


def dlio_package_dir(dlio_path: str | os.PathLike[str] | None = None) -> pathlib.Path:
    """The `dlio_benchmark` package directory (the one holding `storage/`).

    `dlio_path` may be that directory, a checkout that contains it (`<path>/dlio_benchmark/storage`), or
    None for the `dlio_benchmark` importable here (found without importing it). Raises ValueError when
    none of these has a `storage/` directory."""
    if dlio_path is None:
        spec = importlib.util.find_spec("dlio_benchmark")
        if spec is None or not spec.submodule_search_locations:
            raise ValueError("no dlio_benchmark package is importable here; pass dlio_path (the DLIO "
                             "checkout or its dlio_benchmark/ directory)")
        candidates = [pathlib.Path(p) for p in spec.submodule_search_locations]
    else:
        root = pathlib.Path(os.fspath(dlio_path)).expanduser()
        candidates = [root, root / "dlio_benchmark"]
    for cand in candidates:
        if (cand / "storage").is_dir():
            return cand.resolve()
    raise ValueError(f"Invalid DLIO path: {candidates[0] / 'storage'} does not exist (pass the DLIO checkout "
                     "or its dlio_benchmark/ directory)")


def _write_atomically(target: pathlib.Path, text: str) -> None:
    """Write `text` to `target` through a temporary file in the same directory, then rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if target.exists():
            shutil.copymode(target, tmp)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def install_s3dlio_storage(dlio_path: str | os.PathLike[str] | None = None) -> str:
    """Copy `s3dlio_storage.py` into `<dlio>/storage/`; returns the installed file's path.

    DLIO also needs the `s3dlio` storage type registered (StorageType.S3DLIO, a factory branch and the
    S3 readers for it): `generate_patch(dlio_path)` writes that patch, applied with `patch -p1` in the
    directory that holds `dlio_benchmark/`. Raises ValueError for a path without `storage/`."""
    pkg = dlio_package_dir(dlio_path)
    target = pkg / "storage" / "s3dlio_storage.py"
    _write_atomically(target, get_s3dlio_storage_content())
    _log.info("installed %s; register the storage type with generate_patch(%r) and patch -p1 in %s",
              target, str(pkg.parent), pkg.parent)
    return str(target)


def install_dropin_replacement(dlio_path: str | os.PathLike[str] | None = None) -> str:
    """Replace DLIO's `storage/s3_torch_storage.py` with s3dlio's; returns the installed file's path.

    The original is kept once as `s3_torch_storage.py.original.bak` (a later install never overwrites
    that backup with s3dlio's own file). Raises ValueError for a path without `storage/`."""
    pkg = dlio_package_dir(dlio_path)
    target = pkg / "storage" / "s3_torch_storage.py"
    ours = get_storage_file_content()
    backup = target.with_name(target.name + BACKUP_SUFFIX)
    if target.exists() and not backup.exists() and target.read_text(encoding="utf-8", errors="replace") != ours:
        shutil.copy2(target, backup)
        _log.info("kept DLIO's original as %s", backup)
    _write_atomically(target, ours)
    _log.info("installed the s3dlio drop-in as %s", target)
    return str(target)


#: The original's older name for `install_dropin_replacement`.
install_to_dlio = install_dropin_replacement
