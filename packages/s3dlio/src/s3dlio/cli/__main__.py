"""`python -m s3dlio.cli ...` runs s3-cli."""

from __future__ import annotations

from .main import main

raise SystemExit(main())
