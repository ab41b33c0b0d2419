"""s3-cli on file://: every command, the error contract (one line, non-zero exit, no traceback unless -v),
clean piped output, and the installed console script."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import s3dlio
from s3dlio.cli import main
from s3dlio.cli.numbers import parse_count, parse_size


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def root(tmp_path: pathlib.Path) -> str:
    return f"file://{tmp_path}/"


def test_numbers() -> None:
    assert parse_size("20MiB") == 20 << 20
    assert parse_size("64KiB") == 65536
    assert parse_size("1_000") == 1000
    assert parse_size("4k") == 4000 and parse_size("2gb") == 2 * 10**9 and parse_size("10b") == 10
    assert parse_count("10k") == 10000 and parse_count("1Mi") == 1 << 20
    import argparse

    for bad in ("8.5MB", "-1", "10q", "abc"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_size(bad)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_count("10b")


def test_help_reads_well(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--help")
    assert rc == 0
    for word in ("ls", "stat", "get", "put", "upload", "download", "delete", "mkdir", "create-bucket",
                 "delete-bucket", "generate", "bench", "examples:"):
        assert word in out
    rc, out, _ = run(capsys, "put", "--help")
    assert rc == 0 and "--dedup" in out and "--compress" in out and "--template" in out


def test_put_generated_ls_stat_get(capsys: pytest.CaptureFixture[str], root: str) -> None:
    rc, out, err = run(capsys, "put", root + "ds/", "-n", "5", "-s", "64KiB", "-d", "1", "-x", "2")
    assert rc == 0 and "Uploaded 5 objects" in out and err == ""
    rc, out, _ = run(capsys, "ls", root + "ds/")
    assert rc == 0
    assert sorted(out.split()) == [f"{root}ds/object_{i}_of_5.dat" for i in range(5)]
    rc, out, _ = run(capsys, "ls", "-r", root, "-p", r"object_[12]_")
    assert sorted(out.split()) == [f"{root}ds/object_1_of_5.dat", f"{root}ds/object_2_of_5.dat"]
    rc, out, _ = run(capsys, "ls", "-rc", root)
    assert out.startswith("Total objects: 5 ")
    rc, out, _ = run(capsys, "stat", root + "ds/object_0_of_5.dat")
    assert rc == 0 and "Size             : 65536" in out and "ETag" in out
    rc, out, _ = run(capsys, "get", "-r", root + "ds/", "-j", "4")
    assert rc == 0 and "Benchmarked 5 objects: 327,680 bytes" in out
    assert "GET summary: attempted=5, succeeded=5, failed=0" in out


def test_get_to_file_range_and_stdout(capsys: pytest.CaptureFixture[str], root: str,
                                      tmp_path: pathlib.Path) -> None:
    s3dlio.put_bytes(root + "one.txt", b"hello world")
    dest = tmp_path / "out.txt"
    rc, _, _ = run(capsys, "get", root + "one.txt", "-o", str(dest))
    assert rc == 0 and dest.read_bytes() == b"hello world"
    rc, out, _ = run(capsys, "get", root + "one.txt", "--offset", "6", "--length", "5")
    assert rc == 0 and out.startswith("Range GET bytes 6-10: 5 bytes")
    rc, _, _ = run(capsys, "get", root + "one.txt", "--offset", "6", "-o", str(dest))
    assert dest.read_bytes() == b"world"


def test_keylist_and_failures(capsys: pytest.CaptureFixture[str], root: str, tmp_path: pathlib.Path) -> None:
    s3dlio.put_bytes(root + "k1", b"abc")
    keylist = tmp_path / "keys.txt"
    keylist.write_text(f"# comment\n{root}k1\n{root}missing\n")
    rc, out, err = run(capsys, "get", "--keylist", str(keylist), "--concurrent", "2")
    assert rc == 1
    assert "attempted=2, succeeded=1, failed=1" in out
    assert "missing" in err


def test_put_file_data_and_stdin(capsys: pytest.CaptureFixture[str], root: str, tmp_path: pathlib.Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(100_000))
    assert run(capsys, "put", root + "f.bin", "--file", str(src))[0] == 0
    assert bytes(s3dlio.get(root + "f.bin")) == src.read_bytes()
    assert run(capsys, "put", root + "d.txt", "--data", "literal")[0] == 0
    assert bytes(s3dlio.get(root + "d.txt")) == b"literal"


def test_generate_to_prefix_with_verify_and_to_file(capsys: pytest.CaptureFixture[str], root: str,
                                                    tmp_path: pathlib.Path) -> None:
    rc, out, _ = run(capsys, "generate", root + "gen/", "-n", "2", "-s", "4MiB", "-d", "2", "-x", "3",
                     "--verify")
    assert rc == 0
    assert "dedup ratio 2.00 (asked 2)" in out
    ratio = float(out.split("zstd-1 compress ratio ")[1].split()[0])
    assert abs(ratio - 3) < 0.3
    blob = tmp_path / "blob.bin"
    rc, _, _ = run(capsys, "generate", str(blob), "-s", "100000", "--seed", "7")
    assert rc == 0 and blob.read_bytes() == bytes(s3dlio.generate_data(100000, seed=7))


def test_upload_download(capsys: pytest.CaptureFixture[str], root: str, tmp_path: pathlib.Path) -> None:
    src = tmp_path / "up"
    (src / "sub").mkdir(parents=True)
    for i in range(3):
        (src / f"f{i}.dat").write_bytes(b"x" * (i + 1))
    (src / "sub" / "deep.dat").write_bytes(b"deep")
    rc, out, _ = run(capsys, "upload", str(src / "*.dat"), root + "remote/")
    assert rc == 0 and out.startswith("Uploaded 3 files (6 bytes)")
    s3dlio.put_bytes(root + "remote/sub/deep.dat", b"deep")
    dl = tmp_path / "dl"
    rc, out, _ = run(capsys, "download", "-r", root + "remote/", str(dl))
    assert rc == 0 and "Downloaded" in out
    assert sorted(str(p.relative_to(dl)) for p in dl.rglob("*") if p.is_file()) == [
        "f0.dat", "f1.dat", "f2.dat", "sub/deep.dat"]


def test_delete_mkdir_buckets(capsys: pytest.CaptureFixture[str], root: str, tmp_path: pathlib.Path) -> None:
    s3dlio.put(root + "del/", 6, template="o{}", size=10)
    rc, out, _ = run(capsys, "delete", "-r", root + "del/", "-p", "o[0-2]$")
    assert rc == 0 and out.strip() == "Deleted 3 objects"
    assert sorted(u.rsplit("/", 1)[1] for u in s3dlio.list(root + "del/")) == ["o3", "o4", "o5"]
    assert run(capsys, "rm", root + "del/o3")[0] == 0
    assert run(capsys, "delete", "-r", root + "del/")[0] == 0
    assert s3dlio.list(root + "del/", recursive=True) == []
    assert run(capsys, "mkdir", root + "newdir/a")[0] == 0
    assert (tmp_path / "newdir" / "a").is_dir()
    rc, out, _ = run(capsys, "create-bucket", root + "bkt")
    assert rc == 0 and "Successfully created" in out and (tmp_path / "bkt").is_dir()
    rc, out, _ = run(capsys, "list-buckets", root)
    assert "bkt" in out
    rc, out, _ = run(capsys, "delete-bucket", root + "bkt")
    assert rc == 0 and not (tmp_path / "bkt").exists()


def test_bench_prints_a_table_and_cleans_up(capsys: pytest.CaptureFixture[str], root: str,
                                            tmp_path: pathlib.Path) -> None:
    rc, out, _ = run(capsys, "bench", root + "b/", "-n", "8", "-s", "32KiB", "-j", "4")
    assert rc == 0
    lines = out.splitlines()
    assert lines[1].split() == ["op", "objects", "bytes", "seconds", "MB/s", "ops/s"]
    ops = [ln.split()[0] for ln in lines[2:]]
    assert ops == ["PUT", "GET", "DELETE"]
    assert lines[3].split()[1:3] == ["8", "262,144"]
    assert s3dlio.list(root + "b/", recursive=True) == []


def test_mp_get_command(capsys: pytest.CaptureFixture[str], root: str) -> None:
    s3dlio.put(root + "m/", 4, template="object_{}.dat", size=100)
    rc, out, _ = run(capsys, "mp-get", root + "m/", "-P", "2", "-n", "4", "--json")
    assert rc == 0 and '"succeeded": 4' in out


def test_errors_are_one_line_and_non_zero(capsys: pytest.CaptureFixture[str], root: str) -> None:
    rc, out, err = run(capsys, "stat", root + "nope.bin")
    assert rc == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("s3-cli: error:") and "nope.bin" in err
    assert "Traceback" not in err
    rc, _, err = run(capsys, "-v", "stat", root + "nope.bin")
    assert rc == 1 and "Traceback" in err
    rc, _, err = run(capsys, "ls", "bogus://x/")
    assert rc == 1 and "bogus://x/" in err
    rc, _, err = run(capsys, "put", root + "x/", "-s", "8.5MB")
    assert rc == 2 and "invalid size" in err
    rc, _, _ = run(capsys, "frobnicate")
    assert rc == 2


def test_oplog_dispatch(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        import s3dlio_oplog.cli  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        rc, _, err = run(capsys, "oplog", "--help")
        assert rc == 2 and "op-log commands are not installed" in err
    else:
        rc = main(["oplog", "--help"])
        assert rc == 0


def test_console_script_piped_output_is_only_results(root: str) -> None:
    exe = shutil.which("s3-cli", path=os.path.dirname(sys.executable)) or shutil.which("s3-cli")
    assert exe, "the s3-cli console script is not installed"
    p = subprocess.run([exe, "put", root + "cs/", "-n", "3", "-s", "1KiB"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == ""
    p = subprocess.run([exe, "ls", root + "cs/"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "" and len(p.stdout.split()) == 3
    p = subprocess.run([exe, "get", root + "cs/none"], capture_output=True, text=True)
    assert p.returncode == 1
    p = subprocess.run([sys.executable, "-m", "s3dlio.cli", "stat", root + "missing"], capture_output=True,
                       text=True)
    assert p.returncode == 1 and p.stderr.startswith("s3-cli: error:") and p.stderr.count("\n") == 1


def test_cp_all_directions(capsys: pytest.CaptureFixture[str], root: str, tmp_path: pathlib.Path) -> None:
    local = tmp_path / "l.bin"
    local.write_bytes(b"local bytes")
    assert run(capsys, "cp", str(local), root + "cp/")[0] == 0
    assert bytes(s3dlio.get(root + "cp/l.bin")) == b"local bytes"
    assert run(capsys, "cp", root + "cp/l.bin", root + "cp2/x.bin")[0] == 0
    assert bytes(s3dlio.get(root + "cp2/x.bin")) == b"local bytes"
    s3dlio.put_bytes(root + "cp/sub/y.bin", b"y")
    rc, out, _ = run(capsys, "cp", "-r", root + "cp/", root + "cp3/")
    assert rc == 0 and out.startswith("Copied 2 objects")
    assert sorted(u[len(root + "cp3/"):] for u in s3dlio.list(root + "cp3/", recursive=True)) == ["l.bin", "sub/y.bin"]
    out_dir = tmp_path / "down"
    assert run(capsys, "cp", "-r", root + "cp3/", str(out_dir))[0] == 0
    assert (out_dir / "sub" / "y.bin").read_bytes() == b"y"
    assert run(capsys, "cp", str(local), str(tmp_path / "z"))[0] == 1


def test_cp_large_object_streams(capsys: pytest.CaptureFixture[str], root: str, monkeypatch: pytest.MonkeyPatch,
                                 ) -> None:
    from s3dlio.cli import commands

    monkeypatch.setattr(commands, "_COPY_WHOLE", 1000)
    monkeypatch.setattr(commands, "_COPY_PIECE", 4096)
    data = bytes(s3dlio.generate_data(50_000))
    s3dlio.put_bytes(root + "big/src.bin", data)
    assert run(capsys, "cp", root + "big/src.bin", root + "big/dst.bin")[0] == 0
    assert bytes(s3dlio.get(root + "big/dst.bin")) == data
