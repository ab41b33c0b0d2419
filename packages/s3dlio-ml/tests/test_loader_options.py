"""Loader options: the dict keys of features §1.8.1 (warn once on unknown keys and wrong types) and the
PyLoaderOptions builder of §1.8.5 (every builder, getter, preset and the exact to_dict() default)."""

from __future__ import annotations

import pickle
import warnings

import pytest
from s3dlio_ml.loaders import LoaderOptions, LoaderOptionWarning, PyLoaderOptions, parse_options
from s3dlio_ml.loaders import options as options_mod

DEFAULT_DICT = {
    "batch_size": 32, "drop_last": False, "shuffle": False, "seed": 0, "num_workers": 0, "prefetch": 0,
    "auto_tune": False, "pin_memory": False, "persistent_workers": False, "timeout_seconds": None,
    "non_blocking": False, "shard_rank": 0, "shard_world_size": 1, "generator_seed": None,
    "enable_transforms": False, "collate_buffer_size": 1024, "multiprocessing_context": "spawn",
    "memory_format": "auto", "sampler_type": "sequential", "sampler_replacement": None, "sampler_rank": None,
    "sampler_world_size": None,
}


@pytest.fixture(autouse=True)
def _fresh_warnings():
    options_mod._warned.clear()
    yield
    options_mod._warned.clear()


def test_defaults_are_the_originals() -> None:
    o = parse_options(None)
    assert (o.batch_size, o.drop_last, o.shuffle, o.seed, o.num_workers, o.prefetch, o.auto_tune) == \
        (32, False, False, 0, 0, 0, False)
    assert (o.reader_mode, o.part_size, o.max_inflight_parts) == ("sequential", 8 << 20, 4)
    assert (o.shard_rank, o.shard_world_size, o.worker_id, o.num_workers_pytorch, o.skip_head) == (0, 1, 0, 1, True)
    assert parse_options({}) == o


def test_every_key_is_parsed() -> None:
    o = parse_options({"batch_size": 7, "drop_last": True, "shuffle": True, "seed": 2**63, "num_workers": 3,
                       "prefetch": 5, "auto_tune": True, "reader_mode": "RANGE", "part_size": 1024,
                       "max_inflight_parts": 2, "shard_rank": 1, "shard_world_size": 2, "worker_id": 1,
                       "num_workers_pytorch": 3, "skip_head": False, "format": "Parquet", "columns": [0, 2],
                       "footer_cap": 4096, "decode": "arrow", "max_threads": 2, "timeout_seconds": 1.5})
    assert o.batch_size == 7 and o.drop_last and o.shuffle and o.seed == 2**63
    assert o.reader_mode == "range" and o.format == "parquet" and o.columns == (0, 2)
    assert o.shard_index == 1 * 3 + 1 and o.shard_count == 6
    assert o.timeout_seconds == 1.5 and not o.skip_head


def test_unknown_key_warns_once_naming_valid_keys() -> None:
    with pytest.warns(LoaderOptionWarning) as rec:
        o = parse_options({"bogus": 1, "batch_size": 4})
    assert o.batch_size == 4
    msg = str(rec[0].message)
    assert "'bogus'" in msg and "batch_size" in msg and "reader_mode" in msg and "shard_world_size" in msg
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_options({"bogus": 2})  # the same key again: no second warning


@pytest.mark.parametrize(("key", "value", "default"), [
    ("batch_size", "32", 32), ("batch_size", 0, 32), ("batch_size", True, 32), ("seed", -1, 0),
    ("seed", 2**64, 0), ("shuffle", 1, False), ("reader_mode", "parallel", "sequential"), ("prefetch", 1.5, 0),
    ("columns", "abc", None), ("timeout_seconds", -1, None),
])
def test_wrong_type_warns_and_uses_the_default(key: str, value: object, default: object) -> None:
    with pytest.warns(LoaderOptionWarning, match=f"'{key}'") as rec:
        o = parse_options({key: value})
    assert getattr(o, key) == default
    assert "Valid options" in str(rec[0].message)


def test_inconsistent_shards_raise() -> None:
    with pytest.raises(ValueError, match="shard_rank=2"):
        parse_options({"shard_rank": 2, "shard_world_size": 2})
    with pytest.raises(ValueError, match="worker_id"):
        parse_options({"worker_id": 1})
    with pytest.raises(TypeError, match="dict"):
        parse_options(["batch_size"])


def test_concurrency_and_lookahead() -> None:
    assert parse_options({}).concurrency() == 32 and parse_options({}).lookahead() == 64
    assert parse_options({"prefetch": 8}).concurrency() == 32 and parse_options({"prefetch": 8}).lookahead() == 8
    assert parse_options({"prefetch": 100}).concurrency() == 100
    assert parse_options({"num_workers": 4}).concurrency() == 4 and parse_options({"num_workers": 4}).lookahead() == 8
    assert parse_options({"auto_tune": True}).concurrency(1 << 20) == 64
    assert parse_options({"auto_tune": True}).concurrency(1 << 30) == 4
    assert parse_options({"auto_tune": True}).concurrency(1024) == 128


def test_loader_options_default_to_dict_is_exact() -> None:
    assert PyLoaderOptions().to_dict() == DEFAULT_DICT
    assert list(PyLoaderOptions().to_dict()) == list(DEFAULT_DICT)


def test_builders_return_new_objects() -> None:
    base = PyLoaderOptions()
    o = (base.with_batch_size(64).drop_last(True).shuffle(True, 42).num_workers(8).prefetch(4).auto_tune(True)
         .pin_memory(True).persistent_workers(True).with_timeout(2.5).use_fork().random_sampling(True)
         .channels_last().non_blocking(True).with_generator_seed(9).enable_transforms(True)
         .collate_buffer_size(7))
    assert base.to_dict() == DEFAULT_DICT
    d = o.to_dict()
    assert d == {**DEFAULT_DICT, "batch_size": 64, "drop_last": True, "shuffle": True, "seed": 42, "num_workers": 8,
                 "prefetch": 4, "auto_tune": True, "pin_memory": True, "persistent_workers": True,
                 "timeout_seconds": 2.5, "multiprocessing_context": "fork", "sampler_type": "random",
                 "sampler_replacement": True, "memory_format": "channels_last", "non_blocking": True,
                 "generator_seed": 9, "enable_transforms": True, "collate_buffer_size": 7}
    assert base.use_forkserver().to_dict()["multiprocessing_context"] == "forkserver"
    assert base.use_fork().use_spawn().to_dict()["multiprocessing_context"] == "spawn"
    assert base.channels_first().to_dict()["memory_format"] == "channels_first"
    assert base.distributed_sampling(1, 4).to_dict() == {**DEFAULT_DICT, "sampler_type": "distributed_random",
                                                          "sampler_rank": 1, "sampler_world_size": 4}


def test_getters_are_read_only() -> None:
    o = PyLoaderOptions().with_batch_size(3).shuffle(True, 5).num_workers(2).prefetch(6).pin_memory(True) \
        .persistent_workers(True).non_blocking(True).with_timeout(1.0).drop_last(True)
    assert (o.batch_size, o.drop_last_value, o.shuffle_value, o.seed, o.num_workers_value, o.prefetch_value) == \
        (3, True, True, 5, 2, 6)
    assert (o.pin_memory_value, o.persistent_workers_value, o.non_blocking_value, o.timeout_seconds) == \
        (True, True, True, 1.0)
    assert (o.shard_rank, o.shard_world_size) == (0, 1)
    with pytest.raises(AttributeError, match="not writable"):
        o.batch_size = 4  # type: ignore[misc]
    with pytest.raises(AttributeError):
        o.anything = 1  # type: ignore[attr-defined]
    assert callable(o.pin_memory)  # a builder method, as in the original


def test_presets() -> None:
    g = PyLoaderOptions().gpu_optimized().to_dict()
    assert g == {**DEFAULT_DICT, "pin_memory": True, "persistent_workers": True, "non_blocking": True,
                 "memory_format": "channels_first"}
    d = PyLoaderOptions().distributed_optimized(2, 8).to_dict()
    assert d == {**g, "shard_rank": 2, "shard_world_size": 8, "sampler_type": "distributed_random",
                 "sampler_rank": 2, "sampler_world_size": 8}
    assert PyLoaderOptions().debug_mode().to_dict() == {**DEFAULT_DICT, "timeout_seconds": 10.0}


def test_builder_arguments_are_checked() -> None:
    with pytest.raises(OverflowError):
        PyLoaderOptions().with_batch_size(-1)
    with pytest.raises(TypeError):
        PyLoaderOptions().shuffle("yes", 1)  # type: ignore[arg-type]


def test_loader_options_feed_the_loaders_without_warnings() -> None:
    o = PyLoaderOptions().distributed_optimized(1, 2).with_batch_size(5).shuffle(True, 3).with_timeout(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = parse_options(o)
        parse_options(o.to_dict())  # the descriptive knobs are known keys
    assert (parsed.batch_size, parsed.shuffle, parsed.seed, parsed.shard_rank, parsed.shard_world_size,
            parsed.timeout_seconds) == (5, True, 3, 1, 2, 4.0)
    assert pickle.loads(pickle.dumps(o)).to_dict() == o.to_dict()
    assert pickle.loads(pickle.dumps(parsed)) == parsed
    assert isinstance(parsed, LoaderOptions)
