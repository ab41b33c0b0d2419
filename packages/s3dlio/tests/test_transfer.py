"""upload / download on file://: pattern forms, both calling styles, streamed copies, and failures
reported by name after the other files complete."""

from __future__ import annotations

import os
import pathlib

import pytest
import s3dlio


@pytest.fixture
def src(tmp_path: pathlib.Path) -> pathlib.Path:
    d = tmp_path / "src"
    (d / "sub").mkdir(parents=True)
    for name in ("f1.dat", "f2.dat", "g.txt"):
        (d / name).write_bytes(name.encode() * 10)
    (d / "sub" / "s.dat").write_bytes(b"sub")
    return d


def names(uri: str, recursive: bool = True) -> list[str]:
    base = uri if uri.endswith("/") else uri + "/"
    return sorted(u[len(base):] for u in s3dlio.list(base, recursive=recursive))


def test_upload_glob_dir_file_regex(src: pathlib.Path, tmp_path: pathlib.Path) -> None:
    dst = f"file://{tmp_path}/dst"
    s3dlio.upload([str(src / "*.dat")], dst + "/glob/")
    assert names(dst + "/glob/") == ["f1.dat", "f2.dat"]
    s3dlio.upload([str(src)], dst + "/dir")  # a directory: its top-level files only; '/' implied
    assert names(dst + "/dir/") == ["f1.dat", "f2.dat", "g.txt"]
    s3dlio.upload([str(src / "g.txt"), str(src / r"f[12]\.dat")], dst + "/mix/")
    assert names(dst + "/mix/") == ["f1.dat", "f2.dat", "g.txt"]
    assert bytes(s3dlio.get(dst + "/mix/g.txt")) == b"g.txt" * 10


def test_upload_guide_style_and_no_match(src: pathlib.Path, tmp_path: pathlib.Path) -> None:
    s3dlio.upload(local_dir=str(src), remote_uri=f"file://{tmp_path}/g/", pattern="*.txt")
    assert names(f"file://{tmp_path}/g/") == ["g.txt"]
    with pytest.raises(RuntimeError, match="No files matched"):
        s3dlio.upload([str(src / "*.nothing")], f"file://{tmp_path}/g/")
    with pytest.raises(ValueError):
        s3dlio.upload([str(src)], f"file://{tmp_path}/g/", max_in_flight=0)


def test_upload_large_file_is_exact(tmp_path: pathlib.Path) -> None:
    big = tmp_path / "big.bin"
    data = bytes(s3dlio.generate_data(20 << 20))
    big.write_bytes(data)
    s3dlio.upload([str(big)], f"file://{tmp_path}/up/")
    assert bytes(s3dlio.get(f"file://{tmp_path}/up/big.bin")) == data


def test_download_recursive_flat_single_and_pattern(src: pathlib.Path, tmp_path: pathlib.Path) -> None:
    uri = f"file://{src}/"
    rec = tmp_path / "rec"
    s3dlio.download(uri, str(rec))
    assert sorted(str(p.relative_to(rec)) for p in rec.rglob("*") if p.is_file()) == [
        "f1.dat", "f2.dat", "g.txt", "sub/s.dat"]
    flat = tmp_path / "flat"
    s3dlio.download(uri, str(flat), recursive=False)
    assert sorted(os.listdir(flat)) == ["f1.dat", "f2.dat", "g.txt"]
    one = tmp_path / "one"
    s3dlio.download(f"file://{src}/g.txt", str(one))
    assert (one / "g.txt").read_bytes() == b"g.txt" * 10
    pat = tmp_path / "pat"
    s3dlio.download(remote_uri=uri, local_dir=str(pat), pattern="*.dat")
    assert sorted(str(p.relative_to(pat)) for p in pat.rglob("*") if p.is_file()) == [
        "f1.dat", "f2.dat", "sub/s.dat"]
    with pytest.raises(RuntimeError, match="No objects matched"):
        s3dlio.download(f"file://{tmp_path}/empty-nothing/", str(tmp_path / "x"))


def test_download_failure_is_reported_by_name_after_the_rest(src: pathlib.Path, tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "dl"
    (dest / "f1.dat").mkdir(parents=True)  # a directory where a file must go
    with pytest.raises(s3dlio.TransferError) as ei:
        s3dlio.download(f"file://{src}/", str(dest), recursive=False)
    assert list(ei.value.failures) == [f"file://{src}/f1.dat"]
    assert "f1.dat" in str(ei.value)
    assert (dest / "f2.dat").read_bytes() == b"f2.dat" * 10 and (dest / "g.txt").exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".s3dlio-tmp")]


def test_progress_callbacks_count_bytes(src: pathlib.Path, tmp_path: pathlib.Path) -> None:
    seen: list[int] = []
    s3dlio.upload([str(src)], f"file://{tmp_path}/p/", progress=seen.append)
    assert sorted(seen) == [50, 60, 60]
    got: list[int] = []
    s3dlio.download(f"file://{tmp_path}/p/", str(tmp_path / "pd"), progress=got.append)
    assert sorted(got) == [50, 60, 60]


def test_download_refuses_keys_that_escape_the_destination(tmp_path: pathlib.Path) -> None:
    """An object store may hold a key like 'a/../../x': downloading it must not write outside dest."""
    prefix = f"memory://dl-{os.urandom(4).hex()}/src/"
    s3dlio.put(prefix + "ok.bin", b"fine")
    s3dlio.put(prefix + "a/../../escaped.bin", b"evil")
    dest = tmp_path / "dest"
    with pytest.raises(s3dlio.TransferError) as ei:
        s3dlio.download(prefix, str(dest))
    assert "a/../../escaped.bin" in str(ei.value) and "'..'" in str(ei.value)
    assert (dest / "ok.bin").read_bytes() == b"fine"
    assert not (tmp_path / "escaped.bin").exists() and not (dest.parent / "escaped.bin").exists()
