"""What the benchmarks share: percentiles, a scratch database, and starting and stopping
Padu's processes (gunicorn and a Celery worker) beside the benchmark. Import it after
django.setup()."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connections

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def database_url(name: str | None = None) -> str:
    """The configured database's URL, or another database's on the same server."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name or db['NAME']}"


def database_drop() -> None:
    name = settings.DATABASES["default"]["NAME"]
    connections.close_all()
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_reset() -> None:
    """The configured database, dropped, created again and migrated."""
    database_drop()
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{settings.DATABASES["default"]["NAME"]}"')
    call_command("migrate", verbosity=0)


def start(command: list[str], *, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_gunicorn(*, port: int, env: dict[str, str], ready_path: str) -> subprocess.Popen:
    """gunicorn serving Padu (2 workers × 4 threads), once `ready_path` answers 200."""
    process = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "padu.wsgi",
            "--workers",
            "2",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready_path}").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit("gunicorn did not start")


def start_worker(*, env: dict[str, str]) -> subprocess.Popen:
    """A Celery worker with two processes, as the demo and docker-compose run it."""
    command = [sys.executable, "-m", "celery", "-A", "padu", "worker", "--concurrency=2"]
    quiet = ["--without-gossip", "--without-mingle", "--loglevel=WARNING"]
    return start([*command, *quiet], env=env)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
