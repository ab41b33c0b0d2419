"""Static keys in the environment are used without importing botocore (its import costs a fresh process
0.25-0.5 s on its first request); anything else still goes through botocore's resolver."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _probe(env: dict[str, str]) -> str:
    code = ("import sys\nfrom s3dlio_backends.s3.config import CredentialSource\n"
            "c = CredentialSource().get()\n"
            "print(c.access_key, c.token, 'botocore' in sys.modules)")
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_env_keys_skip_botocore() -> None:
    assert _probe({"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s"}) == "AKIAENV None False"
    assert _probe({"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s",
                   "AWS_SESSION_TOKEN": "tok"}) == "AKIAENV tok False"
    assert _probe({"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s",
                   "AWS_SECURITY_TOKEN": "old"}) == "AKIAENV old False"


def test_expiring_env_keys_go_to_botocore() -> None:
    out = _probe({"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok",
                  "AWS_CREDENTIAL_EXPIRATION": "2999-01-01T00:00:00Z"})
    assert out == "AKIAENV tok True"


@pytest.mark.parametrize("missing", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])
def test_half_set_env_keys_go_to_botocore(missing: str, tmp_path: object) -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": f"{tmp_path}/none", "AWS_SHARED_CREDENTIALS_FILE": f"{tmp_path}/none"}
    del env[missing]
    code = ("import sys\nfrom s3dlio_backends.s3.config import CredentialSource\n"
            "try:\n    CredentialSource().get()\nexcept Exception as e:\n    print(type(e).__name__)\n"
            "print('botocore' in sys.modules)")
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[-1] == "True"  # botocore decided (today it raises its own PartialCredentialsError)
