"""`s3dlio.fsspec`: an fsspec filesystem over every s3dlio store (needs the `fsspec` extra:
`pip install s3dlio[fsspec]`).

Registered with fsspec as protocol `s3dlio` (entry point `fsspec.specs`), so no import is needed::

    import fsspec
    fs = fsspec.filesystem("s3dlio")
    fs.ls("s3://bucket/data/")                     # s3dlio URIs work as paths...
    fs.ls("s3dlio://s3/bucket/data")               # ...and so do s3dlio:// URLs
    with fsspec.open("s3dlio://s3/bucket/data/x.bin", "rb") as f:
        head = f.read(16)
    pandas.read_parquet("s3dlio://s3/bucket/t.parquet")
    zarr.open_array("s3dlio://memory/bucket/a.zarr", mode="r")

URL rule: `s3dlio://` + the s3dlio URI with its `://` replaced by `/` (`s3://b/k` -> `s3dlio://s3/b/k`,
`file:///tmp/x` -> `s3dlio://file/tmp/x`); see `s3dlio.fsspec.paths` for the table. Every operation maps onto
the store protocol (no HEAD per listed entry, ranges coalesced, streaming writers that publish on close);
see `s3dlio.fsspec.filesystem` for the mapping and where object-store semantics differ from a POSIX disk.
`import s3dlio` never imports fsspec; importing this module does.
"""

from __future__ import annotations

try:
    import fsspec as _fsspec  # noqa: F401 - the real package (absolute import), not this module
except ImportError as e:  # pragma: no cover - exercised by the import-error test in a subprocess
    raise ImportError(
        "s3dlio.fsspec needs the fsspec package: pip install 's3dlio[fsspec]'") from e

from .filesystem import S3dlioFileSystem
from .paths import PROTOCOL, strip_protocol, to_path, to_uri, to_url

__all__ = ["S3dlioFileSystem", "PROTOCOL", "to_uri", "to_path", "to_url", "strip_protocol"]
