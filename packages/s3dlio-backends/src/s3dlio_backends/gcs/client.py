"""GcsClient: the JSON-API requests of the gs:// store, with retries and typed errors.

Bucket operations use google-cloud-storage's `storage.Client`; the data path speaks the JSON API through
the same client's authorized session (google-auth credentials, pooled connections), because the SDK's
object calls copy and checksum every byte in Python. One client per store and process (a forked child
makes its own). Every request goes through retry.py's loop and classifier, each attempt holding a slot
of the store's adaptive in-flight limit (retry.py; one per store and process) until its answer's head is
in; an answer that is not accepted becomes the typed error of http_errors.py, naming the URI.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from s3dlio_core.adaptive import AdaptiveLimit
from s3dlio_core.errors import PermissionDeniedError, S3dlioError, StorageIOError
from s3dlio_core.settings import Settings
from s3dlio_core.uri import ObjectUri

from .._requests_env import ca_bundle, needs_trust_env
from ..http_errors import http_error
from ..requests_body import discard_body
from ..retry import call_with_retries, endpoint_limit
from .config import GcsConfig

__all__ = ["GcsClient", "RESUMABLE_QUANTUM", "first_line"]

log = logging.getLogger("s3dlio.gcs")
RESUMABLE_QUANTUM = 256 * 1024  # resumable chunks (all but the last) must be multiples of this
_POOL_SIZE = 128  # pooled connections per host: covers get_many's default 64 in flight plus ranges


def first_line(e: BaseException) -> str:
    s = str(e)
    return s.splitlines()[0][:300] if s else type(e).__name__


def _credentials_from_file(path: str, scopes: list[str]) -> tuple[Any, str | None]:
    """google-auth credentials from the JSON file the config names (service account or authorized user;
    other kinds through google-auth's generic loader: the caller chose the file, so it is trusted)."""
    import json
    import warnings

    with open(path, encoding="utf-8") as fh:
        info = json.load(fh)
    kind = info.get("type") if isinstance(info, dict) else None
    if kind == "service_account":
        from google.oauth2 import service_account

        return service_account.Credentials.from_service_account_info(info, scopes=scopes), info.get("project_id")
    if kind == "authorized_user":
        from google.oauth2.credentials import Credentials

        return Credentials.from_authorized_user_info(info, scopes=scopes), info.get("quota_project_id")
    import google.auth

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        creds, project = google.auth.load_credentials_from_file(path, scopes=scopes)
    return creds, project


class GcsClient:
    """JSON-API requests for one GCS configuration (see the module docstring)."""

    def __init__(self, config: GcsConfig, settings_of: Callable[[], Settings]) -> None:
        self.config = config
        self._settings = settings_of
        self._lock = threading.Lock()
        self._pid = -1
        self._sess: Any = None
        self._client: Any = None
        #: the endpoint's adaptive in-flight limit in this process (None: S3DLIO_ADAPTIVE_CONCURRENCY=0)
        self.limit: AdaptiveLimit | None = None

    # ---------------------------------------------------------------- sessions (lazy, per process)
    def session(self, uri: str | None = None) -> Any:
        if self._pid != os.getpid() or self._sess is None:
            with self._lock:
                if self._pid != os.getpid() or self._sess is None:
                    self._sess, self._client = self._make_clients(uri)
                    self.limit = endpoint_limit(self._settings())
                    self._pid = os.getpid()
        return self._sess

    def storage_client(self, uri: str | None = None) -> Any:
        self.session(uri)
        return self._client

    def _credentials(self, uri: str | None) -> tuple[Any, str | None]:
        cfg = self.config
        if cfg.anonymous:
            from google.auth.credentials import AnonymousCredentials

            return AnonymousCredentials(), cfg.project or "test"
        import google.auth
        import google.auth.exceptions

        scopes = ["https://www.googleapis.com/auth/devstorage.full_control"]
        try:
            if cfg.credentials_file:
                creds, project = _credentials_from_file(cfg.credentials_file, scopes)
            else:
                creds, project = google.auth.default(scopes=scopes)
        except (google.auth.exceptions.DefaultCredentialsError, OSError, ValueError) as e:
            raise PermissionDeniedError(
                f"no Google credentials for {uri or 'gs://'}: {first_line(e)} (set "
                "GOOGLE_APPLICATION_CREDENTIALS, or STORAGE_EMULATOR_HOST for an emulator)", uri) from None
        return creds, cfg.project or project

    def _make_clients(self, uri: str | None = None) -> tuple[Any, Any]:
        import requests.adapters
        from google.auth.transport.requests import AuthorizedSession
        from google.cloud import storage

        cfg = self.config
        creds, project = self._credentials(uri)
        sess = AuthorizedSession(creds)
        sess.trust_env = needs_trust_env()
        bundle = ca_bundle()
        if bundle:
            sess.verify = bundle
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=_POOL_SIZE)
        sess.mount("https://", adapter)
        sess.mount("http://", adapter)
        opts = {"api_endpoint": cfg.endpoint} if cfg.emulated else None
        client = storage.Client(project=project, credentials=creds, client_options=opts, _http=sess)
        return sess, client

    # ---------------------------------------------------------------- requests with retries and typed errors
    def request(self, method: str, url: str, uri: str, what: str, *, ok: tuple[int, ...], stream: bool = False,
                first_attempt: int = 1, **kw: Any) -> Any:
        """One JSON-API request, retried as retry.py allows; returns the response (status in `ok`) or
        raises the typed error naming `uri`."""
        s = self._settings()
        timeout = (s.connect_timeout_s, s.operation_timeout_s)
        sess = self.session(uri)

        def attempt() -> Any:
            resp = sess.request(method, url, timeout=timeout, stream=stream, **kw)
            if resp.status_code in ok:
                return resp
            raise self.error(resp, uri, what)

        def give_up(e: BaseException, attempts: int) -> BaseException | None:
            if isinstance(e, S3dlioError):
                return None
            import requests

            if not isinstance(e, requests.RequestException):
                return None
            return StorageIOError(f"GCS {what} for {uri} failed after {attempts} attempt(s): "
                                  f"{type(e).__name__}: {first_line(e)}", uri)

        return call_with_retries(attempt, attempts=s.max_retry_attempts, first_attempt=first_attempt,
                                 give_up=give_up, what=f"GCS {what} {uri}", limit=self.limit)

    @staticmethod
    def error(resp: Any, uri: str, what: str) -> S3dlioError:
        """The typed error of a refused request (its small JSON body read, the response closed)."""
        status = resp.status_code
        code = detail = None
        try:
            err = resp.json().get("error", {})
            detail = err.get("message") or None
            reasons = [e.get("reason") for e in err.get("errors") or () if e.get("reason")]
            code = reasons[0] if reasons else None
        except Exception:
            detail = (resp.text or "")[:200].strip() or None
        resp.close()
        return http_error("GCS", what, uri, status, code, detail)

    # ---------------------------------------------------------------- URLs
    def object_url(self, bucket: str, key: str) -> str:
        return f"{self.config.endpoint}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(key, safe='')}"

    def list_url(self, bucket: str) -> str:
        return f"{self.config.endpoint}/storage/v1/b/{quote(bucket, safe='')}/o"

    def media_url(self, bucket: str, key: str) -> str:
        return (f"{self.config.endpoint}/download/storage/v1/b/{quote(bucket, safe='')}/o/"
                f"{quote(key, safe='')}?alt=media")

    def upload_url(self, bucket: str, key: str, kind: str) -> str:
        return (f"{self.config.endpoint}/upload/storage/v1/b/{quote(bucket, safe='')}/o?uploadType={kind}"
                f"&name={quote(key, safe='')}")

    # ---------------------------------------------------------------- uploads
    def put_media(self, u: ObjectUri, data: memoryview) -> None:
        """One media upload of the whole object."""
        resp = self.request("POST", self.upload_url(u.bucket, u.key, "media"), u.uri, "PUT", ok=(200,),
                            data=data, headers={"Content-Type": "application/octet-stream",
                                                "Content-Length": str(data.nbytes)})
        discard_body(resp)

    def start_resumable(self, u: ObjectUri) -> str:
        """A resumable upload session (its URL); nothing is visible until the last chunk lands."""
        resp = self.request("POST", self.upload_url(u.bucket, u.key, "resumable"), u.uri, "PUT", ok=(200,),
                            data=b"{}", headers={"Content-Type": "application/json; charset=UTF-8",
                                                 "X-Upload-Content-Type": "application/octet-stream"})
        session = resp.headers.get("Location")
        discard_body(resp)
        if not session:
            raise StorageIOError(f"PUT failed for {u.uri}: no resumable session URL in the response", u.uri)
        return str(session)

    def put_chunk(self, u: ObjectUri, session: str, offset: int, data: memoryview, total: int | None) -> None:
        """Send bytes [offset, offset+len) of a resumable upload; `total` is set on the last request (an
        empty one, 'bytes */total', finishes an upload whose size was not known before)."""
        n = data.nbytes
        size = "*" if total is None else str(total)
        rng = f"bytes {offset}-{offset + n - 1}/{size}" if n else f"bytes */{size}"
        resp = self.request("PUT", session, u.uri, "PUT", ok=(200, 201, 308), data=data,
                            headers={"Content-Range": rng, "Content-Length": str(n)})
        status = resp.status_code
        discard_body(resp)
        if total is None and status != 308:
            raise StorageIOError(f"PUT failed for {u.uri}: the upload finished early (HTTP {status})", u.uri)
        if total is not None and status == 308:
            raise StorageIOError(f"PUT failed for {u.uri}: the service did not accept the last chunk", u.uri)

    def cancel_resumable(self, u: ObjectUri, session: str) -> None:
        """Cancel a resumable session (best effort: nothing was visible anyway)."""
        try:
            self.request("DELETE", session, u.uri, "abort", ok=(200, 204, 404, 410, 499))
        except S3dlioError as e:
            log.debug("cancelling the resumable upload of %s failed: %s", u.uri, e)
