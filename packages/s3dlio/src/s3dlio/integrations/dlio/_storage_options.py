"""DLIO's storage configuration turned into the environment that s3dlio's stores read.

DLIO users put credentials and endpoints in the workload's `storage.storage_options`; s3dlio's S3 store
reads the standard AWS variables. `apply_storage_options` copies one into the other without ever
replacing a value that is already set (a variable exported by the user, or by the launcher, wins), and
logs only the names of what it set, never a value: keys and secrets stay out of every log line, warning
and error message.

Recognised options (in `storage_options`, or as attributes of DLIO's config for forks that carry them
there):

| option | environment |
|---|---|
| `access_key_id` + `secret_access_key` (+ `session_token`) | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (`AWS_SESSION_TOKEN`), as a pair: left alone when either is already set |
| `region` (else DLIO's `s3_region`) | `AWS_REGION`, unless `AWS_REGION` or `AWS_DEFAULT_REGION` is set |
| `endpoint_url` | `AWS_ENDPOINT_URL`, unless it or `AWS_ENDPOINT_URL_S3` is set |
| `endpoint_uris` (list, or comma-separated) + `load_balance_strategy` (`round_robin`, `random`, `least_connections`) or `use_mpi_endpoint_distribution` | one endpoint per process, into `AWS_ENDPOINT_URL` as above |
| `s3_max_attempts` | `S3DLIO_MAX_RETRY_ATTEMPTS` |
| `s3_force_path_style` | nothing: s3dlio always addresses a custom endpoint path-style |

Endpoint selection per process: `round_robin` takes `rank % N` with the rank from
`OMPI_COMM_WORLD_RANK`, `PMIX_RANK`, `SLURM_PROCID` or `PMI_RANK`, else `pid % N`; `random` picks with a
private generator seeded by the rank (else the pid), leaving Python's global `random` untouched;
`least_connections` needs live connection counts that a per-process choice does not have, so it is
round-robin; `use_mpi_endpoint_distribution` takes `rank % N`, else the first endpoint.
"""

from __future__ import annotations

import logging
import os
import random
import warnings
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from s3dlio_core import clear_store_cache, reset_settings

__all__ = ["apply_storage_options", "select_endpoint", "process_rank", "option"]

_log = logging.getLogger("s3dlio.integrations.dlio")

STRATEGIES = ("round_robin", "random", "least_connections")
_RANK_VARS = ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID", "PMI_RANK")
_TRUE = frozenset({"1", "true", "yes", "on"})


def option(storage_options: Mapping[str, Any], args: Any, name: str, default: Any = None) -> Any:
    """`storage_options[name]`, else DLIO config attribute `name`, else `default` (None/'' = unset)."""
    value = storage_options.get(name) if storage_options else None
    if value is None or value == "":
        value = getattr(args, name, None)
    return default if value is None or value == "" else value


def process_rank() -> int | None:
    """This process's MPI/SLURM rank from the launcher's environment, or None."""
    for name in _RANK_VARS:
        raw = os.environ.get(name)
        if raw is not None:
            try:
                return int(raw)
            except ValueError:
                continue
    return None


def _endpoint_list(value: Any) -> list[str]:
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    else:
        try:
            items = [str(v).strip() for v in value]
        except TypeError:
            raise ValueError("storage_options['endpoint_uris'] must be a list of endpoint URLs or a "
                             f"comma-separated string, got {type(value).__name__}") from None
    return [_check_endpoint(v, "endpoint_uris") for v in items if v]


def select_endpoint(endpoint_uris: Any, strategy: str = "round_robin", use_mpi: bool = False) -> str | None:
    """The endpoint this process uses out of `endpoint_uris` (see the module's docs); None if empty.

    Raises ValueError for an endpoint that is not an http(s) URL or an unknown strategy."""
    endpoints = _endpoint_list(endpoint_uris) if endpoint_uris is not None else []
    if not endpoints:
        return None
    rank = process_rank()
    if use_mpi:
        if rank is None:
            warnings.warn("s3dlio DLIO storage: use_mpi_endpoint_distribution is set but no MPI rank is in the "
                          f"environment ({', '.join(_RANK_VARS)}): using the first endpoint", UserWarning,
                          stacklevel=3)
            return endpoints[0]
        return endpoints[rank % len(endpoints)]
    strategy = (strategy or "round_robin").strip().lower()
    if strategy not in STRATEGIES:
        raise ValueError(f"storage_options['load_balance_strategy'] must be one of {', '.join(STRATEGIES)}, "
                         f"got {strategy!r}")
    seed = rank if rank is not None else os.getpid()
    if strategy == "random":
        return random.Random(seed).choice(endpoints)
    if rank is None:
        _log.info("round_robin endpoint selection without an MPI rank in the environment: using pid %% %d",
                  len(endpoints))
    return endpoints[seed % len(endpoints)]


def redact_url(url: str) -> str:
    """`url` with anything before an '@' in its authority replaced by '***' (a user:password there may
    hold a secret, and such a secret may itself contain '/' or '@', so everything up to the last '@'
    goes)."""
    i = url.find("://")
    head, rest = (url[:i + 3], url[i + 3:]) if i >= 0 else ("", url)
    return head + "***@" + rest.rsplit("@", 1)[1] if "@" in rest else url


def _check_endpoint(url: str, option_name: str) -> str:
    """`url` stripped, or ValueError (naming the option, never showing a credential)."""
    url = url.strip()
    if "@" in url.partition("://")[2]:
        raise ValueError(f"storage_options[{option_name!r}] has {redact_url(url)!r}: an endpoint URL must not "
                         "carry user:password (put credentials in access_key_id / secret_access_key)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"storage_options[{option_name!r}] has {url!r}, which is not an http:// or https:// "
                         "endpoint URL")
    return url


def _set_default(name: str, value: str, set_names: list[str]) -> None:
    if not os.environ.get(name):
        os.environ[name] = value
        set_names.append(name)


def _apply_endpoint(endpoint: str, set_names: list[str]) -> None:
    current = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if current:
        if current.rstrip("/") != endpoint.rstrip("/"):
            warnings.warn(f"s3dlio DLIO storage: the environment already points S3 at {redact_url(current)!r}; "
                          f"keeping it instead of the configured endpoint {redact_url(endpoint)!r} (unset "
                          "AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 to use the configuration's)",
                          UserWarning, stacklevel=4)
        return
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    set_names.append("AWS_ENDPOINT_URL")


def apply_storage_options(storage_options: Mapping[str, Any] | None, args: Any = None) -> list[str]:
    """Fill the environment from DLIO's storage configuration; returns the names of the variables set.

    Raises ValueError for malformed endpoint settings (naming the option, never a credential)."""
    opts: Mapping[str, Any] = storage_options or {}
    set_names: list[str] = []

    key = option(opts, None, "access_key_id")
    secret = option(opts, None, "secret_access_key")
    if key or secret:
        if os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_SECRET_ACCESS_KEY"):
            _log.info("AWS credentials are already in the environment; storage_options' are not used")
        else:
            if not (key and secret):
                raise ValueError("storage_options needs both access_key_id and secret_access_key (one of "
                                 "them is missing)")
            os.environ["AWS_ACCESS_KEY_ID"] = str(key)
            os.environ["AWS_SECRET_ACCESS_KEY"] = str(secret)
            set_names += ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
            token = option(opts, None, "session_token")
            if token:
                _set_default("AWS_SESSION_TOKEN", str(token), set_names)

    region = option(opts, args, "region") or getattr(args, "s3_region", None)
    if region and not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        _set_default("AWS_REGION", str(region), set_names)

    attempts = option(opts, None, "s3_max_attempts")
    if attempts is not None:
        try:
            n = int(attempts)
        except (TypeError, ValueError):
            raise ValueError(f"storage_options['s3_max_attempts'] must be an integer, got {attempts!r}") from None
        if n < 1:
            raise ValueError(f"storage_options['s3_max_attempts'] must be >= 1, got {n}")
        _set_default("S3DLIO_MAX_RETRY_ATTEMPTS", str(n), set_names)

    use_mpi = str(option(opts, args, "use_mpi_endpoint_distribution", "")).strip().lower() in _TRUE
    endpoint = select_endpoint(option(opts, args, "endpoint_uris"),
                               str(option(opts, args, "load_balance_strategy", "round_robin")), use_mpi)
    if endpoint is not None:
        _log.info("selected S3 endpoint %s for this process", redact_url(endpoint))
    else:
        url = option(opts, None, "endpoint_url")
        endpoint = _check_endpoint(str(url), "endpoint_url") if url else None
    if endpoint:
        _apply_endpoint(endpoint, set_names)
    if set_names:
        _log.debug("set from DLIO storage_options: %s", ", ".join(set_names))
        # stores and settings already made in this process read the environment before: let them re-read
        clear_store_cache()
        reset_settings()
    return set_names
