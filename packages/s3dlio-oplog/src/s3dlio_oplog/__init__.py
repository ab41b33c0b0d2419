"""s3dlio-oplog: see the package README."""

from __future__ import annotations
