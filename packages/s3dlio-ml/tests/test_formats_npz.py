"""NPZ on file://, memory:// and S3: every dtype, the mapping and one-array forms, the bytes a read costs,
zero-copy STORED members, DEFLATED members, numpy's own archives, the builders and bad input."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from s3dlio_core import store_for_uri
from s3dlio_ml.formats import FormatError, MemberNotFoundError, TruncatedError
from s3dlio_ml.formats.npz import (
    NpzFile,
    build_multi_npz,
    generate_npz_bytes,
    npz_with_payload,
    read_npz,
    write_npz,
)

MiB = 1 << 20


def every_dtype() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {
        "f4": rng.random((3, 4), dtype=np.float32),
        "f8_fortran": np.asfortranarray(rng.random((5, 2))),
        "f2": rng.random(7).astype(np.float16),
        "i1": np.arange(-5, 5, dtype=np.int8),
        "u8": np.arange(10, dtype=np.uint64) << np.uint64(40),
        "big_endian_i4": np.arange(6, dtype=">i4").reshape(2, 3),
        "bool": np.array([True, False, True]),
        "c16": np.array([1 + 2j, -3j]),
        "str": np.array(["a", "bcd"]),
        "bytes": np.array([b"xy", b"z"]),
        "datetime": np.array(["2024-01-02", "1999-12-31"], dtype="datetime64[D]"),
        "timedelta": np.array([1, 2], dtype="timedelta64[s]"),
        "record": np.array([(1, 2.5, b"ab")], dtype=[("a", "<i4"), ("b", "<f8"), ("c", "S2")]),
        "subarray": np.zeros(2, dtype=[("v", "<f4", (3,))]),
        "scalar": np.array(7.5),
        "empty": np.zeros((0, 4), dtype=np.int16),
        "non_contiguous": np.arange(20).reshape(4, 5)[:, ::2],
    }


def put(uri: str, data: object) -> None:
    st, _ = store_for_uri(uri)
    st.put(uri, data)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def test_every_dtype_round_trips_on_every_scheme(prefix: str) -> None:
    arrays = every_dtype()
    uri = prefix + "all.npz"
    put(uri, build_multi_npz(arrays))
    got = read_npz(uri)
    assert isinstance(got, dict) and list(got) == list(arrays)
    for k, a in arrays.items():
        assert same(got[k], a), k
        assert got[k].flags.writeable, k
    assert same(read_npz(uri, "record"), arrays["record"])
    assert same(read_npz(uri, "f4.npy"), arrays["f4"])  # with or without the suffix


def test_the_spec_form_and_numpys_own_archives(prefix: str) -> None:
    """`arrays = read_npz(uri); arrays.keys()` on archives written by np.savez and np.savez_compressed."""
    arrays = every_dtype()
    for name, save in (("plain.npz", np.savez), ("deflated.npz", np.savez_compressed)):
        bio = io.BytesIO()
        save(bio, *arrays.values())
        uri = prefix + name
        put(uri, bio.getvalue())
        got = read_npz(uri)
        assert list(got.keys()) == [f"arr_{i}" for i in range(len(arrays))]
        for i, a in enumerate(arrays.values()):
            assert same(got[f"arr_{i}"], a)


def test_one_member_reads_the_directory_then_only_that_member(prefix: str, counter: object) -> None:
    big = np.arange(2 * MiB, dtype=np.float32)  # 8 MiB
    arrays = {"head": np.zeros(MiB, dtype=np.uint8), "big": big, "tail": np.ones(3 * MiB, dtype=np.uint8)}
    uri = prefix + "big.npz"
    put(uri, build_multi_npz(arrays))
    counter.clear()  # type: ignore[attr-defined]
    arr = read_npz(uri, "big")
    reads = counter.reads(uri)  # type: ignore[attr-defined]
    assert len(reads) == 2, reads  # the suffix with the central directory, then the member
    assert reads[0].bytes <= 64 << 10
    assert big.nbytes <= reads[1].bytes <= big.nbytes + 512  # + NPY header, local header, slack
    assert same(arr, big)


def test_stored_members_are_views_over_the_fetched_buffer(tmp_path: object) -> None:
    uri = f"memory://npz-views/{id(tmp_path)}.npz"
    a = np.arange(1000, dtype=np.float64)
    put(uri, build_multi_npz({"a": a, "b": a * 2}))
    got = read_npz(uri)
    for k in ("a", "b"):
        arr = got[k]
        assert not arr.flags.owndata  # a view over the fetched buffer
        assert arr.ctypes.data % 16 == 0  # members are 64-byte aligned in our archives
    got["a"][0] = 99.0  # writable, as np.load's
    assert got["a"][0] == 99.0 and got["b"][0] == 0.0


def test_deflated_members_are_inflated_and_crc_checked(prefix: str) -> None:
    a = np.tile(np.arange(100, dtype=np.int32), 1000)
    uri = prefix + "z.npz"
    blob = bytearray(build_multi_npz({"a": a}, compress=True))
    assert len(blob) < a.nbytes // 4
    put(uri, bytes(blob))
    assert same(read_npz(uri, "a"), a)
    info = zipfile.ZipFile(io.BytesIO(bytes(blob))).getinfo("a.npy")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    # flip the stored CRC in the central directory
    cd = bytes(blob).rfind(b"PK\x01\x02")
    blob[cd + 16] ^= 0xFF
    put(uri, bytes(blob))
    with pytest.raises(FormatError, match="CRC-32"):
        read_npz(uri, "a")


def test_verify_checks_stored_crcs(tmp_path: object) -> None:
    uri = f"memory://npz-crc/{id(tmp_path)}.npz"
    blob = bytearray(build_multi_npz({"a": np.arange(100, dtype=np.int64)}))
    blob[200] ^= 1  # inside the array data
    put(uri, bytes(blob))
    read_npz(uri, "a")  # not checked by default (a STORED read costs no extra pass)
    with pytest.raises(FormatError, match=r"member .a\.npy. of memory://npz-crc/.*CRC-32"):
        read_npz(uri, "a", verify=True)


def test_builders_load_with_numpy() -> None:
    arrays = every_dtype()
    for blob in (build_multi_npz(arrays), build_multi_npz(list(arrays.items())),
                 build_multi_npz(arrays, compress=True)):
        z = np.load(io.BytesIO(bytes(blob)))
        assert z.files == list(arrays)
        for k, a in arrays.items():
            assert same(z[k], a)
        assert zipfile.ZipFile(io.BytesIO(bytes(blob))).testzip() is None
    with pytest.raises(TypeError, match="Python objects"):
        build_multi_npz({"o": np.array([{}, 1], dtype=object)})
    with pytest.raises(ValueError, match="unique"):
        build_multi_npz([("a", np.zeros(1)), ("a", np.ones(1))])


def test_members_start_on_64_byte_boundaries() -> None:
    blob = bytes(build_multi_npz({"a": np.zeros(3), "bb": np.zeros(5), "c" * 30: np.zeros(1)}))
    z = zipfile.ZipFile(io.BytesIO(blob))
    for info in z.infolist():
        n, e = int.from_bytes(blob[info.header_offset + 26:info.header_offset + 28], "little"), \
            int.from_bytes(blob[info.header_offset + 28:info.header_offset + 30], "little")
        data = info.header_offset + 30 + n + e
        assert data % 64 == 0
        assert blob[data:data + 6] == b"\x93NUMPY"


def test_write_npz_streams_to_every_scheme(prefix: str) -> None:
    arrays = every_dtype()
    uri = prefix + "streamed.npz"
    size = write_npz(uri, arrays)
    st, _ = store_for_uri(uri)
    assert st.stat(uri)["size"] == size
    got = read_npz(uri)
    assert all(same(got[k], a) for k, a in arrays.items())
    write_npz(prefix + "streamed_z.npz", arrays, compress=True)
    assert same(read_npz(prefix + "streamed_z.npz", "u8"), arrays["u8"])


def test_generate_npz_bytes_the_originals_layout() -> None:
    z = np.load(io.BytesIO(bytes(generate_npz_bytes([4, 5, 1]))))
    assert z.files == ["x", "y"]
    assert z["x"].shape == (4, 5, 1) and z["x"].dtype == np.float32
    assert z["y"].shape == (1,) and z["y"].dtype == np.int64 and not z["y"].any()
    z = np.load(io.BytesIO(bytes(generate_npz_bytes((3, 2), "<c16", num_samples=7))))
    assert z["x"].dtype == np.complex128 and z["x"].shape == (3, 2) and z["y"].shape == (7,)
    b = np.load(io.BytesIO(bytes(generate_npz_bytes([50], "|b1"))))["x"]
    assert set(np.unique(b.view(np.uint8))) <= {0, 1}
    x1 = np.load(io.BytesIO(bytes(generate_npz_bytes([64]))))["x"]
    x2 = np.load(io.BytesIO(bytes(generate_npz_bytes([64]))))["x"]
    assert x1.tobytes() != x2.tobytes()  # random contents
    with pytest.raises(TypeError, match="not a numpy dtype"):
        generate_npz_bytes([4], "xx")
    with pytest.raises(ValueError):
        generate_npz_bytes([-1])


def test_bulk_payload_header_states_the_true_shape() -> None:
    blob = npz_with_payload(1000, lambda dst: dst.__setitem__(slice(None), bytes(range(250)) * 4))
    arr = np.load(io.BytesIO(bytes(blob)))["data"]
    assert arr.shape == (1000,) and arr.dtype == np.uint8 and arr[:3].tolist() == [0, 1, 2]


def test_lazy_file_and_missing_member(prefix: str) -> None:
    uri = prefix + "m.npz"
    put(uri, build_multi_npz({"a": np.zeros(2), "b": np.ones(2)}))
    f = NpzFile(uri)
    assert f.files == ["a", "b"] and "a" in f and len(f) == 2
    assert same(f["b"], np.ones(2))
    with pytest.raises(MemberNotFoundError, match=r"'zz' is not a member of .*m\.npz.*members: a, b"):
        read_npz(uri, "zz")
    with pytest.raises(KeyError):
        f["zz"]


def test_bad_input_raises_typed_errors_naming_the_uri(prefix: str) -> None:
    good = bytes(build_multi_npz({"a": np.arange(1000, dtype=np.int64)}))
    cases = {
        "not_zip.npz": (b"this is not a zip archive" * 50, FormatError, "not a ZIP archive"),
        "empty.npz": (b"", FormatError, "not a ZIP archive"),
        "cut_directory.npz": (good[:300] + good[-100:], TruncatedError, "ZIP directory"),
    }
    for name, (blob, exc, msg) in cases.items():
        uri = prefix + name
        put(uri, blob)
        with pytest.raises(exc, match=msg) as ei:
            read_npz(uri)
        assert uri in str(ei.value) and ei.value.uri == uri
    # a directory that claims more member bytes than the object holds
    blob = bytearray(good)
    cd = blob.rfind(b"PK\x01\x02")
    blob[cd + 20:cd + 28] = (10 << 20).to_bytes(4, "little") * 2  # compressed and uncompressed size
    uri = prefix + "cut_member.npz"
    put(uri, bytes(blob))
    with pytest.raises(TruncatedError, match=r"member 'a\.npy' .* is truncated") as ei:
        read_npz(uri, "a")
    assert uri in str(ei.value)
    # a member that is no NPY array comes back as bytes, an NPY header that lies is refused
    def npy(header: bytes, body: bytes) -> bytes:
        return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + body

    zbio = io.BytesIO()
    with zipfile.ZipFile(zbio, "w") as z:
        z.writestr("notes.txt", b"hello")
        z.writestr("liar.npy", npy(b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000,), }\n", bytes(16)))
        z.writestr("evil.npy", npy(b"{'descr': __import__('os').getcwd(), 'fortran_order': False, 'shape': (1,)}\n",
                                   bytes(8)))
        z.writestr("objects.npy", npy(b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n", b"\x80" * 8))
    uri = prefix + "odd.npz"
    put(uri, zbio.getvalue())
    assert bytes(read_npz(uri, "notes.txt")) == b"hello"
    with pytest.raises(TruncatedError, match="liar"):
        read_npz(uri, "liar")
    with pytest.raises(FormatError, match="not a Python literal"):
        read_npz(uri, "evil")
    with pytest.raises(FormatError, match="pickle"):
        read_npz(uri, "objects")


def test_zip64_directory_larger_than_the_first_suffix(tmp_path: object, counter: object) -> None:
    """65,540 members: a ZIP64 end record and a 3.7 MB directory (a second range for its start)."""
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w") as z:
        for i in range(65_539):
            z.writestr(f"f{i}", b"")
        a = np.arange(10, dtype=np.int16)
        npy = io.BytesIO()
        np.save(npy, a)
        z.writestr("a.npy", npy.getvalue())
    blob = bio.getvalue()
    assert b"PK\x06\x06" in blob[-200:]  # zipfile wrote the ZIP64 end-of-central-directory record
    uri = f"memory://npz-zip64/{id(tmp_path)}.npz"
    put(uri, blob)
    counter.clear()  # type: ignore[attr-defined]
    f = NpzFile(uri)
    assert len(f) == 65_540
    assert same(f["a"], a)
    assert len(counter.reads(uri)) == 3  # type: ignore[attr-defined]  # suffix, the directory's head, member
