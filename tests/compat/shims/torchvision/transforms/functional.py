"""`pil_to_tensor(img)`: a PIL image as a uint8 tensor of shape (channels, height, width), as torchvision."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["pil_to_tensor"]


def pil_to_tensor(pic: Any) -> torch.Tensor:
    arr = np.array(pic, copy=True)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()
