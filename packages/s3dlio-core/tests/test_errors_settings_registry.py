"""Error types, settings from the environment, the registry and the instrumentation point."""

from __future__ import annotations

import sys

import pytest
import s3dlio_core
from s3dlio_core import (
    BackendNotInstalledError,
    InvalidUriError,
    LengthMismatchError,
    ObjectNotFoundError,
    OpRecord,
    PermissionDeniedError,
    S3dlioError,
    Settings,
    UnsupportedOperationError,
    add_observer,
    configure,
    remove_observer,
    reset_settings,
    settings,
    store_for_uri,
)
from s3dlio_core.file_store import FileStore
from s3dlio_core.registry import register_store


def test_every_error_is_a_runtime_error_that_names_its_uri() -> None:
    for cls, extra in [(ObjectNotFoundError, FileNotFoundError), (PermissionDeniedError, PermissionError),
                       (InvalidUriError, ValueError), (UnsupportedOperationError, NotImplementedError),
                       (LengthMismatchError, ValueError)]:
        e = cls("failed for s3://b/k", "s3://b/k")
        assert isinstance(e, RuntimeError) and isinstance(e, S3dlioError) and isinstance(e, extra)
        assert e.uri == "s3://b/k" and "s3://b/k" in str(e)
    lm = LengthMismatchError("m", "u", expected=20, actual=9)
    assert (lm.expected, lm.actual) == (20, 9)


def test_settings_from_env_and_overrides(monkeypatch) -> None:
    monkeypatch.setenv("S3DLIO_RANGE_THRESHOLD_MB", "64")
    monkeypatch.setenv("S3DLIO_MAX_RETRY_ATTEMPTS", "0")  # below the minimum: default
    monkeypatch.setenv("S3DLIO_ENABLE_RANGE_OPTIMIZATION", "off")
    monkeypatch.setenv("S3DLIO_PUT_VERIFY", "yes")
    s = Settings.from_env()
    assert s.range_threshold == 64 << 20
    assert s.max_retry_attempts == 3
    assert s.enable_range_optimization is False and s.put_verify is True
    d = Settings.from_env({})
    assert (d.range_threshold, d.connect_timeout_s, d.operation_timeout_s, d.multipart_part_size) == (
        32 << 20, 20.0, 60.0, 16 << 20)
    reset_settings()
    try:
        assert settings().range_threshold == 64 << 20
        configure(range_threshold=1 << 20)
        assert settings().range_threshold == 1 << 20
        with pytest.raises(TypeError, match="unknown setting"):
            configure(no_such_thing=1)
    finally:
        reset_settings()


def test_missing_backend_says_which_package(monkeypatch) -> None:
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group=None: [])
    monkeypatch.setitem(sys.modules, "s3dlio_backends.gcs", None)  # and not importable directly either
    register_store("gs", None)
    with pytest.raises(BackendNotInstalledError) as ei:
        store_for_uri("gs://bucket/key")
    msg = str(ei.value)
    assert "gs://bucket/key" in msg and "pip install s3dlio-backends" in msg
    assert isinstance(ei.value, RuntimeError)


def test_register_store_override(tmp_path) -> None:
    class Custom(FileStore):
        pass

    register_store("file", Custom)
    try:
        store, _ = store_for_uri(f"file://{tmp_path}/x")
        assert type(store) is Custom
    finally:
        register_store("file", None)
    assert type(store_for_uri(f"file://{tmp_path}/x")[0]) is FileStore


def test_one_store_per_key(tmp_path) -> None:
    a, _ = store_for_uri(f"file://{tmp_path}/a")
    b, _ = store_for_uri(f"file://{tmp_path}/b")
    assert a is b


def test_instrumentation_records_every_operation(tmp_path) -> None:
    root = f"file://{tmp_path}/"
    store, _ = store_for_uri(root)
    seen: list[OpRecord] = []
    add_observer(seen.append)
    try:
        store.put(root + "x", b"12345")
        store.get(root + "x")
        store.get_range(root + "x", 1, 2)
        store.stat(root + "x")
        store.list(root)
        with pytest.raises(ObjectNotFoundError):
            store.get(root + "missing")
        store.delete(root + "x")
        w = store.open_writer(root + "w")
        w.write(b"abc")
        w.close()
    finally:
        remove_observer(seen.append)
    ops = [(r.op, r.bytes) for r in seen]
    assert ops == [("PUT", 5), ("GET", 5), ("GET_RANGE", 2), ("HEAD", 5), ("LIST", 0), ("GET", 0),
                   ("DELETE", 0), ("PUT", 3)]
    get = seen[1]
    assert get.uri == root + "x" and get.start_ns <= get.end_ns
    assert get.first_byte_ns == 0 or get.start_ns <= get.first_byte_ns <= get.end_ns
    assert seen[4].n_objects == 1  # one entry listed
    assert seen[5].error and "missing" in seen[5].error
    assert not s3dlio_core.instrument.is_active()
    store.get(root + "w")  # no observer: nothing recorded, nothing fails
    assert len(seen) == 8


def test_core_imports_no_heavy_dependency() -> None:
    import subprocess

    code = ("import sys, s3dlio_core; from s3dlio_core import store_for_uri; "
            "bad=[m for m in ('boto3','botocore','numpy','torch','azure','google','asyncio') if m in sys.modules];"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_core_declares_no_dependencies() -> None:
    from importlib.metadata import requires

    assert [r for r in (requires("s3dlio-core") or []) if "extra ==" not in r] == []
