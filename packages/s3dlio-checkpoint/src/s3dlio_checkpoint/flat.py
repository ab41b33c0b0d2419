"""The flat checkpoint functions. Each serves both forms, told apart by its arguments:

* the original's (bytes in, bytes out, explicit step/epoch/framework/rank):
  `save_checkpoint(uri, step, epoch, framework, data, user_meta=None)`, `load_checkpoint(uri)`,
  `save_distributed_shard(uri, step, epoch, framework, data, world_size, rank)`,
  `finalize_distributed_checkpoint(uri, step, epoch, framework, shard_metas, world_size, rank, user_meta=None)`,
  `load_checkpoint_with_validation(uri, validate_integrity=True)` (a shard URI) and its `_view` twin;
* the spec's (objects in, objects out): `save_checkpoint(uri=..., data={...}, compress=True)`,
  `load_checkpoint(uri)` -> that dict, `load_checkpoint_with_validation(uri, expected_keys=[...])`,
  `save_distributed_shard(uri=..., shard_data=..., rank=..., world_size=...)` and
  `finalize_distributed_checkpoint(base_uri=..., world_size=...)`.

Loading is `weights_only=True` unless the caller passes `weights_only=False` for a checkpoint it trusts.
"""

from __future__ import annotations

from typing import Any

from s3dlio_core import BytesView

from . import objects
from .errors import CheckpointError, NotAShardUriError
from .store import PyCheckpointStore

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "save_distributed_shard",
    "finalize_distributed_checkpoint",
    "load_checkpoint_with_validation",
    "load_checkpoint_with_validation_view",
]


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _require(function: str, **args: Any) -> None:
    """TypeError naming every argument of the original's form that `function` was not given."""
    missing = [name for name, value in args.items() if value is None]
    if missing:
        raise TypeError(f"{function}() missing required arguments: {', '.join(missing)}")


def save_checkpoint(
    uri: str,
    step: Any = None,
    epoch: Any = None,
    framework: str | None = None,
    data: Any = None,
    user_meta: Any = None,
    *,
    compress: bool = False,
    compression_level: int | None = None,
    strategy: str | None = None,
) -> str:
    """Save a single-rank checkpoint under `uri`; returns its manifest key.

    Original form: `save_checkpoint(uri, step, epoch, framework, data, user_meta=None)` with bytes-like
    `data` (a str raises TypeError). Spec form: `save_checkpoint(uri, data)` / `save_checkpoint(uri=...,
    data={...}, compress=True)` with any object: tensors go through torch.save, the rest through pickle,
    streamed into the store; `compress=True` stores zstd shards."""
    if step is not None and not _is_int(step) and epoch is None and framework is None and data is None:
        step, data = None, step  # save_checkpoint(uri, data)
    if step is None and epoch is None and framework is None:
        if data is None:
            raise TypeError(
                "save_checkpoint() needs data: save_checkpoint(uri, data={...}) or "
                "save_checkpoint(uri, step, epoch, framework, data)"
            )
        return objects.save_object(
            uri, data, compress, strategy=strategy, compression_level=compression_level, user_meta=user_meta
        )
    _require("save_checkpoint", step=step, epoch=epoch, framework=framework, data=data)
    level = (
        compression_level
        if compression_level is not None
        else (objects.SPEC_COMPRESSION_LEVEL if compress else None)
    )
    return PyCheckpointStore(uri, strategy=strategy, compression_level=level).save(
        step, epoch, framework, data, user_meta
    )


def load_checkpoint(uri: str, *, weights_only: bool = True, map_location: Any = None) -> Any:
    """The latest checkpoint under `uri`: a BytesView of the rank-0 shard for a checkpoint saved from
    bytes (the original's form), the saved object for one saved from an object (the spec's form), None
    when there is none. A multi-rank checkpoint raises (use `PyCheckpointStore(uri).reader()`)."""
    return objects.load_object(uri, weights_only=weights_only, map_location=map_location)


def save_distributed_shard(
    uri: str,
    step: Any = None,
    epoch: Any = None,
    framework: Any = None,
    data: Any = None,
    world_size: int | None = None,
    rank: int | None = None,
    *,
    shard_data: Any = None,
    compress: bool = False,
) -> dict[str, Any]:
    """Save one rank's shard; returns its metadata.

    Original form: `(uri, step, epoch, framework, data, world_size, rank)` with `uri` the checkpoint base
    -> {'step', 'timestamp', 'rank', 'key', 'size', 'etag', 'checksum'} (pass the list of every rank's to
    finalize_distributed_checkpoint). Spec form: `(uri=<base>/shard_<rank>.bin, shard_data=..., rank=...,
    world_size=...)`: the shard lands at `uri`, and `finalize_distributed_checkpoint(base_uri=<base>,
    world_size=...)` collects every rank's."""
    if shard_data is None and step is not None and not _is_int(step):
        shard_data = step  # (uri, data, rank, world_size)
        rank = rank if rank is not None else epoch
        world_size = world_size if world_size is not None else framework
        step = epoch = framework = None
    if shard_data is not None:
        if rank is None or world_size is None:
            raise TypeError("save_distributed_shard() needs rank and world_size with shard_data")
        return objects.save_shard_spec(uri, shard_data, rank, world_size, compress)
    _require("save_distributed_shard", step=step, epoch=epoch, framework=framework, data=data, world_size=world_size, rank=rank)
    level = objects.SPEC_COMPRESSION_LEVEL if compress else None
    store = PyCheckpointStore(uri, compression_level=level)
    return store.writer(world_size, rank).save_distributed_shard(step, epoch, framework, data)  # type: ignore[arg-type]


def finalize_distributed_checkpoint(
    uri: str | None = None,
    step: Any = None,
    epoch: Any = None,
    framework: str | None = None,
    shard_metas: list[dict[str, Any]] | None = None,
    world_size: int | None = None,
    rank: int | None = None,
    user_meta: Any = None,
    *,
    base_uri: str | None = None,
) -> str:
    """Write the manifest and then latest.json once every rank's shard is there; returns the manifest key.
    Missing ranks raise CheckpointIncompleteError naming them, and nothing becomes visible.

    Original form: `(uri, step, epoch, framework, shard_metas, world_size, rank, user_meta=None)`.
    Spec form: `(base_uri=..., world_size=...)` after every rank's `save_distributed_shard(shard_data=...)`."""
    if base_uri is not None or (shard_metas is None and framework is None and epoch is None):
        target = base_uri if base_uri is not None else uri
        if target is None:
            raise TypeError("finalize_distributed_checkpoint() needs base_uri")
        if world_size is None and _is_int(step):
            world_size = step  # finalize_distributed_checkpoint(uri, world_size)
        if world_size is None:
            raise TypeError("finalize_distributed_checkpoint() needs world_size")
        return objects.finalize_spec(target, world_size, user_meta)
    _require("finalize_distributed_checkpoint", uri=uri, step=step, epoch=epoch, framework=framework, shard_metas=shard_metas, world_size=world_size, rank=rank)
    store = PyCheckpointStore(uri)  # type: ignore[arg-type]
    return store.writer(world_size, rank).finalize_distributed_checkpoint(  # type: ignore[arg-type]
        step, epoch, framework, shard_metas, user_meta
    )  # type: ignore[arg-type]


def _validated(
    uri: str, validate_integrity: Any, expected_keys: Any, weights_only: bool, map_location: Any, view: bool
) -> Any:
    if isinstance(validate_integrity, (list, tuple, set, frozenset)):
        expected_keys, validate_integrity = validate_integrity, True  # (uri, keys)
    validate = bool(validate_integrity)
    store = PyCheckpointStore(uri)
    is_base = store.latest_manifest() is not None
    if is_base or expected_keys is not None:
        obj = objects.load_object(
            uri, validate=validate, weights_only=weights_only, map_location=map_location
        )
        if obj is None:
            raise CheckpointError(f"Load failed: no checkpoint at {uri}", uri)
        if expected_keys is not None:
            objects.check_keys(obj, expected_keys, uri)
        if isinstance(obj, BytesView) and not view:
            return obj.to_bytes()
        return obj
    if not validate:
        data = store.store.get(uri)
        return data if view else data.to_bytes()
    found = objects._shard_location(uri)
    if found is None:
        raise NotAShardUriError(
            f"cannot validate integrity of '{uri}': not a checkpoint shard URI (expected '<checkpoint base>/"
            "shards/<shard key>'); pass validate_integrity=False to read it without verification",
            uri,
        )
    s, m, shard = found
    obj = objects._decode_shard(s, m, shard, True, weights_only, map_location, True)
    if isinstance(obj, BytesView) and not view:
        return obj.to_bytes()
    return obj


def load_checkpoint_with_validation(
    uri: str,
    validate_integrity: Any = True,
    *,
    expected_keys: Any = None,
    weights_only: bool = True,
    map_location: Any = None,
) -> Any:
    """Load with checks.

    Original form: `uri` is a shard URI (`<base>/shards/<key>`); its CRC-32C is compared with the manifest
    that lists it (after zstd decoding) and the bytes are returned; `validate_integrity=False` reads it
    unchecked. Spec form: `(uri, expected_keys=[...])` loads the checkpoint at `uri` (CRC-checked),
    raising CheckpointKeysError naming any missing key."""
    return _validated(uri, validate_integrity, expected_keys, weights_only, map_location, view=False)


def load_checkpoint_with_validation_view(
    uri: str,
    validate_integrity: Any = True,
    *,
    expected_keys: Any = None,
    weights_only: bool = True,
    map_location: Any = None,
) -> Any:
    """`load_checkpoint_with_validation` returning a BytesView (no copy) for bytes checkpoints."""
    return _validated(uri, validate_integrity, expected_keys, weights_only, map_location, view=True)
