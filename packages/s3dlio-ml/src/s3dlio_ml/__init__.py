"""s3dlio-ml: synthetic data generation (and, later, formats and loaders) for s3dlio.

Importing the package is cheap: numpy is imported on the first call that generates data.
"""

from __future__ import annotations

from .datagen import (
    BLOCK_SIZE,
    DataLayout,
    Generator,
    XorStream,
    default_data_gen_threads,
    generate_data,
    generate_data_with_threads,
    generate_into_buffer,
)

__all__ = [
    "BLOCK_SIZE", "DataLayout", "Generator", "XorStream", "default_data_gen_threads", "generate_data",
    "generate_data_with_threads", "generate_into_buffer",
]
