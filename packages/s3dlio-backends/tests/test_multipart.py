"""The multipart coordinator with an in-memory part sink: sizing, ordering, bounded parallelism, and
abort on every failure path."""

from __future__ import annotations

import threading
import time

import pytest
from s3dlio_backends.multipart import (
    DEFAULT_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    MultipartCoordinator,
    default_max_in_flight,
    part_size_for,
)

MiB = 1 << 20


class MemorySink:
    """Collects parts in memory like a server would; can fail a chosen part."""

    min_part_size = MIN_PART_SIZE
    part_quantum = 1
    sequential = False

    def __init__(self, fail_part: int | None = None, delay: float = 0.0) -> None:
        self.parts: dict[int, bytes] = {}
        self.created = 0
        self.completed: list[tuple[int, str]] | None = None
        self.aborted = False
        self.fail_part = fail_part
        self.delay = delay
        self.in_flight = 0
        self.max_seen = 0
        self.lock = threading.Lock()

    def create(self) -> str:
        self.created += 1
        return "upload-1"

    def upload_part(self, upload_id: str, number: int, data: memoryview) -> str:
        with self.lock:
            self.in_flight += 1
            self.max_seen = max(self.max_seen, self.in_flight)
        try:
            time.sleep(self.delay)
            if number == self.fail_part:
                raise OSError(f"part {number} failed")
            self.parts[number] = bytes(data)
            return f'"etag-{number}"'
        finally:
            with self.lock:
                self.in_flight -= 1

    def complete(self, upload_id: str, parts: list[tuple[int, str]]) -> str:
        self.completed = parts
        return '"final-etag"'

    def abort(self, upload_id: str) -> None:
        self.aborted = True

    def joined(self) -> bytes:
        return b"".join(self.parts[n] for n in sorted(self.parts))


def test_part_sizes() -> None:
    assert part_size_for(None) == DEFAULT_PART_SIZE == 16 * MiB
    assert part_size_for(None, 1) == MIN_PART_SIZE
    assert part_size_for(100 * MiB, 8 * MiB) == 8 * MiB
    for total in (10_000 * 16 * MiB + 1, 1 << 40, 5 << 40):
        size = part_size_for(total)
        assert -(-total // size) <= MAX_PARTS and size % MiB == 0
    assert default_max_in_flight(16 * MiB) == 32 and default_max_in_flight(8 * MiB) == 64
    assert default_max_in_flight(5 * MiB) == 103
    q = 256 * 1024  # a sink with a small minimum and a quantum (GCS resumable chunks)
    assert part_size_for(None, 1 * MiB + 1000, q, q) == 1 * MiB
    assert part_size_for(None, 1000, q, q) == q


def test_a_sequential_sink_gets_one_part_at_a_time_in_order() -> None:
    class Sequential(MemorySink):
        min_part_size = 256 * 1024
        part_quantum = 256 * 1024
        sequential = True

        def __init__(self) -> None:
            super().__init__(delay=0.005)
            self.order: list[int] = []

        def upload_part(self, upload_id: str, number: int, data: memoryview) -> str:
            self.order.append(number)
            return super().upload_part(upload_id, number, data)

    sink = Sequential()
    c = MultipartCoordinator(sink, 1 * MiB, max_in_flight=8, total=5 * MiB + 3)
    assert c.part_size == 1 * MiB and c.max_in_flight == 1
    data = bytes(range(256)) * (20 * 1024 + 0) + b"abc"
    c.write(memoryview(data), borrow=True)
    c.finish()
    assert sink.order == [1, 2, 3, 4, 5, 6] and sink.max_seen == 1 and sink.joined() == data


def test_parts_arrive_in_order_and_complete() -> None:
    sink = MemorySink(delay=0.01)
    c = MultipartCoordinator(sink, 5 * MiB, max_in_flight=3)
    data = bytes(range(256)) * (100 * 1024)  # 25 MiB
    for i in range(0, len(data), 777_777):
        c.write(memoryview(data)[i:i + 777_777])
    result = c.finish()
    assert sink.joined() == data
    assert [n for n, _ in sink.completed or []] == [1, 2, 3, 4, 5]
    assert all(len(sink.parts[n]) == 5 * MiB for n in range(1, 5))
    assert result["parts"] == 5 and result["total_bytes"] == len(data) and result["etag"] == '"final-etag"'
    assert sink.max_seen <= 3
    assert not sink.aborted


def test_borrowed_whole_parts_and_empty_upload() -> None:
    sink = MemorySink()
    c = MultipartCoordinator(sink, 5 * MiB, 4)
    data = bytes(11 * MiB)
    c.write(memoryview(data), borrow=True)
    assert c.finish()["parts"] == 3
    empty = MemorySink()
    assert MultipartCoordinator(empty, 5 * MiB, 4).finish()["parts"] == 1  # one empty part
    assert empty.parts == {1: b""}


def test_lazy_coordinator_keeps_small_streams_for_one_put() -> None:
    sink = MemorySink()
    c = MultipartCoordinator(sink, 5 * MiB, 4, lazy=True)
    c.write(memoryview(b"small"))
    result = c.finish()
    assert bytes(result["single"]) == b"small" and sink.created == 0


@pytest.mark.parametrize("fail_part", [1, 3])
def test_failed_part_aborts_the_upload(fail_part: int) -> None:
    sink = MemorySink(fail_part=fail_part, delay=0.005)
    c = MultipartCoordinator(sink, 5 * MiB, 2)
    with pytest.raises(OSError, match=f"part {fail_part} failed"):
        for _ in range(6):
            c.write(memoryview(bytes(5 * MiB)))
        c.finish()
    assert sink.aborted and sink.completed is None
    c.abort()  # idempotent


def test_failed_complete_aborts() -> None:
    class FailingComplete(MemorySink):
        def complete(self, upload_id: str, parts: list[tuple[int, str]]) -> str:
            raise RuntimeError("complete failed")

    sink = FailingComplete()
    c = MultipartCoordinator(sink, 5 * MiB, 2)
    c.write(memoryview(bytes(6 * MiB)))
    with pytest.raises(RuntimeError, match="complete failed"):
        c.finish()
    assert sink.aborted


def test_streaming_part_size_grows() -> None:
    sink = MemorySink()
    c = MultipartCoordinator(sink, 5 * MiB, 4)
    c._number = 999  # as if 999 parts went up already
    c.write(memoryview(bytes(5 * MiB)))
    assert c.part_size == 10 * MiB
    c.abort()
    assert sink.aborted


class ObjSink(MemorySink):
    """Also records, per part, whether it was sent from one of the caller's borrowed buffers."""

    def __init__(self, borrowed: list[bytearray], quantum: int = 1, minimum: int = MIN_PART_SIZE) -> None:
        super().__init__()
        self.borrowed_ids = {id(b) for b in borrowed}
        self.part_quantum = quantum
        self.min_part_size = minimum
        self.sizes: dict[int, tuple[int, bool]] = {}

    def upload_part(self, upload_id: str, number: int, data: memoryview) -> str:
        self.sizes[number] = (data.nbytes, id(data.obj) in self.borrowed_ids)
        return super().upload_part(upload_id, number, data)


@pytest.mark.parametrize("quantum,minimum", [(1, MIN_PART_SIZE), (256 << 10, 256 << 10)])
def test_large_borrowed_buffers_after_small_records_are_not_copied(quantum: int, minimum: int) -> None:
    """torch.save's pattern on a stream: small record headers (copied) between large tensor storages
    (borrowed). The buffered part ends early at the service's smallest part, so only a few MiB per tensor
    are copied; every part but the last is at least the minimum and a multiple of the quantum; the bytes
    arrive intact and in order."""
    import random

    rnd = random.Random(5)
    tensors = [bytearray(rnd.randbytes(n)) for n in (40 * MiB + 12345, 33 * MiB + 7, 70 * MiB)]
    sink = ObjSink(tensors, quantum, minimum)
    c = MultipartCoordinator(sink, 16 * MiB, 8, lazy=True)  # a streaming writer's coordinator
    expected = bytearray()
    for i, t in enumerate(tensors):
        header = bytes([i]) * (100 + i)
        c.write(memoryview(header))
        c.write(memoryview(t), borrow=True)
        expected += header + t
    c.write(memoryview(b"end of archive"))
    expected += b"end of archive"
    c.finish()
    assert sink.joined() == expected
    numbers = sorted(sink.sizes)
    for n in numbers[:-1]:
        size, _ = sink.sizes[n]
        assert size >= minimum and size % quantum == 0, (n, size)
    copied = sum(size for size, from_caller in sink.sizes.values() if not from_caller)
    assert copied <= len(tensors) * (MIN_PART_SIZE + quantum) + 2 * MiB, copied  # not 16 MiB a tensor


def test_copied_parts_in_flight_are_bounded_once_buffers_are_lent() -> None:
    """A save of many tensors: once large buffers are lent, at most OWNED_IN_FLIGHT copied part buffers are
    in flight at a time (slow uploads, many tensors), so the copies held stay bounded."""
    from s3dlio_backends.multipart import OWNED_IN_FLIGHT

    tensors = [bytearray(bytes([i]) * (40 * MiB + 3)) for i in range(8)]

    class Slow(ObjSink):
        owned_now = 0
        owned_max = 0

        def upload_part(self, upload_id: str, number: int, data: memoryview) -> str:
            mine = id(data.obj) not in self.borrowed_ids
            if mine:
                with self.lock:
                    self.owned_now += 1
                    self.owned_max = max(self.owned_max, self.owned_now)
            try:
                time.sleep(0.02)
                return super().upload_part(upload_id, number, data)
            finally:
                if mine:
                    with self.lock:
                        self.owned_now -= 1

    sink = Slow(tensors)
    c = MultipartCoordinator(sink, 16 * MiB, 32, lazy=True)
    expected = bytearray()
    for t in tensors:
        c.write(memoryview(b"hdr"))
        c.write(memoryview(t), borrow=True)
        expected += b"hdr" + t
    c.finish()
    assert sink.joined() == expected
    assert 1 <= sink.owned_max <= OWNED_IN_FLIGHT
