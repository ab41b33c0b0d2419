"""The streaming writer's part size grows, so a 1 TB checkpoint stream stays under S3's 10,000 parts
(s3torchconnector's fixed 8 MiB parts stop at ~78 GiB). Driven through the shared MultipartCoordinator
that every object-store writer (S3, GCS, Azure) uses for `open_writer`, with a sink that discards the
parts and a 1 GiB anonymous mapping that is never touched (no memory is used)."""

from __future__ import annotations

import itertools
import mmap

from s3dlio_backends.multipart import MAX_PARTS, MultipartCoordinator

TB = 10**12


class _CountingSink:
    min_part_size = 5 << 20
    part_quantum = 1
    sequential = False

    def __init__(self) -> None:
        self.sizes: dict[int, int] = {}

    def create(self) -> str:
        return "upload"

    def upload_part(self, upload_id: str, number: int, data: memoryview) -> str:
        self.sizes[number] = data.nbytes
        return f"etag-{number}"

    def complete(self, upload_id: str, parts: list[tuple[int, str]]) -> str:
        return "final"

    def abort(self, upload_id: str) -> None:
        pass


def test_a_1tb_stream_stays_under_10000_parts() -> None:
    sink = _CountingSink()
    coord = MultipartCoordinator(sink, max_in_flight=4, lazy=True)  # open_writer's: size unknown
    first = coord.part_size
    region = mmap.mmap(
        -1, 1 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_NORESERVE", 0)
    )
    mv = memoryview(region)
    try:
        sent = 0
        while sent < TB:
            n = min(coord.part_size, TB - sent)
            coord.write(mv[:n], borrow=True)  # whole parts go up from the view (nothing is copied)
            sent += n
        result = coord.finish()
    finally:
        mv.release()
        region.close()
    assert result["total_bytes"] == TB
    parts = len(sink.sizes)
    assert parts < MAX_PARTS, parts
    assert sum(sink.sizes.values()) == TB
    assert first == 16 << 20 and max(sink.sizes.values()) > first  # it grew
    sizes = [sink.sizes[i] for i in sorted(sink.sizes)]
    assert all(a <= b for a, b in itertools.pairwise(sizes[:-1]))  # never shrinks (but the last)
    assert first * MAX_PARTS < TB  # a fixed part size could not have done it


def test_the_checkpoint_stream_uses_a_growing_writer_on_object_stores(s3_prefix: str) -> None:
    import s3dlio_checkpoint as ck

    stream = ck.PyCheckpointStore(s3_prefix + "run").writer(1, 0).get_distributed_shard_stream(1, 0, "raw")
    try:
        inner = stream._w.inner  # the store's open_writer (multipart, lazily started)
        coord = inner._coord
        assert coord._grow is True and coord.part_size == 16 << 20
    finally:
        stream.cancel()
