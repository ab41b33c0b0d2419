"""Seeded generation is the original's, byte for byte (s3dlio 0.10.0, dgen-data 0.2.4; features §1.6.3).

The constants below were produced by the original itself: `python
packages/s3dlio-ml/tests/test_datagen_original_bytes.py` runs ORIGINAL_CODE in the venv of
`benchmarks/_original.py` (`run_original`, PyPI s3dlio==0.10.0) and prints them. Each case is
(size, dedup, compress, seed) -> (first 32 bytes hex, last 32 bytes hex, sha256 of all bytes), read from
`s3dlio.Generator(size, dedup, compress, seed=seed)` filled with its default chunk size.
"""

from __future__ import annotations

import hashlib

import pytest
import s3dlio_ml
from s3dlio_ml import _xoshiro
from s3dlio_ml.datagen import BLOCK_SIZE

MiB = BLOCK_SIZE

ORIGINAL_CODE = r"""
import hashlib, json, s3dlio
def run(size, dedup, compress, seed, chunk=None):
    g = s3dlio.Generator(size=size, dedup=dedup, compress=compress, seed=seed)
    buf = bytearray(chunk or g.chunk_size)
    out = bytearray()
    while (n := g.fill_chunk(buf)):
        out += buf[:n]
    return bytes(out)
res = {}
for c in CASES:
    d = run(*c)
    res[repr(c)] = [d[:32].hex(), d[-32:].hex(), hashlib.sha256(d).hexdigest()]
res["1MiB-chunks"] = hashlib.sha256(run(5 << 20, 2, 3, 5, chunk=1 << 20)).hexdigest()
print(json.dumps(res))
"""

# what ORIGINAL_CODE runs: tail lengths 1..7 mod 8, partial last blocks, dedup rounding, seeds 0 and 2**64-3
CASES = [
    (2 * MiB, 1, 1, 42), (1, 1, 1, 7), (4, 1, 1, 9), (5, 1, 1, 9), (8, 1, 1, 9), (1000, 1, 3, 7),
    (1003, 1, 1, 7), (1005, 1, 1, 7), (4099, 1, 1, 2**63), (MiB, 1, 1, 0), (MiB + 600_000, 1, 2, 11),
    (3 * MiB // 2, 1, 2, 1), (5 * MiB, 2, 1, 123), (3 * MiB + 12345, 2, 4, 99), (3 * MiB + 600_000, 2, 3, 12),
    (7 * MiB, 1, 3, 0), (6 * MiB + 999_999, 4, 5, 14), (16 * MiB, 3, 3, 2**64 - 3), (9 * MiB + 5, 1, 1, 2024),
]

# (size, dedup, compress, seed): first 32 bytes, last 32 bytes, sha256 (from the original; see above)
ORIGINAL: dict[tuple[int, int, int, int], tuple[str, str, str]] = {
    (2097152, 1, 1, 42): (
        '9f6876444f4d76d091376f5774419e518ced240cfb7ce0fbb835d80c609f7db3',
        '8e3075412f8a357d2b6840e1b5dd11908d35df86572878afb418790a40b02801',
        '26487c9dd4a4c9d9c9ffb9b5e126e97e461929592d865cdaff31fe9aff9624d1'),
    (1, 1, 1, 7): (
        '00',
        '00',
        '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'),
    (4, 1, 1, 9): (
        'df235a99',
        'df235a99',
        'd265eefc6774c4c890b24c7123d1ebbd200706b48ea834a6afdcdc9f83499eac'),
    (5, 1, 1, 9): (
        'd32cac20df',
        'd32cac20df',
        'a7deed22bdc973b071a79c32a269e5f10860c1b0b3e04cab9c35358e14fda8a0'),
    (8, 1, 1, 9): (
        'd32cac20df235a99',
        'd32cac20df235a99',
        '3f37b02c18de900a7d1325454fcfc1fd2021d4b5f8bad6daf5c6593c8f88b108'),
    (1000, 1, 3, 7): (
        '3d91ae2a001a2c0e149e4efaddc80f2c7258d4b0b311b3b73c0118636a9f5d6d',
        '0000000000000000000000000000000000000000000000000000000000000000',
        'ba15179cc252535d15c3583737b592b14520d0a44e1645c91117829e30143117'),
    (1003, 1, 1, 7): (
        '3d91ae2a001a2c0e149e4efaddc80f2c7258d4b0b311b3b73c0118636a9f5d6d',
        'c28be93318cdf9f0abbeec6efee07203d642ae25ab0169c1ffdda106df41ed0c',
        'c3957668933bd01cce7bc0da0b8cfaee0581a7cfbec4b08cc3ad96cb5d133b59'),
    (1005, 1, 1, 7): (
        '3d91ae2a001a2c0e149e4efaddc80f2c7258d4b0b311b3b73c0118636a9f5d6d',
        'e93318cdf9f0abbeec6efee07203d642ae25ab0169c1ffdda106df53a6829841',
        '9df83655155604b55c81357547f7bcce81647e6f2e40a53657773966fa98bdc7'),
    (4099, 1, 1, 9223372036854775808): (
        '4e9afa7c4707eada8953a12ce60813b62441e7c502dd3cfbe17341a833db1b81',
        '1dbf99fadc71ac387207e8ad500f43978471d779401e4614ee006c9fe9065027',
        '2a0250fd17e59afd46b8dc114e94b2a62a5350a74167e13d8e96103e3c00309a'),
    (1048576, 1, 1, 0): (
        'df230b49615d175307d580c33d6fda61fc7b9aec91df0f5c1a5ebe3b8cbfee02',
        '834a3c60cc4b57c8e8784f818c57fce4b9fdf5dae6dda8f5141bffce0b52fa81',
        '25d898c6a1054085d56aa4d622003b76cde3bd029e55c495158331f6c78a264e'),
    (1648576, 1, 2, 11): (
        '8042696accbb1adc95ace6b893a174ce399dd8f4ee10d6f60dc02d85b8786c9a',
        '0000000000000000000000000000000000000000000000000000000000000000',
        'b15e27a0c0a539f592572eb2a06bc04d642a310266d15424208d3645133106f2'),
    (1572864, 1, 2, 1): (
        '9bc2036f7fd0c5cf8de03f96324142bf20f5aa57577da319d656cd059f1108bf',
        '0000000000000000000000000000000000000000000000000000000000000000',
        '3c879f1df625773d6ea325e3b5aa03a7372b5401b103feb85b2425f4d386c954'),
    (5242880, 2, 1, 123): (
        '7a9810f8355756a52e668de5424691d67f8809b7fe2175aafb6b8d555cd13c86',
        '318f3d1dfd0ba3e7e8e94d421e709340965921cb9f0e8e6a7374eed4f010fbe4',
        '83d3dbdde5f9c24fc103e62cdc3957a27c27da9aa7f7291b35a89cc47ce20668'),
    (3158073, 2, 4, 99): (
        '84fe75a98280762c06f289aa8d21c4ccc486cf2520fa1d7d053b947e5790060b',
        '0000000000000000000000000000000000000000000000000000000000000000',
        '035ef61f4ff70d76310d12c8cd1b3c3dc14cd2b4feeea0eb663277af2547f61d'),
    (3745728, 2, 3, 12): (
        'c3801c00795cd593ecaabeb73a4699e19463bc1796faa9ac3a6ea25da99b8142',
        '0000000000000000000000000000000000000000000000000000000000000000',
        'd89f6766e0140472d5456232837ceb4eec7838d67728e899b0e1cad48014a3d2'),
    (7340032, 1, 3, 0): (
        'df230b49615d175307d580c33d6fda61fc7b9aec91df0f5c1a5ebe3b8cbfee02',
        '0000000000000000000000000000000000000000000000000000000000000000',
        'a003c947d6867d8943bd5a3b25e1208ff4d56c1ea05a630d4d5bfe80ad06d928'),
    (7291455, 4, 5, 14): (
        '31bce59daee670d9d12eb4e1758be71827be72889b9794a7e91c2f5657a060c5',
        '0000000000000000000000000000000000000000000000000000000000000000',
        'aa103052a2989e3b3f2e76326cb0bb6efcfc5a23ac9a3253bbd802da2d9a8860'),
    (16777216, 3, 3, 18446744073709551613): (
        '37215529866bbe8222b4e2c70baa510e1d89fe918f76d72fff87901444b92c23',
        '0000000000000000000000000000000000000000000000000000000000000000',
        '2c88946cf9a320253ad5297a9013d32d0c96d85baf28520e161a07d6b00d11b2'),
    (9437189, 1, 1, 2024): (
        'd182ed8f3f254186f96af62ac6ee7e4b2a6b74cfe95f593e6c47460343aaf16b',
        '71d3ffa0f2d9283636d177c66d30c28e89e606f820aeaaea192dea88d89f1a5a',
        'efb911580288a3104094b699757e9fb76e9f5fd1322c670a93af9260b4537ca6'),
}
ORIGINAL_5MIB_2_3_SEED5_IN_1MIB_CHUNKS = 'b08388a30b67da586f76b0659b172e4c25527e59fe2be00843f6d0c60c86f2a2'


def ours(size: int, dedup: int, compress: int, seed: int, chunk: int | None = None) -> bytes:
    g = s3dlio_ml.Generator(size, dedup, compress, seed=seed)
    buf = bytearray(chunk or g.chunk_size)
    out = bytearray()
    while n := g.fill_chunk(buf):
        out += buf[:n]
    return bytes(out)


def test_the_issue_check_value() -> None:
    g = s3dlio_ml.Generator(size=2 * MiB, seed=42)
    buf = bytearray(16)
    g.fill_chunk(buf)
    assert buf.hex() == "9f6876444f4d76d091376f5774419e51"


@pytest.mark.parametrize("case", sorted(ORIGINAL), ids=repr)
def test_generator_matches_the_original(case: tuple[int, int, int, int]) -> None:
    head, tail, digest = ORIGINAL[case]
    data = ours(*case)
    assert len(data) == case[0]
    assert data[:32].hex() == head
    assert data[-32:].hex() == tail
    assert hashlib.sha256(data).hexdigest() == digest


@pytest.mark.parametrize("case", [c for c in sorted(ORIGINAL) if c[0] < 8 * MiB], ids=repr)
def test_every_seeded_call_gives_the_same_bytes(case: tuple[int, int, int, int]) -> None:
    """generate_data, generate_data_with_threads, generate_into_buffer and odd-sized Generator fills."""
    size, dedup, compress, seed = case
    digest = ORIGINAL[case][2]
    assert hashlib.sha256(s3dlio_ml.generate_data(size, dedup, compress, seed=seed)).hexdigest() == digest
    many = s3dlio_ml.generate_data_with_threads(size, dedup, compress, threads=3, seed=seed)
    assert hashlib.sha256(many).hexdigest() == digest
    buf = bytearray(size)
    s3dlio_ml.generate_into_buffer(buf, dedup, compress, seed=seed)
    assert hashlib.sha256(buf).hexdigest() == digest
    assert hashlib.sha256(ours(size, dedup, compress, seed, chunk=300_001)).hexdigest() == digest


def test_one_mib_fills_match_the_original() -> None:
    data = ours(5 * MiB, 2, 3, 5, chunk=MiB)
    assert hashlib.sha256(data).hexdigest() == ORIGINAL_5MIB_2_3_SEED5_IN_1MIB_CHUNKS


def test_lanes_match_the_plain_stream_at_every_offset() -> None:
    """The vectorised lanes against the sequential reference, for ranges that start and end anywhere."""
    import random

    rnd = random.Random(7)
    for _ in range(12):
        seed, rlen = rnd.getrandbits(64), rnd.choice([700, 5000, 99_999, MiB - 3, MiB])
        lo = rnd.randrange(rlen)
        hi = rnd.randint(lo + 1, rlen)
        ref = _xoshiro.stream_bytes(seed, rlen)
        a, b = bytearray(hi - lo), bytearray(rlen)
        _xoshiro.fill_streams([(seed, rlen, lo, memoryview(a)), (seed ^ 1, rlen, 0, memoryview(b))])
        assert bytes(a) == ref[lo:hi]
        assert bytes(b) == _xoshiro.stream_bytes(seed ^ 1, rlen)


def test_exact_false_keeps_the_fast_kernel() -> None:
    fast = bytes(s3dlio_ml.generate_data(MiB, seed=42, exact=False))
    assert fast == bytes(s3dlio_ml.generate_data(MiB, seed=42, exact=False))
    assert fast[:16].hex() != "9f6876444f4d76d091376f5774419e51"


if __name__ == "__main__":  # regenerate the constants from the original
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "benchmarks"))
    from _original import run_original

    res = run_original(f"CASES = {CASES!r}\n" + ORIGINAL_CODE)
    chunks = res.pop("1MiB-chunks")
    print("ORIGINAL: dict[tuple[int, int, int, int], tuple[str, str, str]] = {")
    for k, (h, t, d) in res.items():
        print(f"    {k}: (\n        {h!r},\n        {t!r},\n        {d!r}),")
    print("}")
    print(f"ORIGINAL_5MIB_2_3_SEED5_IN_1MIB_CHUNKS = {chunks!r}")
