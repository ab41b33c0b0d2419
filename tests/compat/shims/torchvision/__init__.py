"""A stand-in for the two torchvision pieces s3torchconnector's examples use (`models.resnet18()` and
`transforms.functional.pil_to_tensor`), for the compat tests only.

torchvision's wheel for this torch (0.28.0) does not import with the CPU build of torch 2.13 here
("operator torchvision::nms does not exist"), so the example runner puts this directory first on
PYTHONPATH. `resnet18()` builds torchvision's ResNet-18 architecture with the same module names, so its
state dict has torchvision's keys and shapes (11,689,512 parameters); no weights are downloaded.
"""

from . import models, transforms

__version__ = "0.0.0+s3dlio-test-shim"
__all__ = ["models", "transforms"]
