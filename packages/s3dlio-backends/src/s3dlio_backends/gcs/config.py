"""Google Cloud Storage settings from the environment: endpoint, project and credentials.

* `GCS_ENDPOINT_URL`, else `STORAGE_EMULATOR_HOST` (http:// prepended when it has no scheme): a custom
  endpoint. Requests are anonymous when STORAGE_EMULATOR_HOST is set or the endpoint is plain http://
  (emulators such as fake-gcs-server need no credential); an https:// GCS_ENDPOINT_URL uses ADC.
* Without an endpoint: https://storage.googleapis.com with application default credentials
  (GOOGLE_APPLICATION_CREDENTIALS, gcloud, metadata server).
* Project (bucket creation and listing): GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT or GCS_PROJECT.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from s3dlio_core.store_config import StoreConfig

from ..store_configs import common_fields

__all__ = ["GcsConfig", "DEFAULT_ENDPOINT"]

DEFAULT_ENDPOINT = "https://storage.googleapis.com"


@dataclass(frozen=True, repr=False)
class GcsConfig(StoreConfig):
    """Where and as whom the GCS store talks, plus the common tunables of StoreConfig (retries, timeouts,
    part size, thresholds). Pass one to `GcsStore(config)` or `new_store("gs://", config)` instead of
    setting the environment. repr() never shows a credential."""

    endpoint: str = DEFAULT_ENDPOINT  # the JSON API's base URL (an emulator's http://host:port)
    project: str | None = None  # for bucket creation and listing
    anonymous: bool = False  # no credentials at all (emulators, public buckets)
    credentials_file: str | None = None  # a service-account (or other google-auth) JSON file; None: ADC

    def __post_init__(self) -> None:
        ep = (self.endpoint or DEFAULT_ENDPOINT).strip()
        if "://" not in ep:
            ep = "http://" + ep
        object.__setattr__(self, "endpoint", ep.rstrip("/"))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, tunables: StoreConfig | None = None) -> GcsConfig:
        """The configuration the environment describes (`tunables`: a StoreConfig whose common fields are
        kept)."""
        e = os.environ if env is None else env
        ep = (e.get("GCS_ENDPOINT_URL") or e.get("STORAGE_EMULATOR_HOST") or "").strip()
        project = e.get("GOOGLE_CLOUD_PROJECT") or e.get("GCLOUD_PROJECT") or e.get("GCS_PROJECT") or None
        common = common_fields(tunables)
        if ep:
            if "://" not in ep:
                ep = "http://" + ep
            anonymous = bool(e.get("STORAGE_EMULATOR_HOST")) or ep.startswith("http://")
            return cls(endpoint=ep, project=project, anonymous=anonymous, **common)
        return cls(project=project, **common)

    @property
    def emulated(self) -> bool:
        return self.endpoint != DEFAULT_ENDPOINT
