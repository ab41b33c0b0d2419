"""Checkpoints of Python objects (the spec's form): a state dict, an optimizer state, any dict.

`save_object` serialises straight into a shard stream (`serialize`), then commits the manifest (whose
`user_meta` records the serialisation) and latest.json. `load_object` reads the shard with parallel
ranges into one buffer, checks its CRC-32C when asked, and deserialises it (`weights_only` by default).
A distributed save writes each rank's shard at the URI it is given plus a small pending record
`<base>/pending/rank-<r>.json`; `finalize_spec` turns the records into a manifest once every rank is there.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from typing import Any

from s3dlio_core import ObjectNotFoundError, bounded_map

from . import layout, serialize
from .errors import CheckpointError, CheckpointIncompleteError, CheckpointKeysError
from .manifest import Manifest, ShardMeta, dumps
from .shard_io import decode, fetch
from .store import PyCheckpointStore, verify_shard
from .writer import PyCheckpointStream

__all__ = [
    "save_object",
    "load_object",
    "save_shard_spec",
    "finalize_spec",
    "check_keys",
    "step_epoch_of",
    "SPEC_COMPRESSION_LEVEL",
    "PENDING",
]

SPEC_COMPRESSION_LEVEL = 3  # compress=True: zstd at the original's default level
PENDING = "pending/"


def _is_bytes_like(data: Any) -> bool:
    if isinstance(data, str):
        return False
    try:
        memoryview(data)
    except TypeError:
        return False
    return True


def step_epoch_of(data: Any) -> tuple[int, int]:
    """The (step, epoch) a checkpoint of `data` is filed under: its 'step' / 'global_step' / 'epoch' keys."""
    step = epoch = 0
    if isinstance(data, dict):
        e = data.get("epoch")
        if isinstance(e, int) and not isinstance(e, bool) and e >= 0:
            epoch = e
        s = data.get("step", data.get("global_step", epoch))
        if isinstance(s, int) and not isinstance(s, bool) and s >= 0:
            step = s
    return step, epoch


def _stream_object(stream: PyCheckpointStream, data: Any) -> tuple[str, dict[str, Any]]:
    """Write `data` into `stream` (raw when bytes-like, else serialised); cancel on any failure."""
    try:
        if _is_bytes_like(data):
            fmt = serialize.RAW
            stream.write_chunk(data)
        else:
            fmt = serialize.choose_format(data)
            serialize.dump(data, fmt, stream)
        return fmt, stream.finalize()
    except BaseException:
        stream.cancel()
        raise


def save_object(
    uri: str,
    data: Any,
    compress: bool = False,
    *,
    strategy: str | None = None,
    compression_level: int | None = None,
    user_meta: Any = None,
) -> str:
    """Save `data` (a dict of state dicts, any object, or bytes) as the checkpoint at `uri`; returns the
    manifest key. torch tensors are written with torch.save, other objects with pickle, streamed.
    `user_meta` is kept in the manifest (under "user" beside the serialisation record)."""
    level = (
        compression_level if compression_level is not None else (SPEC_COMPRESSION_LEVEL if compress else None)
    )
    store = PyCheckpointStore(uri, strategy=strategy, compression_level=level)
    step, epoch = step_epoch_of(data)
    fmt = serialize.RAW if _is_bytes_like(data) else serialize.choose_format(data)
    stream = store.writer(1, 0).get_distributed_shard_stream(step, epoch, serialize.framework_for(fmt))
    fmt, meta = _stream_object(stream, data)
    if fmt == serialize.RAW:
        manifest_meta = user_meta
    else:
        manifest_meta = serialize.meta_for(fmt, level is not None)
        if user_meta is not None:
            manifest_meta["user"] = user_meta
    return store.writer(1, 0).finalize_distributed_checkpoint(
        step, epoch, serialize.framework_for(fmt), [meta], manifest_meta
    )


def _shard_location(uri: str) -> tuple[PyCheckpointStore, Manifest, ShardMeta] | None:
    """A shard URI's checkpoint: the base before '/shards/' or the shard's directory, and the manifest
    that lists it."""
    candidates = []
    if "/shards/" in uri:
        candidates.append(uri.split("/shards/", 1)[0])
    parent = posixpath.dirname(uri.rstrip("/"))
    if "://" in parent and not parent.endswith(":/"):
        candidates.append(parent)
    for base in candidates:
        key = layout.relative_key(base, uri)
        if not key:
            continue
        store = PyCheckpointStore(base)
        found = store.find_shard(key)
        if found is not None:
            return store, found[0], found[1]
    return None


def _decode_shard(
    store: PyCheckpointStore,
    m: Manifest,
    shard: ShardMeta,
    validate: bool,
    weights_only: bool,
    map_location: Any,
    raw: bool,
) -> Any:
    uri = layout.key_uri(store.base, shard.key)
    fmt = serialize.format_of(m.user_meta, shard.rank)
    data: Any
    if fmt != serialize.RAW and not shard.key.endswith(".zst") and store.store.capabilities.mmap:
        data = store.store.map_object(uri)  # a local file: its page-cache pages, no copy
        if len(data) != shard.size:
            raise CheckpointError(f"shard {uri} is {len(data)} bytes, the manifest says {shard.size}", uri)
    else:
        data = decode(fetch(store.store, uri, shard.size), shard.key)
    if validate:
        verify_shard(data, shard.checksum, uri)
    if fmt == serialize.RAW:
        return data
    return serialize.load(data, fmt, uri, weights_only=weights_only, map_location=map_location)


def load_object(
    uri: str,
    *,
    validate: bool = False,
    weights_only: bool = True,
    map_location: Any = None,
    as_bytes: bool = False,
) -> Any:
    """The latest checkpoint at `uri` (a checkpoint base, or one shard's URI): the saved object
    (deserialised), or a BytesView for a checkpoint of raw bytes; None when there is none.
    `validate` checks the shard's CRC-32C (CheckpointIntegrityError names the shard)."""
    store = PyCheckpointStore(uri)
    m = store.latest_manifest()
    if m is None:
        found = _shard_location(store.base)
        if found is None:
            return None
        s, m, shard = found
        return _decode_shard(s, m, shard, validate, weights_only, map_location, as_bytes)
    if m.world_size > 1:
        raise CheckpointError(
            "Load failed: Cannot load multi-rank checkpoint with load_latest(). Use reader() directly.",
            store.base,
        )
    return _decode_shard(store, m, m.shard_for_rank(0), validate, weights_only, map_location, as_bytes)


def check_keys(obj: Any, expected_keys: Iterable[str], uri: str) -> None:
    """CheckpointKeysError naming the keys of `expected_keys` that `obj` lacks."""
    keys = [expected_keys] if isinstance(expected_keys, str) else list(expected_keys)
    if not isinstance(obj, dict):
        raise CheckpointKeysError(
            f"checkpoint {uri} holds a {type(obj).__name__}, not a dict with keys {keys}", uri, keys
        )
    missing = [k for k in keys if k not in obj]
    if missing:
        raise CheckpointKeysError(
            f"checkpoint {uri} is missing expected keys {missing} (it has {sorted(map(str, obj))})",
            uri,
            missing,
        )


def save_shard_spec(
    uri: str, shard_data: Any, rank: int, world_size: int, compress: bool = False
) -> dict[str, Any]:
    """Rank `rank`'s shard written at `uri` (atomic), then its pending record beside it; returns the meta."""
    from .writer import _check_rank

    world_size, rank = _check_rank(world_size, rank)
    base = layout.base_of(posixpath.dirname(layout.base_of(uri)))
    key = layout.relative_key(base, layout.base_of(uri))
    if not key:
        raise CheckpointError(f"cannot place shard {uri}: it names no object under a directory", uri)
    level = SPEC_COMPRESSION_LEVEL if compress else None
    store = PyCheckpointStore(base, compression_level=level)
    step, epoch = step_epoch_of(shard_data)
    stream = PyCheckpointStream(store, step, epoch, "", rank, key=key)
    fmt, meta = _stream_object(stream, shard_data)
    record = {**meta, "world_size": world_size, "serialization": fmt}
    store.store.put(layout.key_uri(base, f"{PENDING}rank-{rank}.json"), dumps(record))
    return meta


def finalize_spec(base_uri: str, world_size: int, user_meta: Any = None) -> str:
    """The manifest (then latest.json) of the shards every rank saved under `base_uri`; raises
    CheckpointIncompleteError naming the missing ranks (nothing is written then)."""
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise TypeError(f"world_size must be a positive int, got {world_size!r}")
    store = PyCheckpointStore(base_uri)
    uris = [layout.key_uri(store.base, f"{PENDING}rank-{r}.json") for r in range(world_size)]

    def record(u: str) -> dict[str, Any] | None:
        try:
            doc = json.loads(bytes(store.store.get(u)))
        except ObjectNotFoundError:
            return None
        except ValueError as e:
            raise CheckpointError(f"pending shard record {u} is not valid JSON: {e}", u) from None
        return doc if isinstance(doc, dict) else None

    records = bounded_map(record, uris, 32)  # one small GET per rank, in parallel
    missing = [r for r, rec in enumerate(records) if rec is None]
    if missing:
        raise CheckpointIncompleteError(
            f"cannot finalize distributed checkpoint {store.base}: missing shards for ranks {missing} of "
            f"world_size {world_size} (each rank must call save_distributed_shard first)",
            store.base,
            missing,
        )
    recs: list[dict[str, Any]] = [r for r in records if r is not None]
    wrong = [r for r, rec in enumerate(recs) if rec.get("world_size") != world_size or rec.get("rank") != r]
    if wrong:
        raise CheckpointIncompleteError(
            f"cannot finalize distributed checkpoint {store.base}: ranks {wrong} saved for another world_size "
            f"than {world_size}",
            store.base,
            wrong,
        )
    formats = [str(rec.get("serialization", serialize.RAW)) for rec in recs]
    meta: dict[str, Any] = {serialize.META_KEY: {"serialization": formats[0], "shard_formats": formats}}
    if user_meta is not None:
        meta["user"] = user_meta
    step, epoch = int(recs[0].get("step", 0)), int(recs[0].get("epoch", 0))
    framework = serialize.framework_for(formats[0])
    from .writer import shard_metas_to_manifest

    manifest, _ = shard_metas_to_manifest(store, step, epoch, framework, recs, world_size, meta)
    key = store._commit(manifest, layout.timestamp())
    store.store.delete_many(uris)  # the next round starts with no records
    return key
