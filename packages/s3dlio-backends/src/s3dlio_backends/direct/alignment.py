"""Alignment facts for O_DIRECT: the device's logical block size, and aligned windows in buffers.

O_DIRECT needs the buffer address, the file offset and the length aligned to the device's logical block
size (512 or 4096 on common disks). Buffers are also kept page-aligned, which satisfies any block size
up to the page size. The block size comes from sysfs (/sys/dev/block/MAJ:MIN/queue/logical_block_size,
or the parent device's for a partition); 4096 when the system does not say (always safe).
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import os

__all__ = ["PAGE", "SAFE_BLOCK", "logical_block_size", "block_size_of_fd", "address_of", "round_down",
           "round_up"]

PAGE = mmap.PAGESIZE
SAFE_BLOCK = 4096


@functools.lru_cache(maxsize=64)
def logical_block_size(st_dev: int) -> int:
    """The logical block size of the block device behind `st_dev` (4096 when unknown)."""
    base = f"/sys/dev/block/{os.major(st_dev)}:{os.minor(st_dev)}"
    for path in (f"{base}/queue/logical_block_size", f"{base}/../queue/logical_block_size"):
        try:
            with open(path) as f:
                v = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if v > 0 and v & (v - 1) == 0:
            return v
    return SAFE_BLOCK


def block_size_of_fd(fd: int) -> int:
    return logical_block_size(os.fstat(fd).st_dev)


def address_of(buf: bytearray) -> int:
    """The memory address of `buf`'s first byte (the temporary ctypes export is released at once)."""
    c = (ctypes.c_char * len(buf)).from_buffer(buf)
    try:
        return ctypes.addressof(c)
    finally:
        del c


def round_down(n: int, a: int) -> int:
    return n - n % a


def round_up(n: int, a: int) -> int:
    return -(-n // a) * a
