"""`s3-cli oplog plot`: pictures drawn from an op-log written by a real run (puts, gets, ranged reads,
listings and a failed read on file:// and memory:// in a child process, since a process has one op-log
session), checked as PNG files of the requested size with something drawn on them."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from s3dlio_oplog.cli import main as cli_main
from s3dlio_oplog.plot import _spread, plot_op_log
from s3dlio_oplog.reader import read_op_log

RUN = textwrap.dedent("""
    import os, sys
    from s3dlio_core import store_for_uri
    from s3dlio_oplog import init_op_log, finalize_op_log

    log, root = sys.argv[1], sys.argv[2]
    init_op_log(log)
    for base in (f"file://{root}/", "memory://plot-run/"):
        store, _ = store_for_uri(base)
        uris = [f"{base}obj_{i:03d}.bin" for i in range(60)]
        for i, u in enumerate(uris):
            store.put(u, os.urandom((256 << 10) if i % 4 else (1 << 20)))
        for _ in range(2):
            store.get_many(uris, max_in_flight=8)
        for u in uris[:20]:
            store.get_range(u, 1024, 4096)
        store.list(base)
        try:
            store.get(base + "missing.bin")
        except FileNotFoundError:
            pass
    finalize_op_log()
""")


@pytest.fixture(scope="module")
def run_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The op-log of a real run (written by the op-log writer in a child process)."""
    d = tmp_path_factory.mktemp("plotrun")
    log = d / "run.tsv.zst"
    subprocess.run([sys.executable, "-c", RUN, str(log), str(d / "data")], check=True, timeout=300)
    return log


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, after checking the signature and the chunk's CRC."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[16:16 + 13]
    assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(kind + body)
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82", "PNG does not end with IEND"
    return struct.unpack(">II", body[:8])


def assert_drawn(path: Path, size: tuple[int, int]) -> None:
    from matplotlib.image import imread

    assert png_size(path) == size
    pixels = imread(str(path))
    assert pixels.shape[:2] == (size[1], size[0])
    assert float(pixels[..., :3].std()) > 0.05  # lines, bars and text, not a blank canvas
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50  # more than a few flat colours


def test_plot_from_a_real_run(run_log: Path, tmp_path: Path) -> None:
    rows = list(read_op_log(str(run_log)))
    assert {"PUT", "GET", "GET_RANGE", "LIST"} <= {r.op for r in rows} and any(r.error for r in rows)
    out = tmp_path / "run.png"
    res = plot_op_log(str(run_log), str(out))
    assert (res.path, res.width, res.height, res.rows) == (str(out), 1200, 900, len(rows))
    assert {"PUT", "GET", "GET_RANGE", "LIST"} <= set(res.ops)
    assert res.span_s > 0 and res.bin_s > 0
    assert_drawn(out, (1200, 900))


def test_cli_plot(run_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "small.png"
    rc = cli_main(["plot", str(run_log), "-o", str(out), "--size", "800x600", "--dpi", "80", "--op", "GET",
                   "--op", "PUT", "--bin", "0.05", "--title", "GET and PUT"])
    text = capsys.readouterr().out
    assert rc == 0 and f"wrote {out} (800x600)" in text and "GET, PUT" in text and "0.05 s" in text
    assert_drawn(out, (800, 600))
    svg = tmp_path / "run.svg"
    assert cli_main(["plot", str(run_log), "-o", str(svg)]) == 0
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()[:2000]


def test_default_output_name(run_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli_main(["plot", str(run_log)]) == 0
    assert png_size(tmp_path / "run.png") == (1200, 900)


def test_s3_cli_console_script(run_log: Path, tmp_path: Path) -> None:
    """The meta-package's `s3-cli oplog plot`, as a user types it."""
    out = tmp_path / "cli.png"
    exe = Path(sys.executable).with_name("s3-cli")
    p = subprocess.run([str(exe), "oplog", "plot", str(run_log), "-o", str(out)], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert_drawn(out, (1200, 900))


def test_without_matplotlib_the_error_names_the_extra(run_log: Path, tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import sys
        sys.modules["matplotlib"] = None  # as if the extra were not installed
        from s3dlio_oplog.cli import main
        sys.exit(main(["plot", {str(run_log)!r}, "-o", {str(tmp_path / "x.png")!r}]))
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1
    assert "pip install 's3dlio-oplog[plot]'" in p.stderr and "s3dlio[plot]" in p.stderr
    assert "Traceback" not in p.stderr and not (tmp_path / "x.png").exists()


def test_bad_input(run_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.tsv"
    empty.write_text("idx\top\tbytes\tstart\tend\n")
    assert cli_main(["plot", str(empty), "-o", str(tmp_path / "e.png")]) == 1
    assert "no op-log rows to plot" in capsys.readouterr().err
    assert cli_main(["plot", str(run_log), "--size", "big"]) == 2  # argparse usage error
    assert cli_main(["plot", str(run_log), "-o", str(tmp_path / "t.png"), "--size", "50x50"]) == 1
    assert "too small" in capsys.readouterr().err
    assert cli_main(["plot", str(tmp_path / "nope.tsv.zst"), "-o", str(tmp_path / "n.png")]) == 1
    with pytest.raises(ValueError, match="bin width"):
        plot_op_log(str(run_log), str(tmp_path / "b.png"), bin_s=0)


def test_throughput_is_spread_over_each_operation() -> None:
    edges = np.arange(4, dtype=np.float64)  # bins [0,1) [1,2) [2,3)
    start = np.array([0.5, 1.0, 2.9])
    end = np.array([2.5, 1.0, 2.9])  # a 2 s transfer, and two instantaneous ones
    got = _spread(np, start, end, np.array([10e6, 3e6, 1e6]), edges)
    np.testing.assert_allclose(got, [2.5e6, 5e6 + 3e6, 2.5e6 + 1e6], rtol=1e-6)
    assert got.sum() == pytest.approx(14e6)
    rng = np.random.default_rng(3)
    s = rng.uniform(0, 100, 5000)
    e = np.minimum(s + rng.exponential(2.0, 5000), 100.0)
    w = rng.uniform(0, 1e6, 5000)
    spread = _spread(np, s, e, w, np.linspace(0, 100, 121))
    assert spread.sum() == pytest.approx(w.sum(), rel=1e-9) and (spread >= 0).all()
