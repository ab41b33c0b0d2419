"""crc32c gives the same answer for every kind of buffer, and reads read-only exporters in place."""

from __future__ import annotations

import mmap
import os

from s3dlio_core.checksum import crc32c, fast_crc32c_available


def _reference(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def test_every_buffer_kind_agrees() -> None:
    data = os.urandom(70_000)
    want = _reference(data[:5000])
    assert crc32c(data[:5000]) == want
    assert crc32c(bytearray(data[:5000])) == want
    assert crc32c(memoryview(data)[:5000]) == want  # read-only slice of bytes (not the whole object)
    assert crc32c(memoryview(bytearray(data))[:5000].toreadonly()) == want
    m = mmap.mmap(-1, 8192)
    m[:5000] = data[:5000]
    ro = memoryview(m)[:5000].toreadonly()
    assert crc32c(ro) == want
    ro.release()
    m.close()
    assert crc32c(memoryview(data)[10:], crc32c(memoryview(data)[:10])) == crc32c(data)  # chunked


def test_the_c_path_is_used_when_installed() -> None:
    assert fast_crc32c_available() in (True, False)
