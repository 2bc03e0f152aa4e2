"""The environment of a benchmark that runs Padu as an operator does: production
settings, keys made for the run only, a scratch directory for static and stored files.
Call `environment` before django.setup()."""

from __future__ import annotations

import atexit
import base64
import os
import secrets
import shutil
import tempfile
from pathlib import Path


def environment(*, database_name: str) -> Path:
    """Set the production environment on `database_name` (BENCH_DATABASE_URL and
    BENCH_REDIS_URL override the local defaults); returns the scratch directory."""
    scratch = Path(tempfile.mkdtemp(prefix=f"{database_name}-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    os.environ.update(
        DATABASE_URL=os.environ.get(
            "BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{database_name}"
        ),
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        DJANGO_SETTINGS_MODULE="bench.settings",
        PADU_ENV="production",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        TOKEN_ENCRYPTION_KEYS="bench1:" + base64.b64encode(os.urandom(32)).decode(),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="false",
        PADU_VAR_DIR=str(scratch / "var"),
        STATIC_ROOT=str(scratch / "static"),
        META_APP_ID="4242",
        META_APP_SECRET="bench-app-secret",  # noqa: S106 - the simulator's, for this run
        LOG_LEVEL="WARNING",
    )
    return scratch
