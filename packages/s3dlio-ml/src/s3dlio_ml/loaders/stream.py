"""One epoch of a dataset as a prefetched stream: items, batches, or `collect_batch(n)`, sync or async.

`ObjectStream` turns the epoch's indices (order, shard, drop_last, resume) into prefetched chunks
(`Prefetcher`) and hands them out as single items or as batches of `batch_size`; the async side awaits
the chunk futures, so an event loop never blocks on I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .pipeline import Prefetcher, plan_chunks

__all__ = ["ObjectStream"]


class ObjectStream:
    """The items of `indices`, fetched ahead by `fetch(chunk_of_indices) -> results`."""

    def __init__(self, indices: Sequence[int], fetch: Callable[[Sequence[int], int], list[Any]], *,
                 concurrency: int, lookahead: int, batch_size: int, timeout: float | None = None,
                 name: str = "s3dlio-loader") -> None:
        self.indices = indices
        chunk, threads, ahead = plan_chunks(concurrency, lookahead, len(indices))
        self._pf = Prefetcher(indices, lambda c: fetch(c, chunk), chunk=chunk, threads=threads, ahead=ahead,
                              name=name)
        self._ready: deque[Any] = deque()
        self._batch = batch_size
        self._timeout = timeout
        self._done = False
        self.yielded = 0  # items handed to the consumer

    def close(self) -> None:
        self._done = True
        self._ready.clear()
        self._pf.close()

    # ---- sync ----
    def _fill(self) -> bool:
        """Make sure an item is ready; False at the end of the stream."""
        while not self._ready:
            if self._done:
                return False
            chunk = self._pf.next_chunk(self._timeout)
            if chunk is None:
                self._done = True
                return False
            self._ready.extend(chunk)
        return True

    def next_item(self) -> Any:
        if not self._fill():
            raise StopIteration
        self.yielded += 1
        return self._ready.popleft()

    def items(self) -> Iterator[Any]:
        while self._fill():
            self.yielded += 1
            yield self._ready.popleft()

    def take(self, n: int) -> list[Any]:
        """Up to `n` items (fewer only at the end; empty when exhausted)."""
        out: list[Any] = []
        while len(out) < n and self._fill():
            k = min(n - len(out), len(self._ready))
            pop = self._ready.popleft
            out.extend(pop() for _ in range(k))
        self.yielded += len(out)
        return out

    def next_batch(self) -> list[Any] | None:
        batch = self.take(self._batch)
        return batch or None

    # ---- async ----
    async def _afill(self) -> bool:
        import asyncio  # here, not at module level: `import s3dlio` does not import asyncio (~17 ms)

        while not self._ready:
            if self._done:
                return False
            fut = self._pf.next_future()
            if fut is None:
                self._done = True
                return False
            try:
                chunk = await asyncio.wait_for(asyncio.wrap_future(fut), self._timeout)
            except TimeoutError:
                self.close()
                raise TimeoutError(f"no data within {self._timeout} s (loader timeout_seconds)") from None
            except BaseException:
                self.close()
                raise
            self._ready.extend(chunk)
        return True

    async def next_batch_async(self) -> list[Any] | None:
        out: list[Any] = []
        n = self._batch
        while len(out) < n and await self._afill():
            k = min(n - len(out), len(self._ready))
            pop = self._ready.popleft
            out.extend(pop() for _ in range(k))
        self.yielded += len(out)
        return out or None
