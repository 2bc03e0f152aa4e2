"""Padu's Celery app plus the tasks of the embedded broker benchmark.

A worker or beat started with `-A bench.broker_tasks` runs Padu's configuration (the
broker from settings) with `record`, which notes each task's number in a SQLite file
(duplicates included, so lost and duplicated tasks can both be counted), and a beat
schedule of one `tick` every 0.2 s instead of Padu's (which needs a database).

BROKER_CANDIDATE picks the broker under test: `padu` (the default, padu/broker.py),
`kombu` (kombu's own file-system transport) or `sqlalchemy` (kombu's SQLAlchemy
transport on a SQLite file under PADU_VAR_DIR; needs SQLAlchemy installed).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from padu.celery import app

CANDIDATE = os.environ.get("BROKER_CANDIDATE", "padu")
VAR_DIR = Path(os.environ["PADU_VAR_DIR"])
RECORD_FILE = VAR_DIR / "bench-record.sqlite3"

if CANDIDATE == "kombu":
    app.conf.broker_transport = "filesystem"
elif CANDIDATE == "sqlalchemy":
    from kombu.transport import sqlalchemy

    # Its transport options go to SQLAlchemy's create_engine, so the polling interval
    # is set on the class.
    sqlalchemy.Transport.polling_interval = 0.05
    app.conf.broker_url = f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}"
    app.conf.broker_transport = None
    app.conf.broker_transport_options = {"connect_args": {"timeout": 30}}

if os.environ.get("BENCH_POLLING_INTERVAL") and CANDIDATE != "sqlalchemy":
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "polling_interval": float(os.environ["BENCH_POLLING_INTERVAL"]),
    }

app.conf.beat_schedule = {"bench-tick": {"task": "bench.broker_tasks.tick", "schedule": 0.2}}

_connection: tuple[int, sqlite3.Connection] | None = None


def record_connection() -> sqlite3.Connection:
    """This process's connection to the record file (a forked process opens its own)."""
    global _connection
    if _connection is None or _connection[0] != os.getpid():
        connection = sqlite3.connect(RECORD_FILE, timeout=60, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("CREATE TABLE IF NOT EXISTS seen (number INTEGER, pid INTEGER)")
        connection.execute("CREATE TABLE IF NOT EXISTS ticks (at REAL)")
        _connection = (os.getpid(), connection)
    return _connection[1]


@app.task(name="bench.broker_tasks.record")
def record(number: int) -> None:
    record_connection().execute("INSERT INTO seen VALUES (?, ?)", (number, os.getpid()))


@app.task(name="bench.broker_tasks.tick")
def tick() -> None:
    record_connection().execute("INSERT INTO ticks VALUES (julianday('now'))")
