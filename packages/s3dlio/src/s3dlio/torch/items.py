"""What the PyTorch datasets yield per object: a uint8 tensor over the object's bytes (no copy), the
BytesView itself, or a file-like reader; then the user's transform."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

__all__ = ["BytesReader", "ItemConverter", "RETURN_TYPES"]

RETURN_TYPES = ("tensor", "bytes", "reader")


class BytesReader(io.BufferedIOBase):
    """A seekable, read-only file object over one object's bytes (no copy): `read`, `readinto`,
    `readall`/`read_all`, `seek`/`tell`, `len()`, context manager. torch.load and np.load accept it."""

    def __init__(self, data: Any) -> None:
        super().__init__()
        self._mv = memoryview(data).cast("B")
        self._pos = 0

    def _check(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed _BytesReader")

    def readable(self) -> bool:
        self._check()
        return True

    def seekable(self) -> bool:
        self._check()
        return True

    def read(self, size: int | None = -1) -> bytes:
        self._check()
        end = len(self._mv) if size is None or size < 0 else min(len(self._mv), self._pos + size)
        out = self._mv[self._pos:end].tobytes()
        self._pos = max(self._pos, end)
        return out

    read1 = read

    def readall(self) -> bytes:
        return self.read(-1)

    read_all = readall

    def readinto(self, b: Any) -> int:
        self._check()
        dst = memoryview(b).cast("B")
        n = max(0, min(dst.nbytes, len(self._mv) - self._pos))
        dst[:n] = self._mv[self._pos:self._pos + n]
        self._pos += n
        return n

    readinto1 = readinto

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check()
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._mv)}.get(whence)
        if base is None:
            raise ValueError(f"invalid whence ({whence})")
        pos = base + offset
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def tell(self) -> int:
        self._check()
        return self._pos

    def getbuffer(self) -> memoryview:
        """The object's bytes (read-only, no copy)."""
        self._check()
        return self._mv.toreadonly()

    def __len__(self) -> int:
        return len(self._mv)

    def close(self) -> None:
        if not self.closed:
            self._mv.release()
        super().close()


class ItemConverter:
    """BytesView -> the dataset's return type, then the transform (picklable: runs in the fetch threads
    of every DataLoader worker)."""

    __slots__ = ("return_type", "transform")

    def __init__(self, return_type: str = "tensor", transform: Callable[[Any], Any] | None = None) -> None:
        if return_type not in RETURN_TYPES:
            raise ValueError("return_type must be 'tensor', 'bytes', or 'reader'")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        self.return_type = return_type
        self.transform = transform

    def __getstate__(self) -> tuple[str, Any]:
        return (self.return_type, self.transform)

    def __setstate__(self, state: tuple[str, Any]) -> None:
        self.return_type, self.transform = state

    def __call__(self, data: Any) -> Any:
        rt = self.return_type
        if rt == "tensor":
            import torch

            # a BytesView is writable memory of its own: the tensor shares it (no copy, no warning)
            item = torch.frombuffer(data, dtype=torch.uint8) if len(data) else torch.empty(0, dtype=torch.uint8)
        elif rt == "reader":
            item = BytesReader(data)
        else:
            item = data
        return self.transform(item) if self.transform is not None else item
