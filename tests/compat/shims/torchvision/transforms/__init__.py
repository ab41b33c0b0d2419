"""torchvision.transforms stand-in: only `functional.pil_to_tensor`."""

from . import functional

__all__ = ["functional"]
