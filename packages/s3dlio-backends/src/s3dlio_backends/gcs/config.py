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

__all__ = ["GcsConfig", "DEFAULT_ENDPOINT"]

DEFAULT_ENDPOINT = "https://storage.googleapis.com"


@dataclass(frozen=True)
class GcsConfig:
    """Where and as whom the GCS store talks."""

    endpoint: str = DEFAULT_ENDPOINT
    project: str | None = None
    anonymous: bool = False
    credentials_file: str | None = None  # a service-account (or other google-auth) JSON file; None: ADC

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> GcsConfig:
        e = os.environ if env is None else env
        ep = (e.get("GCS_ENDPOINT_URL") or e.get("STORAGE_EMULATOR_HOST") or "").strip()
        project = e.get("GOOGLE_CLOUD_PROJECT") or e.get("GCLOUD_PROJECT") or e.get("GCS_PROJECT") or None
        if ep:
            if "://" not in ep:
                ep = "http://" + ep
            anonymous = bool(e.get("STORAGE_EMULATOR_HOST")) or ep.startswith("http://")
            return cls(endpoint=ep.rstrip("/"), project=project, anonymous=anonymous)
        return cls(project=project)

    @property
    def emulated(self) -> bool:
        return self.endpoint != DEFAULT_ENDPOINT
