"""s3dlio.integrations.dlio configuration: the multipart settings and DLIO's storage_options turned into
the environment (never overwriting what is set, never logging a credential), endpoint selection."""

from __future__ import annotations

import logging
import os
import random
import sys
import warnings
from collections.abc import Iterator

import pytest
from s3dlio.integrations.dlio import (
    multipart_disabled,
    multipart_max_in_flight,
    multipart_part_size_bytes,
    multipart_threshold_bytes,
)
from s3dlio.integrations.dlio._storage_options import apply_storage_options, redact_url, select_endpoint
from s3dlio_core import clear_store_cache, reset_settings

MiB = 1 << 20
ENV_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
             "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "S3DLIO_MAX_RETRY_ATTEMPTS", "OMPI_COMM_WORLD_RANK",
             "PMIX_RANK", "SLURM_PROCID", "PMI_RANK", "S3DLIO_MULTIPART_THRESHOLD_MB",
             "S3DLIO_MULTIPART_PART_SIZE_MB", "S3DLIO_MULTIPART_MAX_IN_FLIGHT", "S3DLIO_DISABLE_MULTIPART")
SECRET = "dlio-cfg/SECRET+value=never-shown-Zq81x"
KEY = "AKIADLIOCONFIGTEST9"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """None of the variables these tests read or write, restored (or removed) afterwards, and no store
    or settings left behind that read them."""
    for name in ENV_NAMES:
        monkeypatch.setenv(name, "x")  # recorded, so whatever the test sets is undone too
        monkeypatch.delenv(name)
    yield
    monkeypatch.undo()
    clear_store_cache()
    reset_settings()


# ---------------------------------------------------------------- multipart settings
def test_multipart_defaults() -> None:
    assert multipart_threshold_bytes() == 32 * MiB
    assert multipart_part_size_bytes() == 32 * MiB
    assert multipart_max_in_flight() == 8
    assert multipart_disabled() is False


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("1", MiB), ("64", 64 * MiB), (" 16 ", 16 * MiB),
                                               ("-1", 32 * MiB), ("abc", 32 * MiB), ("1.5", 32 * MiB)])
def test_multipart_threshold(monkeypatch: pytest.MonkeyPatch, raw: str, expected: int) -> None:
    monkeypatch.setenv("S3DLIO_MULTIPART_THRESHOLD_MB", raw)
    assert multipart_threshold_bytes() == expected


@pytest.mark.parametrize(("raw", "expected"), [("5", 5 * MiB), ("128", 128 * MiB), ("0", 32 * MiB),
                                               ("-3", 32 * MiB), ("x", 32 * MiB)])
def test_multipart_part_size(monkeypatch: pytest.MonkeyPatch, raw: str, expected: int) -> None:
    monkeypatch.setenv("S3DLIO_MULTIPART_PART_SIZE_MB", raw)
    assert multipart_part_size_bytes() == expected


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("32", 32), ("0", 8), ("-2", 8), ("many", 8)])
def test_multipart_max_in_flight(monkeypatch: pytest.MonkeyPatch, raw: str, expected: int) -> None:
    monkeypatch.setenv("S3DLIO_MULTIPART_MAX_IN_FLIGHT", raw)
    assert multipart_max_in_flight() == expected


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("Yes", True), (" on ", True),
                                               ("0", False), ("false", False), ("", False), ("enable", False)])
def test_multipart_disabled(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("S3DLIO_DISABLE_MULTIPART", raw)
    assert multipart_disabled() is expected


# ---------------------------------------------------------------- storage_options -> environment
def test_storage_options_fill_an_empty_environment() -> None:
    set_names = apply_storage_options({"access_key_id": KEY, "secret_access_key": SECRET, "region": "eu-west-1",
                                       "endpoint_url": "http://127.0.0.1:9000", "s3_max_attempts": "5"})
    assert os.environ["AWS_ACCESS_KEY_ID"] == KEY and os.environ["AWS_SECRET_ACCESS_KEY"] == SECRET
    assert os.environ["AWS_REGION"] == "eu-west-1"
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert os.environ["S3DLIO_MAX_RETRY_ATTEMPTS"] == "5"
    assert set(set_names) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL",
                              "S3DLIO_MAX_RETRY_ATTEMPTS"}


def test_storage_options_never_overwrite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "envkey")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1111")
    monkeypatch.setenv("S3DLIO_MAX_RETRY_ATTEMPTS", "2")
    with pytest.warns(UserWarning, match="keeping it"):
        set_names = apply_storage_options({"access_key_id": KEY, "secret_access_key": SECRET, "region": "eu-west-1",
                                           "endpoint_url": "http://127.0.0.1:9000", "s3_max_attempts": 7})
    assert set_names == []
    assert os.environ["AWS_ACCESS_KEY_ID"] == "envkey" and os.environ["AWS_SECRET_ACCESS_KEY"] == "envsecret"
    assert "AWS_REGION" not in os.environ  # AWS_DEFAULT_REGION already decides the region
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1111"
    assert os.environ["S3DLIO_MAX_RETRY_ATTEMPTS"] == "2"


def test_credentials_are_a_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "envkey")  # half a pair in the environment: leave both alone
    apply_storage_options({"access_key_id": KEY, "secret_access_key": SECRET})
    assert "AWS_SECRET_ACCESS_KEY" not in os.environ
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    with pytest.raises(ValueError, match="both access_key_id and secret_access_key") as ei:
        apply_storage_options({"secret_access_key": SECRET})
    assert SECRET not in str(ei.value)


def test_endpoint_url_s3_counts_as_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same endpoint: nothing to warn about
        apply_storage_options({"endpoint_url": "http://127.0.0.1:9000/"})
    assert "AWS_ENDPOINT_URL" not in os.environ


def test_region_falls_back_to_dlio_s3_region() -> None:
    class Args:
        s3_region = "us-west-2"
        storage_options: dict[str, str] = {}

    apply_storage_options({}, Args())
    assert os.environ["AWS_REGION"] == "us-west-2"


@pytest.mark.parametrize("bad", ["three", 0])
def test_bad_max_attempts(bad: object) -> None:
    with pytest.raises(ValueError, match="s3_max_attempts"):
        apply_storage_options({"s3_max_attempts": bad})


def test_no_credential_in_logs_warnings_or_errors(caplog: pytest.LogCaptureFixture,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG, logger="s3dlio.integrations.dlio")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    said = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        apply_storage_options({"access_key_id": KEY, "secret_access_key": SECRET,
                               "endpoint_url": "http://127.0.0.1:9000"})
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        apply_storage_options({"endpoint_uris": ["http://127.0.0.1:9000", "http://127.0.0.1:9001"]})
        for url in (f"http://{KEY}:{SECRET}@127.0.0.1:9000", f"http://{SECRET}@127.0.0.1:9000"):
            for opts in ({"endpoint_url": url}, {"endpoint_uris": [url]}):
                with pytest.raises(ValueError, match="must not carry user:password") as ei:
                    apply_storage_options(opts)
                said.append(str(ei.value))
    text = caplog.text + "".join(str(w.message) for w in caught) + "".join(said)
    assert caught and caplog.records  # something was said ...
    assert SECRET not in text and KEY not in text  # ... and no credential in it
    assert "AWS_SECRET_ACCESS_KEY" in caplog.text  # names of what was set are fine
    assert redact_url(f"http://{KEY}:{SECRET}@127.0.0.1:9000") == "http://***@127.0.0.1:9000"


# ---------------------------------------------------------------- endpoint selection
EPS = ["http://127.0.0.1:9001", "http://127.0.0.1:9002", "http://127.0.0.1:9003"]


@pytest.mark.parametrize("var", ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID", "PMI_RANK"])
def test_round_robin_by_rank(monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    for rank in range(6):
        monkeypatch.setenv(var, str(rank))
        assert select_endpoint(EPS, "round_robin") == EPS[rank % 3]
        assert select_endpoint(EPS, "least_connections") == EPS[rank % 3]  # documented: per-process round robin
        assert select_endpoint(EPS, use_mpi=True) == EPS[rank % 3]


def test_round_robin_without_rank_uses_pid() -> None:
    assert select_endpoint(EPS, "round_robin") == EPS[os.getpid() % 3]
    with pytest.warns(UserWarning, match="no MPI rank"):
        assert select_endpoint(EPS, use_mpi=True) == EPS[0]


def test_random_is_seeded_by_rank_and_leaves_global_random_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "5")
    state = random.getstate()
    picks = {select_endpoint(EPS, "random") for _ in range(5)}
    assert random.getstate() == state
    assert picks == {random.Random(5).choice(EPS)}


def test_endpoint_uris_forms_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "1")
    assert select_endpoint(" http://127.0.0.1:9001 , http://127.0.0.1:9002 ") == EPS[1]
    assert select_endpoint([]) is None and select_endpoint("") is None
    with pytest.raises(ValueError, match="not an http"):
        select_endpoint(["127.0.0.1:9000"])
    with pytest.raises(ValueError, match="load_balance_strategy"):
        select_endpoint(EPS, "fastest")
    with pytest.raises(ValueError, match="endpoint_uris"):
        select_endpoint(42)


def test_selected_endpoint_goes_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_PROCID", "2")
    apply_storage_options({"endpoint_uris": EPS, "load_balance_strategy": "round_robin",
                           "endpoint_url": "http://127.0.0.1:1"})
    assert os.environ["AWS_ENDPOINT_URL"] == EPS[2]  # endpoint_uris wins over endpoint_url


def test_endpoint_options_as_dlio_config_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    class Args:  # forks of DLIO carry these beside storage_options
        endpoint_uris = EPS
        use_mpi_endpoint_distribution = True
        storage_options = None

    monkeypatch.setenv("PMI_RANK", "4")
    apply_storage_options(None, Args())
    assert os.environ["AWS_ENDPOINT_URL"] == EPS[1]


def test_importing_the_package_does_not_import_dlio() -> None:
    import s3dlio.integrations.dlio as integ

    assert "dlio_benchmark" not in sys.modules  # (nor is it installed in the workspace venv)
    with pytest.raises(ImportError, match="needs dlio_benchmark"):
        integ.S3dlioStorage  # noqa: B018
    with pytest.raises(ImportError, match="needs dlio_benchmark"):
        integ.S3PyTorchConnectorStorage  # noqa: B018
    with pytest.raises(AttributeError):
        integ.NoSuchThing  # noqa: B018


def test_values_set_reach_existing_stores_and_settings() -> None:
    from s3dlio_core import settings

    assert settings().max_retry_attempts == 3
    apply_storage_options({"s3_max_attempts": "6"})
    assert settings().max_retry_attempts == 6  # re-read, not the copy read before
