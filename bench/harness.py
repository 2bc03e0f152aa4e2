"""What the benchmarks share: percentiles, a scratch database, starting and stopping
Padu's processes (gunicorn and a Celery worker) beside the benchmark, and loading a URL
with wrk. Import it after django.setup()."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


def start_gunicorn(
    *, port: int, env: dict[str, str], ready_path: str, options: tuple[str, ...] = ()
) -> subprocess.Popen:
    """gunicorn serving Padu with the production image's settings (padu/gunicorn.conf.py:
    WEB_CONCURRENCY workers × WEB_THREADS threads, 2 × 4 by default), on this machine's
    `port`, with any further command-line `options`; returned once `ready_path` answers 200."""
    config = str(ROOT / "padu" / "gunicorn.conf.py")
    process = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            config,
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            *options,
            "padu.wsgi",
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


# wrk reports latencies in microseconds; this prints what the benchmarks read.
WRK_REPORT = """
local body_file = os.getenv("PADU_WRK_BODY")
if body_file then
  local file = assert(io.open(body_file, "rb"))
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
end

done = function(summary, latency, requests)
  io.write(string.format("PADU %d %d %d %d %.1f %.1f %.1f %.1f\\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Load:
    """What wrk measured: requests answered per second and latency percentiles (ms)."""

    requests: int
    per_second: float
    failed: int  # answers that were not 2xx/3xx, and socket errors
    p50: float
    p95: float
    p99: float
    max: float


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int = 1,
    headers: dict[str, str],
    body: bytes | None = None,
) -> Load:
    """Load `url` with wrk (one thread per two connections, at most two) for `seconds`:
    GET requests, or POST requests carrying `body`."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    with (
        tempfile.NamedTemporaryFile("w", suffix=".lua") as script,
        tempfile.NamedTemporaryFile("wb") as body_file,
    ):
        script.write(WRK_REPORT)
        script.flush()
        environment = dict(os.environ)
        if body is not None:
            body_file.write(body)
            body_file.flush()
            environment["PADU_WRK_BODY"] = body_file.name
        command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s"]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        output = subprocess.run(  # noqa: S603
            [*command, "-s", script.name, url],
            capture_output=True,
            text=True,
            check=True,
            env=environment,
        ).stdout
    found = re.search(
        r"^PADU (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)$", output, re.M
    )
    if found is None:
        raise SystemExit(f"wrk said:\n{output}")
    requests, duration_us, status_errors, socket_errors = map(int, found.groups()[:4])
    p50, p95, p99, slowest = (float(value) / 1000 for value in found.groups()[4:])
    return Load(
        requests=requests,
        per_second=requests / (duration_us / 1_000_000),
        failed=status_errors + socket_errors,
        p50=p50,
        p95=p95,
        p99=p99,
        max=slowest,
    )
