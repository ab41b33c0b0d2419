"""Safety of the S3 store: credentials never reach logs, errors or reprs; forked DataLoader workers
read S3 through their own connections."""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

import pytest
import s3dlio
from s3dlio_core.registry import clear_store_cache, store_for_uri
from s3dlio_testsupport import server_fixtures

_servers = server_fixtures("s3")
s3_test_env = _servers.s3_test_env
seaweedfs_server = _servers.seaweedfs_server
s3_prefix = _servers.s3_prefix

ACCESS = "AKIALEAKCHECK7Q2Z9XW"
SECRET = "leakcheck/SECRET+value=do-not-print-Zq81x"
TOKEN = "leakcheckSESSIONTOKENvalueZZZ123"


def test_credentials_never_in_logs_errors_or_reprs(s3_prefix: str, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    import s3dlio._api_core as api

    monkeypatch.setattr(api, "_logging_ready", False)
    s3dlio.init_logging("debug")
    caplog.set_level(logging.DEBUG)  # every logger, botocore's included
    logger = logging.getLogger("s3dlio")
    monkeypatch.setattr(logger, "handlers", list(logger.handlers))
    monkeypatch.setattr(logger, "level", logger.level)
    monkeypatch.setattr(api, "_logging_ready", api._logging_ready)
    texts: list[str] = []

    def provoke(fn: Any) -> None:
        try:
            fn()
        except Exception as e:
            texts.extend([str(e), repr(e), str(e.__cause__), str(e.__context__)])

    # good credentials: a missing object, a bad key, a bad bucket name
    store, _ = store_for_uri(s3_prefix)
    provoke(lambda: s3dlio.get(s3_prefix + "missing"))
    provoke(lambda: s3dlio.stat(s3_prefix + "missing"))
    provoke(lambda: s3dlio.get("s3://Bad_Bucket_Name!/x"))
    s3dlio.put(s3_prefix + "ok", b"1")
    # bad credentials (with a session token), through the same code paths
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    clear_store_cache()
    try:
        store, _ = store_for_uri(s3_prefix)
        for call in (lambda: s3dlio.get(s3_prefix + "ok"), lambda: s3dlio.put(s3_prefix + "x", b"1"),
                     lambda: s3dlio.list(s3_prefix), lambda: s3dlio.stat(s3_prefix + "ok"),
                     lambda: s3dlio.delete(s3_prefix, recursive=True),
                     lambda: s3dlio.MultipartUploadWriter.from_uri(s3_prefix + "m")):
            provoke(call)
        with pytest.raises(s3dlio.PermissionDeniedError):
            s3dlio.get(s3_prefix + "ok")
        client = store.client
        texts += [repr(store), str(store), repr(client), repr(client.credentials),
                  repr(client.credentials.get()), repr(client.signer)]
        with pytest.raises(TypeError):
            import pickle

            pickle.dumps(client.credentials.get())
    finally:
        clear_store_cache()
    texts += [r.getMessage() for r in caplog.records]
    texts += [caplog.text]
    assert len(caplog.records) > 0  # debug logging really was on
    blob = "\n".join(texts)
    for secret in (ACCESS, SECRET, TOKEN, "test:test"):
        assert secret not in blob
    assert "AccessDenied" in blob or "InvalidAccessKeyId" in blob or "SignatureDoesNotMatch" in blob


def _read_in_worker(uris: list[str]) -> Any:
    import torch.utils.data as tud

    class DS(tud.Dataset):
        def __len__(self) -> int:
            return len(uris)

        def __getitem__(self, i: int) -> tuple[int, bytes, int]:
            return i, bytes(s3dlio.get(uris[i])), os.getpid()

    return tud.DataLoader(DS(), batch_size=None, num_workers=2, multiprocessing_context="fork")


@pytest.mark.torch
def test_forked_dataloader_workers_read_s3(s3_prefix: str) -> None:
    uris = [s3_prefix + f"fork/{i:02d}-{uuid.uuid4().hex[:6]}" for i in range(12)]
    s3dlio.put_many([(u, f"object {i}".encode() * 100) for i, u in enumerate(uris)])
    # the parent holds warm connections before forking
    assert [bytes(v) for _, v in s3dlio.get_many(uris)] == [f"object {i}".encode() * 100 for i in range(12)]
    seen = {}
    pids = set()
    for i, data, pid in _read_in_worker(uris):
        seen[int(i)] = data
        pids.add(int(pid))
    assert seen == {i: f"object {i}".encode() * 100 for i in range(len(uris))}
    assert os.getpid() not in pids and len(pids) == 2
    # the parent's connections still work after its children used theirs
    assert bytes(s3dlio.get(uris[3])) == b"object 3" * 100
