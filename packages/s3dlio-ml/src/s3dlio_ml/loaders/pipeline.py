"""The prefetching pipeline behind every loader: fetch ahead of the consumer through the store's bulk
path, with bounded memory.

The work (dataset indices in epoch order) is cut into chunks. `threads` fetch threads of the pipeline's
own (never the pool `bounded_map` fans out on: a nested fan-out there runs inline) each take the next
chunk and fetch it with one bulk call (`get_many` for whole objects: the S3 store multiplexes a chunk's
sockets from one thread), so while one chunk drains the next is already on the wire. A chunk starts only
when fewer than `ahead` chunks are waiting for the consumer, so memory stays near
ahead x chunk x object size. Results come back in order, as futures, so a sync consumer waits with a
timeout and an async one awaits without blocking its event loop.

The threads start on the first chunk asked for (so a forked DataLoader worker starts its own) and stop
when the stream ends, fails, or the consumer goes away (`close`, or the iterator being collected).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

__all__ = ["Prefetcher", "plan_chunks"]


def plan_chunks(concurrency: int, lookahead: int, total: int) -> tuple[int, int, int]:
    """(chunk size, fetch threads, chunks ahead) for `concurrency` requests in flight and `lookahead`
    objects fetched ahead of the consumer."""
    concurrency = max(1, min(concurrency, lookahead, max(1, total)))
    threads = 2 if concurrency >= 2 and total > concurrency else 1
    chunk = max(1, -(-concurrency // threads))
    ahead = max(threads, -(-max(lookahead, concurrency) // chunk))
    return chunk, threads, ahead


class _Shared:
    """What the fetch threads share with the consumer. The threads hold only this (never the Prefetcher),
    so a consumer that goes away is collected and its `__del__` stops them."""

    def __init__(self, items: Sequence[Any], fetch: Callable[[Sequence[Any]], list[Any]], chunk: int,
                 ahead: int) -> None:
        self.items = items
        self.fetch = fetch
        self.chunk = chunk
        self.n_chunks = -(-len(items) // chunk)
        self.ahead = ahead
        self.cond = threading.Condition()
        self.futures: dict[int, Future] = {}
        self.next_start = 0  # next chunk a fetch thread takes
        self.next_out = 0  # next chunk the consumer takes
        self.stopped = False

    def future(self, j: int) -> Future:
        """Chunk j's future (made by whichever of consumer and fetch thread comes first; lock held)."""
        fut = self.futures.get(j)
        if fut is None:
            fut = self.futures[j] = Future()
        return fut

    def run(self) -> None:
        cond = self.cond
        while True:
            with cond:
                while not self.stopped and self.next_start < self.n_chunks and \
                        self.next_start - self.next_out >= self.ahead:
                    cond.wait()
                if self.stopped or self.next_start >= self.n_chunks:
                    return
                j = self.next_start
                self.next_start += 1
                fut = self.future(j)
                if j < self.next_out:  # the consumer already holds it
                    del self.futures[j]
            lo = j * self.chunk
            try:
                result = self.fetch(self.items[lo:lo + self.chunk])
            except BaseException as e:  # the consumer raises it when it reaches this chunk
                fut.set_exception(e)
                with cond:
                    self.stopped = True
                    cond.notify_all()
                return
            fut.set_result(result)

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.futures.clear()
            self.cond.notify_all()


class Prefetcher:
    """Fetch `items` in chunks ahead of the consumer; `next_chunk()` returns the results in order."""

    def __init__(self, items: Sequence[Any], fetch: Callable[[Sequence[Any]], list[Any]], *, chunk: int,
                 threads: int = 2, ahead: int = 2, name: str = "s3dlio-loader") -> None:
        chunk = max(1, chunk)
        self._s = _Shared(items, fetch, chunk, max(1, ahead))
        self._threads_wanted = max(1, min(threads, self._s.n_chunks or 1))
        self._name = name
        self._started = False

    @property
    def chunks(self) -> int:
        return self._s.n_chunks

    def next_future(self) -> Future | None:
        """The future of the next chunk's results (in order), or None when the stream is done."""
        s = self._s
        with s.cond:
            if s.next_out >= s.n_chunks:
                return None
            if not self._started:
                self._started = True
                for i in range(self._threads_wanted):
                    threading.Thread(target=s.run, name=f"{self._name}-{i}", daemon=True).start()
            j = s.next_out
            fut = s.future(j)
            if j < s.next_start:  # a fetch thread already holds it
                del s.futures[j]
            elif s.stopped:  # an earlier failure stopped the threads: this chunk is never fetched
                del s.futures[j]
                if not fut.done():
                    fut.set_exception(RuntimeError("the loader stopped after an earlier failure"))
            s.next_out += 1
            s.cond.notify_all()
            return fut

    def next_chunk(self, timeout: float | None = None) -> list[Any] | None:
        """The next chunk's results (waiting for them), or None at the end; raises the fetch's error
        (or TimeoutError after `timeout` seconds)."""
        fut = self.next_future()
        if fut is None:
            return None
        try:
            return fut.result(timeout)
        except TimeoutError:
            self.close()
            raise TimeoutError(f"no data within {timeout} s (loader timeout_seconds)") from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop fetching (chunks already on the wire finish in the background and are dropped)."""
        self._s.stop()

    def __del__(self) -> None:
        try:
            self._s.stop()
        except Exception:
            pass
