"""Production mode refuses an insecure configuration and passes Django's deploy check."""

from __future__ import annotations

import base64
import importlib.util
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


# Where customers' attachments are kept.


def test_attachments_are_kept_under_var_media_with_no_public_address(monkeypatch):
    from padu import settings as padu_settings

    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)

    storage = padu_settings.media_storage()

    assert storage["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert storage["OPTIONS"]["location"] == str(padu_settings.VAR_DIR / "media")
    assert storage["OPTIONS"]["file_permissions_mode"] == 0o600
    assert not getattr(padu_settings, "MEDIA_URL", "")
    assert not str(padu_settings.VAR_DIR / "media").startswith(str(padu_settings.STATIC_ROOT))


def test_an_s3_bucket_takes_only_the_settings_that_are_set(monkeypatch, tmp_path):
    from padu import settings as padu_settings

    secret_file = tmp_path / "s3_secret"
    secret_file.write_text("s3-secret-key\n")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    for name in ("AWS_S3_REGION_NAME", "AWS_LOCATION", "AWS_S3_ADDRESSING_STYLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", "padu-media")
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", "https://s3.example.com")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "padu")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY_FILE", str(secret_file))

    storage = padu_settings.media_storage()

    assert storage == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "padu-media",
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "endpoint_url": "https://s3.example.com",
            "access_key": "padu",
            "secret_key": "s3-secret-key",
        },
    }


def test_an_s3_bucket_without_django_storages_refuses_to_start_and_says_what_to_install():
    if importlib.util.find_spec("storages") is not None:
        pytest.skip("django-storages is installed here")

    result = manage("check", AWS_STORAGE_BUCKET_NAME="padu-media")

    assert result.returncode != 0
    assert "pip install 'padu[s3]'" in result.stderr
