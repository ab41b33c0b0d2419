"""s3dlio.compat.s3torchconnector is a drop-in: s3torchconnector's own README examples and the notebook in
its examples/ folder, changed only in their imports, run against SeaweedFS (tests/compat/examples/).

Each example file keeps the source's bucket placeholders; the test fills them in with a fresh prefix on
the SeaweedFS of the session (AWS_ENDPOINT_URL and test credentials in the environment, as a user of a
local endpoint sets them), runs the file in a new interpreter, and checks what it printed and what it left
on the server. `torchvision` is the stand-in in tests/compat/shims (the torchvision wheel here does not
import with the CPU torch build). A further test passes `endpoint=` with AWS_ENDPOINT_URL pointing
elsewhere: the argument wins, the environment's credentials sign.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
import s3dlio

pytestmark = pytest.mark.torch

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "compat" / "examples"
SHIMS = HERE / "compat" / "shims"
BUCKET = "s3dlio-tests"


def _run(
    name: str,
    subs: dict[str, str],
    tmp_path: Path,
    env: dict[str, str] | None = None,
    timeout: float = 480,
    notebook: bool = False,
) -> str:
    """Fill the placeholders of example `name`, run it (`notebook`: cell by cell, showing each cell's
    last value, as Jupyter does), return its stdout (failing with its output)."""
    text = (EXAMPLES / name).read_text()
    for old, new in subs.items():
        assert old in text, f"{name} has no {old!r} to fill in"
        text = text.replace(old, new)
    script = tmp_path / name
    script.write_text(text)
    run_env = dict(os.environ if env is None else env)
    run_env["PYTHONPATH"] = os.pathsep.join([str(SHIMS), run_env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    runner = [str(HERE / "compat" / "run_notebook.py")] if notebook else []
    proc = subprocess.run(
        [sys.executable, *runner, str(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=run_env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, (
        f"{name} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    )
    return proc.stdout


def _line(out: str, tag: str) -> str:
    for line in out.splitlines():
        if line.startswith(tag + " "):
            return line[len(tag) + 1 :]
    raise AssertionError(f"no {tag!r} line in:\n{out}")


def _keys(prefix_uri: str) -> list[str]:
    base = f"s3://{BUCKET}/"
    return sorted(u[len(base) :] for u in s3dlio.list(prefix_uri, recursive=True))


@pytest.fixture
def uid(seaweedfs_server: object) -> str:
    return uuid.uuid4().hex[:12]


def test_readme_datasets_example_with_key_prefix(uid: str, tmp_path: Path) -> None:
    """README 'Sample Examples' block 1 and the 'Dataset interface' block: s3://b/<uid>/data/img is a key
    prefix (img0.jpg, img1.jpg and img/..., not images/ or other)."""
    selected = [f"{uid}/data/img0.jpg", f"{uid}/data/img1.jpg", f"{uid}/data/img/nested.jpg"]
    others = [f"{uid}/data/images/x.jpg", f"{uid}/data/other.jpg", f"{uid}/dataimg"]
    for i, k in enumerate(selected + others):
        s3dlio.put(f"s3://{BUCKET}/{k}", f"object {i} {k}".encode())
    out = _run("readme_datasets.py", {"<BUCKET>": BUCKET, "<PREFIX>": f"{uid}/data/img"}, tmp_path)
    for k in selected:
        assert k in out.splitlines(), f"the iterable dataset did not print {k}"
    for k in others:
        assert k not in out
    assert eval(_line(out, "KEYS")) == sorted(selected)
    last = sorted(selected)[-1]  # `content` is what the last block's loop read last (S3 lists in key order)
    assert int(_line(out, "LEN")) == len(f"object {(selected + others).index(last)} {last}".encode())


def test_readme_checkpoint_example(uid: str, tmp_path: Path) -> None:
    out = _run("readme_checkpoint.py", {"<BUCKET>": BUCKET, "<KEY>": f"{uid}/ckpt"}, tmp_path)
    assert int(_line(out, "LOADED")) == 122  # resnet18's state dict entries
    assert _keys(f"s3://{BUCKET}/{uid}/") == [f"{uid}/ckpt/epoch0.ckpt"]
    import torch

    blob = s3dlio.get(f"s3://{BUCKET}/{uid}/ckpt/epoch0.ckpt")
    state = torch.load(io.BytesIO(bytes(blob)), weights_only=True)
    assert state["fc.weight"].shape == (1000, 512)


def test_readme_dcp_examples_with_prefix_strategies(uid: str, tmp_path: Path) -> None:
    """README DCP sample (save + load), RoundRobinPrefixStrategy (save over it), the Binary/Hex/custom
    strategy blocks, and the dcp_optimized reader block (loads the round-robin checkpoint)."""
    uri = f"s3://{BUCKET}/{uid}/dcp/"
    out = _run(
        "readme_dcp.py", {"<BUCKET>": BUCKET, "<KEY>": f"{uid}/dcp", '"CHECKPOINT_URI"': f'"{uri}"'}, tmp_path
    )
    assert "DONE" in out
    assert _line(out, "PREFIX") == "custom_x/3/ 0000/epoch_1/__1_"  # Hex, one prefix (world size 1)
    keys = _keys(uri)
    assert f"{uid}/dcp/.metadata" in keys
    assert any(k.startswith(f"{uid}/dcp/shard1/epoch_5/__0_") and k.endswith(".distcp") for k in keys), keys


def test_readme_parallel_training_examples(uid: str, tmp_path: Path) -> None:
    """enable_sharding with 4 DataLoader workers, and S3MapDataset with a DistributedSampler: every
    object exactly once."""
    n = 10
    for i in range(n):
        s3dlio.put(f"s3://{BUCKET}/{uid}/train/s{i:02d}.bin", bytes([i]) * 100)
    out = _run("readme_parallel.py", {"<BUCKET>": BUCKET, "<PREFIX>": f"{uid}/train/"}, tmp_path)
    assert int(_line(out, "ITERABLE")) == n
    assert int(_line(out, "MAP")) == n


def test_readme_s3client_examples(seaweedfs_server: object, tmp_path: Path) -> None:
    """'Direct S3Client Usage' (7 MiB written and read) and the range-based reader with readinto."""
    try:
        out = _run("readme_s3client.py", {'"my-bucket"': f'"{BUCKET}"'}, tmp_path)
        assert _line(out, "READ") == f"{7 * 1048576} INTO 0"  # the README seeks to 100 MiB of a 7 MiB object
    finally:
        s3dlio.delete(f"s3://{BUCKET}/large_object.bin")


def test_getting_started_notebook(uid: str, tmp_path: Path) -> None:
    """The notebook's map dataset, PIL images, transform, DataLoader batches and checkpoint cells."""
    from PIL import Image

    sizes = []
    for i in range(48):
        buf = io.BytesIO()
        Image.new("RGB", (64, 48), (i * 5, 255 - i * 5, 128)).save(buf, format="JPEG")
        sizes.append(len(buf.getvalue()))
        s3dlio.put(f"s3://{BUCKET}/{uid}/geonet/images/volcano{i:03d}.jpg", buf.getvalue())
    out = _run(
        "notebook_getting_started.py",
        {'"s3://s3torchconnector-demo/': f'"s3://{BUCKET}/{uid}/'},
        tmp_path,
        notebook=True,
    )
    assert _line(out, "NB") == "48 (4, 3, 48, 64) 122"
    assert f"'{uid}/geonet/images/volcano042.jpg'" in out  # cell 21 shows object.key of dataset[42]
    shown = out.splitlines()
    assert shown[0] == str(sizes[42])  # cell 17 shows len(content) of dataset[42]
    assert shown[1].startswith(
        "<PIL.Image.Image image mode=RGB size=16x12"
    )  # cell 19: a 64x48 JPEG reduced by 4
    assert "<All keys matched successfully>" in shown  # cell 52: model.load_state_dict(state_dict)
    assert f"{uid}/checkpoint/epoch0.ckpt" in _keys(f"s3://{BUCKET}/{uid}/checkpoint/")


def test_endpoint_argument_wins_over_the_environment(seaweedfs_server: object, tmp_path: Path) -> None:
    """endpoint= reaches SeaweedFS while AWS_ENDPOINT_URL points at a closed port; the environment's
    credentials sign the requests."""
    uid = uuid.uuid4().hex[:12]
    for i in range(3):
        s3dlio.put(f"s3://{BUCKET}/{uid}/e/{i}.bin", bytes([i]) * (i + 1))
    endpoint = seaweedfs_server.endpoint  # type: ignore[attr-defined]
    script = tmp_path / "endpoint.py"
    script.write_text(
        textwrap.dedent(f'''
        import torch
        from s3dlio.compat.s3torchconnector import S3Checkpoint, S3IterableDataset, S3MapDataset
        from s3dlio.compat.s3torchconnector._s3client import S3Client, S3ClientConfig

        EP = {endpoint!r}
        URI = "s3://{BUCKET}/{uid}/e/"
        cfg = S3ClientConfig(force_path_style=True, max_attempts=2)
        m = S3MapDataset.from_prefix(URI, region="us-east-1", endpoint=EP, s3client_config=cfg)
        it = S3IterableDataset.from_prefix(URI, region="us-east-1", endpoint=EP, transform=lambda r: r.read())
        print("MAP", [m[i].read() for i in range(len(m))])
        print("ITER", list(it))
        ck = S3Checkpoint(region="us-east-1", endpoint=EP)
        with ck.writer(URI + "ck.pt") as w:
            torch.save({{"x": torch.arange(3)}}, w)
        with ck.reader(URI + "ck.pt") as r:
            print("CK", torch.load(r)["x"].tolist())
        c = S3Client("us-east-1", endpoint=EP)
        print("HEAD", c.head_object("{BUCKET}", "{uid}/e/2.bin").size)
    ''')
    )
    env = dict(os.environ)
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # discard port: nothing answers there
    env["S3DLIO_MAX_RETRY_ATTEMPTS"] = "1"
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert _line(proc.stdout, "MAP") == repr([b"\x00", b"\x01\x01", b"\x02\x02\x02"])
    assert _line(proc.stdout, "ITER") == repr([b"\x00", b"\x01\x01", b"\x02\x02\x02"])
    assert _line(proc.stdout, "CK") == "[0, 1, 2]"
    assert _line(proc.stdout, "HEAD") == "3"
