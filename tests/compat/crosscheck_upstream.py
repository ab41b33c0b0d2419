"""Run the compat examples (tests/compat/examples) with s3dlio.compat.s3torchconnector and with the real
s3torchconnector against one SeaweedFS, and compare what they print. A manual check, not a test: the
real package lives in a venv of its own (it brings the AWS CRT), e.g.

    uv venv /tmp/s3tc && uv pip install --python /tmp/s3tc/bin/python /opt/wheels/torch-*.whl \\
        "s3torchconnector[dcp]==1.5.0" numpy pillow boto3
    uv run python tests/compat/crosscheck_upstream.py /tmp/s3tc/bin/python

For the upstream run the import lines go back to `s3torchconnector`. The notebook runs with
`unsigned=False` in both (upstream sends unsigned requests, which SeaweedFS refuses; s3dlio signs either
way), and the lines of its shuffled DataLoader cell are not compared. Exit status 1 if any output differs.

Last run (s3torchconnector 1.5.0): every example prints the same with both, except readme_dcp.py, which
fails upstream on its own README: `from s3torchconnector.dcp import RoundRobinPrefixStrategy` (1.5.0's
`dcp` does not export it) and `BinaryPrefixStrategy(min_prefix_len=10)` (upstream's keyword is
`min_prefix_length`); s3dlio accepts both.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from s3dlio_testsupport import s3_procs as procs  # noqa: E402

BUCKET = "crosscheck"


def _run(python: str, name: str, subs: dict[str, str], upstream: bool, work: Path) -> tuple[int, str, str]:
    text = (HERE / "examples" / name).read_text()
    if upstream:
        text = text.replace(
            "import s3dlio.compat.s3torchconnector as s3torchconnector", "import s3torchconnector"
        )
        text = text.replace("s3dlio.compat.s3torchconnector", "s3torchconnector")
    for old, new in subs.items():
        text = text.replace(old, new)
    script = work / f"{'upstream' if upstream else 'ours'}_{name}"
    script.write_text(text)
    runner = [str(HERE / "run_notebook.py")] if name.startswith("notebook") else []
    env = {**os.environ, "PYTHONPATH": str(HERE / "shims")}
    p = subprocess.run([python, *runner, str(script)], capture_output=True, text=True, timeout=900, env=env)
    return p.returncode, re.sub(r" at 0x[0-9A-Fa-f]+", "", p.stdout), p.stderr[-2000:]


def main(upstream_python: str) -> int:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": procs.TEST_KEY,
            "AWS_SECRET_ACCESS_KEY": procs.TEST_SECRET,
            "AWS_REGION": procs.TEST_REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    server = procs.start_seaweedfs()
    try:
        os.environ["AWS_ENDPOINT_URL"] = server.endpoint
        import s3dlio
        from PIL import Image

        s3dlio.create_bucket(BUCKET)
        uid = uuid.uuid4().hex[:8]
        for k in ("data/img0.jpg", "data/img1.jpg", "data/img/nested.jpg", "data/images/x.jpg", "dataimg"):
            s3dlio.put(f"s3://{BUCKET}/{uid}/{k}", k.encode())
        for i in range(10):
            s3dlio.put(f"s3://{BUCKET}/{uid}/train/s{i:02d}.bin", bytes([i]) * 100)
        for i in range(48):
            buf = io.BytesIO()
            Image.new("RGB", (64, 48), (i * 5, 255 - i * 5, 128)).save(buf, format="JPEG")
            s3dlio.put(f"s3://{BUCKET}/{uid}/geonet/images/volcano{i:03d}.jpg", buf.getvalue())
        cases = {
            "readme_datasets.py": {"<BUCKET>": BUCKET, "<PREFIX>": f"{uid}/data/img"},
            "readme_parallel.py": {"<BUCKET>": BUCKET, "<PREFIX>": f"{uid}/train/"},
            "readme_s3client.py": {'"my-bucket"': f'"{BUCKET}"'},
            "readme_checkpoint.py": {"<BUCKET>": BUCKET, "<KEY>": f"{uid}/ckpt"},
            "readme_dcp.py": {
                "<BUCKET>": BUCKET,
                "<KEY>": f"{uid}/dcp",
                '"CHECKPOINT_URI"': f'"s3://{BUCKET}/{uid}/dcp/"',
            },
            "notebook_getting_started.py": {
                '"s3://s3torchconnector-demo/': f'"s3://{BUCKET}/{uid}/',
                "unsigned=True": "unsigned=False",
            },
        }
        differ = 0
        with tempfile.TemporaryDirectory() as tmp:
            for name, subs in cases.items():
                ours = _run(sys.executable, name, subs, False, Path(tmp))
                theirs = _run(upstream_python, name, subs, True, Path(tmp))

                def shown(out: str) -> list[str]:
                    return [ln for ln in out.splitlines() if not (ln.startswith("(") and "volcano" in ln)]

                same = ours[0] == theirs[0] == 0 and shown(ours[1]) == shown(theirs[1])
                differ += not same
                print(f"{name}: ours exit {ours[0]}, s3torchconnector exit {theirs[0]}, same output: {same}")
                if not same:
                    print(
                        f"  ours: {ours[1][-600:]!r}\n  upstream: {theirs[1][-600:]!r}\n  {theirs[2][-600:]}"
                    )
        return 1 if differ else 0
    finally:
        server.stop()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
