"""Soak test and benchmark of the embedded broker (no Redis, no PostgreSQL).

    python bench/embedded_broker.py [--tasks 20000] [--candidate padu] [--json]

It starts a Celery worker (2 processes) and beat on a scratch PADU_VAR_DIR, publishes
`--tasks` tasks that each record their number in a SQLite file, waits until every
number is recorded (or nothing has moved for `--stall` seconds), and prints: tasks/s,
lost and duplicated tasks, the worker's and beat's exit codes after a clean stop, and
whether their logs hold a traceback. The exit status is 0 only when nothing was lost or
duplicated and neither process crashed. Candidates: see bench/broker_tasks.py.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAILURE_MARKS = ("Traceback", "JSONDecodeError", "CRITICAL", "Unrecoverable error")


def embedded_environment(var_dir: Path, candidate: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    pythonpath = os.pathsep.join(p for p in (str(ROOT), environment.get("PYTHONPATH")) if p)
    environment.update(
        PADU_VAR_DIR=str(var_dir),
        BROKER_CANDIDATE=candidate,
        PYTHONPATH=pythonpath,
        DJANGO_SETTINGS_MODULE="padu.settings",
        LOG_LEVEL="WARNING",
    )
    return environment


def celery(environment: dict[str, str], log: Path, *arguments: str) -> subprocess.Popen:
    with open(log, "wb") as output:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "bench.broker_tasks", *arguments],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def counts(record_file: Path, tasks: int) -> tuple[int, int, int]:
    """(rows, distinct numbers, ticks) recorded so far, for numbers 0..tasks-1."""
    if not record_file.exists():
        return 0, 0, 0
    connection = sqlite3.connect(record_file, timeout=60)
    try:
        rows, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT number) FROM seen WHERE number BETWEEN 0 AND ?",
            (tasks - 1,),
        ).fetchone()
        (ticks,) = connection.execute("SELECT count(*) FROM ticks").fetchone()
        return rows, distinct, ticks
    except sqlite3.OperationalError:  # tables not created yet
        return 0, 0, 0
    finally:
        connection.close()


def stop(process: subprocess.Popen) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def run(*, tasks: int, candidate: str, var_dir: Path, stall: float) -> dict:
    """Run the soak in this process (its environment must already be the embedded one)."""
    import django

    django.setup()
    from bench.broker_tasks import RECORD_FILE, record, record_connection

    record_connection()  # the tables exist before the worker starts
    environment = dict(os.environ)
    worker_log, beat_log = var_dir / "worker.log", var_dir / "beat.log"
    worker = celery(
        environment,
        worker_log,
        "worker",
        "--concurrency=2",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=WARNING",
    )
    beat = celery(environment, beat_log, "beat", "--loglevel=WARNING")
    try:
        # A first task shows the worker is consuming before the clock starts.
        record.delay(-1)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and worker.poll() is None:
            connection = sqlite3.connect(RECORD_FILE, timeout=60)
            started = connection.execute("SELECT 1 FROM seen WHERE number = -1").fetchone()
            connection.close()
            if started:
                break
            time.sleep(0.1)
        started_at = time.monotonic()
        for number in range(tasks):
            record.delay(number)
        published_at = time.monotonic()
        last_progress, last_distinct = time.monotonic(), -1
        while worker.poll() is None and beat.poll() is None:
            rows, distinct, _ = counts(RECORD_FILE, tasks)
            if distinct >= tasks:
                break
            if distinct != last_distinct:
                last_progress, last_distinct = time.monotonic(), distinct
            elif time.monotonic() - last_progress > stall:
                break
            time.sleep(0.1)
        finished_at = time.monotonic()
        time.sleep(2)  # late duplicates, if any, have time to show
    finally:
        worker_alive, beat_alive = worker.poll() is None, beat.poll() is None
        worker_exit, beat_exit = stop(worker), stop(beat)
    rows, distinct, ticks = counts(RECORD_FILE, tasks)
    logs = worker_log.read_text(errors="replace") + beat_log.read_text(errors="replace")
    failures = sorted({mark for mark in FAILURE_MARKS if mark in logs})
    seconds = finished_at - started_at
    return {
        "candidate": candidate,
        "tasks": tasks,
        "seconds": round(seconds, 2),
        "tasks_per_second": round(distinct / seconds, 1) if seconds else 0.0,
        "publish_per_second": round(tasks / max(published_at - started_at, 1e-9), 1),
        "lost": tasks - distinct,
        "duplicated": rows - distinct,
        "beat_ticks": ticks,
        "worker_alive_until_stopped": worker_alive,
        "beat_alive_until_stopped": beat_alive,
        "worker_exit": worker_exit,
        "beat_exit": beat_exit,
        "log_failures": failures,
        "log_tail": logs.strip().splitlines()[-20:] if failures else [],
    }


def passed(result: dict) -> bool:
    return (
        result["lost"] == 0
        and result["duplicated"] == 0
        and result["worker_alive_until_stopped"]
        and result["beat_alive_until_stopped"]
        and result["worker_exit"] == 0
        and result["beat_exit"] == 0
        and not result["log_failures"]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--candidate", choices=["padu", "kombu", "sqlalchemy"], default="padu")
    parser.add_argument("--stall", type=float, default=60.0, help="Give up after this long idle.")
    parser.add_argument("--var-dir", type=Path, help="Default: a new temporary folder.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    options = parser.parse_args()
    var_dir = options.var_dir or Path(tempfile.mkdtemp(prefix="padu-broker-"))
    var_dir.mkdir(parents=True, exist_ok=True)
    if os.environ.get("PADU_VAR_DIR") != str(var_dir):
        # Start again in the embedded environment: settings are read at import.
        environment = embedded_environment(var_dir, options.candidate)
        command = [sys.executable, __file__, *sys.argv[1:], "--var-dir", str(var_dir)]
        return subprocess.run(command, env=environment, check=False).returncode  # noqa: S603
    sys.path.insert(0, str(ROOT))
    result = run(
        tasks=options.tasks, candidate=options.candidate, var_dir=var_dir, stall=options.stall
    )
    if options.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['candidate']}: {result['tasks']:,} tasks in {result['seconds']} s = "
            f"{result['tasks_per_second']:,} tasks/s (worker --concurrency=2, beat running; "
            f"published at {result['publish_per_second']:,}/s)\n"
            f"  lost {result['lost']}, duplicated {result['duplicated']}, "
            f"beat ticks {result['beat_ticks']}, worker exit {result['worker_exit']}, "
            f"beat exit {result['beat_exit']}, "
            f"worker alive until stopped: {result['worker_alive_until_stopped']}, "
            f"log failures: {', '.join(result['log_failures']) or 'none'}"
        )
        for line in result["log_tail"]:
            print("  | " + line)
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
