"""A drop-in for AWS's s3torchconnector on s3dlio: change `from s3torchconnector import ...` to
`from s3dlio.compat.s3torchconnector import ...` and the code runs on every s3dlio store.

Names: S3IterableDataset, S3MapDataset (with `from_prefix` / `from_objects`, `region`, `endpoint`,
`transform`, `s3client_config`, `enable_sharding`, `reader_constructor`), S3Checkpoint (`writer(uri)` for
torch.save, `reader(uri)` for torch.load), S3Reader / SequentialS3Reader / RangedS3Reader / S3Item (`read`,
`readinto`, `seek`, `tell`, `bucket`, `key`), S3ReaderConstructor, S3Writer, S3ClientConfig, S3Exception;
`._s3client.S3Client` (get_object, put_object, list_objects, head_object, delete_object, copy_object);
`.dcp` (S3StorageWriter, S3StorageReader, the prefix strategies).

A prefix has s3torchconnector's meaning, a plain key prefix: `s3://b/data/img` selects `data/img0.jpg`,
`data/images/x.jpg` and everything under `data/img/` (one prefix listing; see `_stores.list_key_prefix`).
`endpoint=` (e.g. "http://127.0.0.1:8333") wins over AWS_ENDPOINT_URL; credentials come from the
environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), `S3ClientConfig(profile=...)` or the AWS chain.
Everything runs on the s3dlio store protocol (get / get_many / open_reader / open_writer / list_info), so
retries, ranged reads, multipart writes and concurrency are s3dlio's.

Torch: the datasets need torch (as upstream); S3Client, S3Checkpoint, the readers and the writer import
without it (the datasets load on first use of their names).

Differences from s3torchconnector
---------------------------------
* Every s3dlio scheme works, not only s3:// (gs://, az://, file://, direct://, memory://, and the
  `s3://host:port/bucket/key` form); for file:// a path that is not a directory is a path prefix. `region`
  may be omitted (AWS_REGION, else us-east-1).
* `S3ClientConfig`: `part_size` and `max_attempts` and `force_path_style` and `profile` are used;
  `throughput_target_gbps` is ignored (s3dlio tunes concurrency itself, backing off on 503/429);
  `unsigned=True` and `requester_pays=True` are accepted but not honoured: requests are always signed with
  the credentials found and carry no request-payer header.
* S3Exception is s3dlio's base error (S3dlioError): every failure is a typed s3dlio error
  (ObjectNotFoundError is also a FileNotFoundError, PermissionDeniedError a PermissionError, ...), so
  `except S3Exception` catches them all.
* Items from the default reader are `S3Item`s (an S3Reader subclass with `uri`, `read_bytes()`,
  `readall()`, `len()`, `getbuffer()`); `read()` returns bytes (as upstream).
* With the default reader, S3IterableDataset fetches objects ahead concurrently (bounded look-ahead) and
  S3MapDataset fetches a DataLoader batch concurrently (`__getitems__`); upstream reads one object at a time
  per worker when the transform reads it. An object is therefore read even if the transform never reads it.
* `enable_sharding=True` takes the rank and world size from an initialised torch.distributed group, else
  from RANK / WORLD_SIZE (torchrun), at construction; upstream only from the group.
* `S3Writer`: an exception inside its `with` block aborts the upload (no object; upstream leaves it
  unfinished until the writer is collected, which then completes it); a writer dropped without
  `close()` leaves no object. `storage_class` is not sent.
* `S3Client.get_object(bucket, key, start, end)` also takes an inclusive byte range (the original s3dlio's
  form; sequential reader only). `list_objects` groups by `delimiter` after listing (one prefix listing),
  and its `continuation_token` is an offset, not an S3 token. `copy_object` streams through this process
  (range reads into a multipart writer), not a server-side copy. Custom reader constructors receive an
  s3dlio ObjectSource as `get_stream`, not a CRT stream.
* `S3ReaderConstructor.dcp_optimized()` reads like the sequential reader outside DCP; in `dcp`, s3dlio's
  reader fetches the plan's byte ranges itself (coalesced, concurrent).
* The original s3dlio compat's forms work too: `S3IterableDataset(uri, region=None, enable_sharding=...,
  prefetch=..., num_workers=..., shuffle=..., seed=..., batch_size=..., drop_last=...)` and
  `S3MapDataset(uri, region=None, ...)` (prefetch and num_workers size the bulk prefetch; the others are kept
  in `loader_kwargs` only), `S3Item(uri, data)`, `get_object(bucket, key, start, end)`. Unlike it, the
  region goes into the client's store config (os.environ is not touched), listing happens at iteration
  (iterable) or first access (map) as upstream, and `list_objects` gives keys, not full URIs.
* Not provided: `s3torchconnector.lightning` (S3LightningCheckpoint), S3 Express-specific behaviour,
  MockS3Client, and the user-agent comments (accepted and ignored).
"""

from __future__ import annotations

from typing import Any

from s3dlio_core import S3dlioError

from ._s3client import S3Client, S3ClientConfig
from .s3checkpoint import S3Checkpoint
from .s3reader import RangedS3Reader, S3Item, S3Reader, S3ReaderConstructor, SequentialS3Reader
from .s3writer import S3Writer

S3Exception = S3dlioError


def _list_by_key_prefix(uri: str) -> list[str]:
    """The original s3dlio compat's helper: full URIs of every object whose key starts with `uri`'s key."""
    return [info.uri for info in S3Client().list_uri(uri)]


__version__ = "1.0.0+s3dlio"

__all__ = [
    "S3IterableDataset",
    "S3MapDataset",
    "S3Checkpoint",
    "S3Reader",
    "S3ReaderConstructor",
    "S3Writer",
    "S3Exception",
    "S3ClientConfig",
    "S3Client",
    "S3Item",
    "SequentialS3Reader",
    "RangedS3Reader",
    "__version__",
]

_LAZY = {"S3IterableDataset": ".s3iterable_dataset", "S3MapDataset": ".s3map_dataset"}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    try:
        module = importlib.import_module(mod, __name__)
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] != "torch":
            raise
        raise ImportError(
            f"{name} needs torch (as s3torchconnector's does): pip install 's3dlio[torch]'"
        ) from e
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
