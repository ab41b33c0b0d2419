"""Per-store configuration: what a caller passes to one store instead of mutating os.environ.

`StoreConfig` carries the tunables every store has (retries, timeouts, multipart and range thresholds).
Each field left at None keeps the process's setting (`S3DLIO_*` / `configure()`). Backends subclass it
to add what only they know (endpoint, region, credentials, ...). A store's effective tunables are
`store.settings`: the process settings with the config's non-None fields laid over them.

Subclasses must be declared `@dataclass(frozen=True, repr=False)` so that this class's `repr`, which masks
every credential-like field, stays in force: no secret ever reaches a repr or a log line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .settings import Settings

__all__ = ["StoreConfig", "SECRET_MARKERS"]

#: A field whose name contains one of these, or ends in "key", is shown as '***' in a repr (except a
#: "*_mode" field, which names a kind of credential, not a credential).
SECRET_MARKERS = ("secret", "token", "password", "sas", "connection_string", "access_key", "account_key",
                  "credential")
_SETTINGS_FIELDS = frozenset(f.name for f in dataclasses.fields(Settings))


@dataclass(frozen=True, repr=False)
class StoreConfig:
    """Tunables of one store; None = the process setting."""

    max_retry_attempts: int | None = None  # attempts per request, the first included
    connect_timeout_s: float | None = None
    operation_timeout_s: float | None = None
    multipart_part_size: int | None = None
    multipart_threshold: int | None = None
    multipart_max_in_flight: int | None = None
    range_threshold: int | None = None
    put_verify: bool | None = None
    mpu_put_verify: bool | None = None
    file_drop_cache: bool | None = None  # file:// only: drop read pages from the page cache
    adaptive_concurrency: bool | None = None  # HTTP stores: back the in-flight limit off on 503/429
    follow_redirects: str | bool | None = None  # s3:// only: off | on | same-host | all (True = "on")
    redirect_max: int | None = None  # s3:// only: redirect hops followed per request

    def overrides(self) -> dict[str, Any]:
        """The non-None fields that are process settings (backend-only fields are not)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name in _SETTINGS_FIELDS and getattr(self, f.name) is not None}

    def apply(self, base: Settings) -> Settings:
        """`base` with this config's overrides laid over it."""
        o = self.overrides()
        return dataclasses.replace(base, **o) if o else base

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            name = f.name.lower()
            secret = not name.endswith("_mode") and (name.endswith("key") or any(m in name for m in SECRET_MARKERS))
            parts.append(f"{f.name}={'***' if secret else repr(v)}")
        return f"{type(self).__name__}({', '.join(parts)})"

    __str__ = __repr__
