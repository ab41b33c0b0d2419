"""Upstream DLIO end to end on s3dlio, against SeaweedFS.

Each run installs s3dlio into a fresh DLIO tree with the integration's own installer (run in the DLIO
venv, as a user would), generates an NPZ dataset (one 128 KiB sample per file) and trains two epochs
with PyTorch and 2 reader processes. The checks tie three views together: DLIO's own output (steps per
epoch in its log and JSON, files and epochs in summary.json), the requests DLIO's processes sent (a
recording proxy: one PUT or one multipart upload per file, one GET per sample per epoch) and the objects
on the server (listed and loaded with boto3 and numpy, no multipart upload left open).

Runs: the drop-in with `multiprocessing_context: fork` (DLIO's default, under which the original hangs),
with `spawn`, with every write through multipart (S3DLIO_MULTIPART_THRESHOLD_MB=0), and the `s3dlio`
storage type added by generate_patch()'s patch, applied with the real `patch -p1`.
"""

from __future__ import annotations

import io
import pathlib
import re
import subprocess
from collections import Counter
from typing import Any

import dlio_env
import numpy as np
import pytest

BUCKET = "dlio"  # the bucket the tier's SeaweedFS has (conftest)

NUM_FILES = 32
BATCH = 4
EPOCHS = 2
SAMPLE_BYTES = 128 * 1024
# DLIO's NPZ generator: a uint8 record of side int(sqrt(record_length)), one sample per file
SIDE = int(SAMPLE_BYTES ** 0.5)

# a fresh DLIO venv (first run on a machine) plus one DLIO run fit well inside this on 2 cores
pytestmark = pytest.mark.timeout(1800)

_LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<path>[^? ]+)(?:\?(?P<query>\S*))? HTTP/1\.[01]$")


def _requests(proxy: Any, prefix: str) -> list[tuple[str, str, str]]:
    """(method, key, query) of the recorded requests for objects under `prefix` in the bucket."""
    out = []
    for line in list(proxy.requests):
        m = _LINE.match(line)
        if m and m["path"].startswith(f"/{BUCKET}/{prefix}/"):
            out.append((m["method"], m["path"][len(BUCKET) + 2:], m["query"] or ""))
    return out


def _options(tier: Any, proxy: Any) -> dict[str, str]:
    assert tier.bucket == BUCKET
    return {"access_key_id": tier.access_key, "secret_access_key": tier.secret_key,
            "endpoint_url": f"http://{proxy.hostport}", "region": "us-east-1"}


def _install_dropin(python: str, tree: pathlib.Path) -> None:
    """The integration's own installer, run in the DLIO venv as a user would run it."""
    proc = subprocess.run([python, "-m", "s3dlio.integrations.dlio", "install-dropin", str(tree)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    storage = tree / "dlio_benchmark" / "storage"
    assert (storage / "s3_torch_storage.py.original.bak").exists()
    assert "s3torchconnector._s3client" in (storage / "s3_torch_storage.py.original.bak").read_text()
    assert "S3PyTorchConnectorStorage" in (storage / "s3_torch_storage.py").read_text()


def _run(tier: Any, python: str, tree: pathlib.Path, tmp_path: pathlib.Path, name: str, *, context: str,
         storage_type: str = "s3", storage_root: str = BUCKET, data_folder: str, options: dict[str, str],
         env: dict[str, str] | None = None) -> dlio_env.DlioRun:
    workload = dlio_env.workload_yaml(data_folder=data_folder, storage_type=storage_type,
                                      storage_root=storage_root, storage_options=options, num_files=NUM_FILES,
                                      context=context, epochs=EPOCHS, batch_size=BATCH,
                                      record_bytes=SAMPLE_BYTES)
    run = dlio_env.run_dlio(python, tree, tmp_path / "work", workload, env=env, timeout=900)
    tier.record_timing(name, run.seconds)
    assert not run.timed_out, f"DLIO hung ({name}); output:\n{run.stdout[-6000:]}"
    assert run.returncode == 0, f"DLIO failed ({name}):\n{run.stdout[-8000:]}"
    return run


def _check(tier: Any, run: dlio_env.DlioRun, proxy: Any, s3: Any, prefix: str, *, multipart: bool) -> None:
    steps = NUM_FILES // BATCH
    # ---- DLIO's own account of the run
    log = run.log()
    assert "Generation done" in log
    for epoch in range(1, EPOCHS + 1):
        assert f"Ending epoch {epoch} - {steps} steps completed" in log, log[-4000:]
    assert f"Ending epoch {EPOCHS + 1} " not in log
    summary = run.summary()
    assert summary["num_files_train"] == NUM_FILES and summary["num_samples_per_file"] == 1
    assert summary["epochs"] == EPOCHS
    assert len(summary["metric"]["train_throughput_samples_per_second"]) == EPOCHS
    assert all(v > 0 for v in summary["metric"]["train_throughput_samples_per_second"])
    out = run.rank_output(0)
    for epoch in range(1, EPOCHS + 1):
        assert [len(v) for v in out[str(epoch)]["proc"].values()] == [steps]
    samples_read = steps * BATCH * EPOCHS  # what DLIO says it consumed

    # ---- what DLIO's processes asked the server for
    reqs = _requests(proxy, prefix)
    train = [r for r in reqs if r[1].startswith(f"{prefix}/train/") and r[1].endswith(".npz")]
    names = {f"{prefix}/train/img_{i:02d}_of_{NUM_FILES}.npz" for i in range(NUM_FILES)}
    gets = Counter(k for m, k, q in train if m == "GET")
    assert set(gets) == names and sum(gets.values()) == samples_read, gets
    assert all(n == EPOCHS for n in gets.values()), gets  # each sample once per epoch
    puts = [(m, k, q) for m, k, q in train if m in ("PUT", "POST")]
    if multipart:
        assert not [r for r in puts if r[0] == "PUT" and "uploadId=" not in r[2]], "a single PUT slipped through"
        assert Counter(k for m, k, q in puts if m == "POST" and q.startswith("uploads")) == dict.fromkeys(names, 1)
        assert Counter(k for m, k, q in puts if m == "PUT" and "partNumber=1" in q) == dict.fromkeys(names, 1)
        assert Counter(k for m, k, q in puts if m == "POST" and "uploadId=" in q) == dict.fromkeys(names, 1)
    else:
        assert Counter(k for m, k, q in puts) == dict.fromkeys(names, 1)
        assert all(m == "PUT" and not q for m, k, q in puts), puts

    # ---- what is on the server (boto3, independent of our client)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/")
    keys = {o["Key"]: o for o in listed.get("Contents", [])}
    assert set(keys) == names, sorted(keys)
    for key in sorted(names)[:4]:
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert len(body) == keys[key]["Size"]
        with np.load(io.BytesIO(body), allow_pickle=False) as npz:
            assert npz["x"].shape == (SIDE, SIDE, 1) and npz["x"].dtype == np.uint8
    etags = {k: o["ETag"].strip('"') for k, o in keys.items()}
    if multipart:
        assert all(e.endswith("-1") for e in etags.values()), etags  # completed one-part uploads
    else:
        assert not any("-" in e for e in etags.values()), etags
    assert not s3.list_multipart_uploads(Bucket=BUCKET, Prefix=f"{prefix}/").get("Uploads")

    # ---- no credential in anything DLIO printed or wrote
    for text in (run.stdout, log, *(p.read_text(errors="replace") for p in run.output.glob("*.json"))):
        assert tier.secret_key not in text


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dropin_trains_on_s3dlio(context: str, dlio_python: str, dlio_tree: pathlib.Path,
                                 tmp_path: pathlib.Path, proxy: Any, s3: Any, tier: Any) -> None:
    """The drop-in under DLIO's default fork (the original hangs there) and under spawn."""
    _install_dropin(dlio_python, dlio_tree)
    prefix = f"dropin-{context}"
    run = _run(tier, dlio_python, dlio_tree, tmp_path, f"drop-in, {context}", context=context,
               data_folder=f"s3://{BUCKET}/{prefix}", options=_options(tier, proxy))
    _check(tier, run, proxy, s3, prefix, multipart=False)


def test_dropin_every_write_multipart(dlio_python: str, dlio_tree: pathlib.Path, tmp_path: pathlib.Path,
                                      proxy: Any, s3: Any, tier: Any) -> None:
    """S3DLIO_MULTIPART_THRESHOLD_MB=0: every object DLIO generates goes up as a multipart upload."""
    _install_dropin(dlio_python, dlio_tree)
    prefix = "dropin-multipart"
    run = _run(tier, dlio_python, dlio_tree, tmp_path, "drop-in, every write multipart", context="fork",
               data_folder=f"s3://{BUCKET}/{prefix}", options=_options(tier, proxy),
               env={"S3DLIO_MULTIPART_THRESHOLD_MB": "0", "S3DLIO_MULTIPART_PART_SIZE_MB": "5"})
    _check(tier, run, proxy, s3, prefix, multipart=True)


def test_patch_applies_and_storage_type_s3dlio_trains(dlio_python: str, dlio_tree: pathlib.Path,
                                                      tmp_path: pathlib.Path, proxy: Any, s3: Any, tier: Any) -> None:
    """generate_patch()'s patch applies with the real `patch -p1` (and again yields nothing to do); DLIO
    then runs with `storage_type: s3dlio` and a storage_root URI with a prefix."""
    patch_file = tmp_path / "dlio_s3dlio.patch"
    gen = subprocess.run([dlio_python, "-m", "s3dlio.integrations.dlio", "patch", str(dlio_tree), "-o",
                          str(patch_file)], capture_output=True, text=True, timeout=300)
    assert gen.returncode == 0, gen.stderr
    for args in (["--dry-run"], []):
        applied = subprocess.run(["patch", "-p1", "--forward", *args], stdin=patch_file.open("rb"),
                                 cwd=dlio_tree, capture_output=True, text=True, timeout=60)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "FAILED" not in applied.stdout and "rej" not in applied.stdout
    assert "S3DLIO = 's3dlio'" in (dlio_tree / "dlio_benchmark/common/enumerations.py").read_text()
    assert (dlio_tree / "dlio_benchmark/storage/s3dlio_storage.py").read_text() == \
        subprocess.run([dlio_python, "-c", "from s3dlio.integrations.dlio import get_s3dlio_storage_content as c;"
                        "print(c(), end='')"], capture_output=True, text=True, check=True).stdout
    again = tmp_path / "again.patch"
    subprocess.run([dlio_python, "-m", "s3dlio.integrations.dlio", "patch", str(dlio_tree), "-o", str(again)],
                   check=True, capture_output=True, timeout=300)
    assert again.read_text() == ""

    prefix = "storage-type/run"
    run = _run(tier, dlio_python, dlio_tree, tmp_path, "storage_type s3dlio (patched), fork", context="fork",
               storage_type="s3dlio", storage_root=f"s3://{BUCKET}/storage-type",
               data_folder="run", options=_options(tier, proxy))
    _check(tier, run, proxy, s3, prefix, multipart=False)
