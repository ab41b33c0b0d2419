"""s3dlio-backends: see the package README."""

from __future__ import annotations
