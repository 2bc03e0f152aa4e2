"""Production mode refuses an insecure configuration and passes Django's deploy check."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_KEY = base64.b64encode(b"padu-development-token-key-32byt").decode()
GOOD_PRODUCTION = {
    "PADU_ENV": "production",
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "padu.example.com",
    "TOKEN_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {*GOOD_PRODUCTION, "SECRET_KEY_FILE", "TOKEN_ENCRYPTION_KEYS_FILE"}
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_with_a_secure_configuration_passes_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **GOOD_PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"DEBUG": "true"}, "DEBUG"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "too-short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"TOKEN_ENCRYPTION_KEYS": ""}, "TOKEN_ENCRYPTION_KEYS"),
        ({"TOKEN_ENCRYPTION_KEYS": "k1:bm90LTMyLWJ5dGVz"}, "TOKEN_ENCRYPTION_KEYS"),
        ({"TOKEN_ENCRYPTION_KEYS": f"dev1:{DEVELOPMENT_KEY}"}, "public development key"),
        ({"TOKEN_ENCRYPTION_KEYS": f"prod1:{DEVELOPMENT_KEY}"}, "public development key"),
        (
            {
                "TOKEN_ENCRYPTION_KEYS": GOOD_PRODUCTION["TOKEN_ENCRYPTION_KEYS"]
                + f",k2:{DEVELOPMENT_KEY}"
            },
            "public development key",
        ),
        ({"META_INSTAGRAM_LOGIN": "true"}, "META_INSTAGRAM_APP_SECRET"),
        (
            {"META_INSTAGRAM_LOGIN": "true", "META_INSTAGRAM_APP_ID": "1234"},
            "META_INSTAGRAM_APP_SECRET",
        ),
    ],
)
def test_production_refuses_to_start_and_names_the_insecure_setting(change, named):
    environment = {key: value for key, value in {**GOOD_PRODUCTION, **change}.items() if value}

    result = manage("check", **environment)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.splitlines()[-1]


def test_secrets_can_be_read_from_files(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(GOOD_PRODUCTION["SECRET_KEY"] + "\n")
    environment = {**GOOD_PRODUCTION, "SECRET_KEY_FILE": str(key_file)}
    del environment["SECRET_KEY"]

    result = manage("check", "--deploy", "--fail-level", "WARNING", **environment)

    assert result.returncode == 0, result.stderr


def test_the_refusal_never_prints_the_secret_itself():
    secret = "leaky-" + secrets.token_urlsafe(8)

    result = manage("check", **{**GOOD_PRODUCTION, "SECRET_KEY": secret})

    assert "SECRET_KEY" in result.stderr
    assert secret not in result.stderr + result.stdout
