"""s3dlio-checkpoint: see the package README."""

from __future__ import annotations
