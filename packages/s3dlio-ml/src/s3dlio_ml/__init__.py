"""s3dlio-ml: see the package README."""

from __future__ import annotations
