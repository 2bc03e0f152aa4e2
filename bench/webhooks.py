"""Benchmarks of Meta's webhook path (docs/benchmarks.md, section 1). It prints figures
and asserts nothing.

    python bench/webhooks.py [--only ack|settings|ingestion|growth] [--seconds 8] [--rounds 3]
                             [--max-rows 5000000]

Padu runs with production settings (bench/production.py) on a scratch PostgreSQL
database (padu_bench_webhooks) and Redis database 14:
1. acknowledgement: gunicorn with the production image's configuration, loaded by wrk
   with a signed 1.5 KB WhatsApp delivery at 8 connections and at 1, against the
   smallest Django view on the same server; rounds alternate the two, medians shown;
   then the webhook under other gunicorn shapes and database connection settings;
2. ingestion: 5,000 WhatsApp messages in 100 deliveries of 50, stored while no worker
   runs, then handed to one worker (2 processes), first from 5,000 new customers, then
   from the same customers again; against raw multi-row INSERTs of the same contacts,
   conversations and messages, one transaction per delivery;
3. growth: the same ingestion of known customers as the messages table grows to
   --max-rows rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import production  # noqa: E402

production.environment(database_name="padu_bench_webhooks")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402

from accounts.models import Organization  # noqa: E402
from bench import harness  # noqa: E402
from channels_meta import tasks  # noqa: E402
from channels_meta.models import Channel, WebhookEvent  # noqa: E402
from channels_meta.simulator.webhooks import serialize, sign, whatsapp_entry  # noqa: E402
from inbox.models import Contact, Conversation, Message  # noqa: E402

PORT = 8771
BASE = f"http://127.0.0.1:{PORT}"
WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DELIVERIES = 100
PER_DELIVERY = 50
# Deliveries per task, as the endpoint's dispatcher hands them over under load.
PER_TASK = 10


def reset() -> Channel:
    harness.database_reset()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    organization = Organization.objects.create(name="Bench", slug="bench")
    channel = Channel.objects.create(
        organization=organization,
        kind="whatsapp",
        external_id=PHONE_NUMBER_ID,
        waba_id=WABA_ID,
        name="WhatsApp",
    )
    channel.set_token("EAAGbench-token-000000000000")
    channel.save(update_fields=["token_ciphertext"])
    return channel


def whatsapp_delivery(first_message: int, customers: range) -> bytes:
    """One delivery of WhatsApp messages, one from each customer, numbered from
    `first_message`; the way Meta serializes it."""
    value = {
        "contacts": [
            {"profile": {"name": f"Müşteri {number}"}, "wa_id": f"90555{number:07d}"}
            for number in customers
        ],
        "messages": [
            {
                "from": f"90555{number:07d}",
                "id": f"wamid.HBgMOTA1NTUwMDA{first_message + offset:012d}FQIAEhgUM0E4QjU2RjA5QzE1",
                "timestamp": str(1_763_900_000 + offset),
                "type": "text",
                "text": {"body": f"Merhaba, {first_message + offset} numaralı siparişim nerede?"},
            }
            for offset, number in enumerate(customers)
        ],
    }
    entry = whatsapp_entry(WABA_ID, PHONE_NUMBER_ID, "+1 555 000 1111", value)
    return serialize({"object": "whatsapp_business_account", "entry": [entry]})


def signed_delivery() -> tuple[bytes, dict[str, str]]:
    """A 1.5 KB delivery (five customers' messages) and the headers Meta sends with it."""
    body = whatsapp_delivery(0, range(5))
    return body, {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(body, settings.META_APP_SECRET),
    }


# -- 1. acknowledgement -----------------------------------------------------------------


def bench_ack(seconds: int, rounds: int) -> None:
    reset()
    body, signed = signed_delivery()
    server = harness.start_gunicorn(port=PORT, env=dict(os.environ), ready_path="/bench/trivial/")
    try:
        harness.wrk(f"{BASE}/bench/trivial/", seconds=2, connections=8, headers={})  # warm up
        loads: dict[tuple[str, int], list[harness.Load]] = {}
        for _ in range(rounds):
            for connections in (8, 1):
                for name, path, headers, payload in (
                    ("smallest Django view (GET)", "/bench/trivial/", {}, None),
                    ("webhook (signed POST)", "/webhooks/meta/", signed, body),
                ):
                    load = harness.wrk(
                        f"{BASE}{path}",
                        seconds=seconds,
                        connections=connections,
                        headers=headers,
                        body=payload,
                    )
                    loads.setdefault((name, connections), []).append(load)
                    checkpoint()
    finally:
        harness.stop(server)
    print(
        f"\n1. Acknowledgement: gunicorn {gunicorn_shape()}, wrk -d{seconds}s, "
        f"{rounds} alternating rounds, medians (a {len(body):,}-byte WhatsApp delivery)"
    )
    for connections in (8, 1):
        reference = median_load(loads[("smallest Django view (GET)", connections)])
        webhook = median_load(loads[("webhook (signed POST)", connections)])
        for name, load in (("smallest Django view", reference), ("webhook", webhook)):
            print(
                f"   -c{connections} {name:21} {load.per_second:7,.0f} req/s"
                f"  p50 {load.p50:5.1f} ms  p99 {load.p99:5.1f} ms  max {load.max:6.1f} ms"
                f"  failed {load.failed}"
            )
        ratios = [
            w.per_second / r.per_second
            for w, r in zip(
                loads[("webhook (signed POST)", connections)],
                loads[("smallest Django view (GET)", connections)],
                strict=True,
            )
        ]
        ratio = webhook.per_second / reference.per_second
        print(
            f"   -c{connections} ratio webhook/view: {ratio:.2f}"
            f" (rounds: {', '.join(f'{one:.2f}' for one in ratios)})"
        )
    print(f"   deliveries stored: {WebhookEvent.objects.count():,}")


def checkpoint() -> None:
    """Tidy up after the last run now (its dead tuples, statistics and dirty pages),
    rather than in autovacuum and the checkpointer during the next run."""
    with psycopg.connect(harness.database_url(), autocommit=True) as raw:
        raw.execute("VACUUM ANALYZE channels_meta_webhookevent")
        raw.execute("CHECKPOINT")


def gunicorn_shape() -> str:
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    threads = os.environ.get("WEB_THREADS", "4")
    return f"{workers} workers × {threads} threads"


def median_load(loads: list[harness.Load]) -> harness.Load:
    return sorted(loads, key=lambda load: load.per_second)[len(loads) // 2]


SETTINGS = [
    ("2 workers × 4 threads, persistent connections", {}),
    ("2 workers × 8 threads", {"WEB_THREADS": "8"}),
    ("4 workers × 1 thread (sync)", {"WEB_CONCURRENCY": "4", "WEB_THREADS": "1"}),
    ("a new connection each request", {"DATABASE_CONN_MAX_AGE": "0"}),
    ("psycopg's pool (4 a process)", {"BENCH_DATABASE_POOL": "1"}),
]


def bench_settings(seconds: int) -> None:
    """The webhook at 8 connections under other server and database settings."""
    reset()
    body, signed = signed_delivery()
    print(f"\n1b. Server settings: the webhook at -c8, wrk -d{seconds}s, one run each")
    for name, overrides in SETTINGS:
        env = {**os.environ, **overrides}
        server = harness.start_gunicorn(port=PORT, env=env, ready_path="/bench/trivial/")
        try:
            harness.wrk(f"{BASE}/bench/trivial/", seconds=2, connections=8, headers={})
            reference = harness.wrk(
                f"{BASE}/bench/trivial/", seconds=seconds, connections=8, headers={}
            )
            checkpoint()
            load = harness.wrk(
                f"{BASE}/webhooks/meta/", seconds=seconds, connections=8, headers=signed, body=body
            )
            checkpoint()
        finally:
            harness.stop(server)
        print(
            f"   {name:47} {load.per_second:6,.0f} req/s  p99 {load.p99:5.1f} ms"
            f"  (smallest view {reference.per_second:6,.0f} req/s)"
        )


# -- 2. ingestion -----------------------------------------------------------------------


def store_deliveries(first_message: int) -> list[int]:
    """100 deliveries of 50 messages from customers 0–4,999, stored as the endpoint does."""
    return [
        WebhookEvent.objects.store(
            whatsapp_delivery(
                first_message + number * PER_DELIVERY,
                range(number * PER_DELIVERY, (number + 1) * PER_DELIVERY),
            )
        )
        for number in range(DELIVERIES)
    ]


def ingest(event_ids: list[int]) -> float:
    """Hand the events to the running worker; seconds until the last one is processed."""
    began = time.time()
    for start_at in range(0, len(event_ids), PER_TASK):
        tasks.webhook_events_process.delay(event_ids[start_at : start_at + PER_TASK])
    pending = WebhookEvent.objects.filter(pk__in=event_ids, processed_at=None)
    deadline = time.monotonic() + 600
    while pending.exists():
        if time.monotonic() > deadline:
            raise SystemExit("the worker did not finish in 10 minutes")
        time.sleep(0.05)
    finished = WebhookEvent.objects.filter(pk__in=event_ids).aggregate(Max("processed_at"))
    return finished["processed_at__max"].timestamp() - began


def start_ready_worker() -> object:
    worker = harness.start_worker(env=dict(os.environ))
    deadline = time.monotonic() + 60
    while not tasks.webhook_events_process.app.control.ping(timeout=0.5):
        if time.monotonic() > deadline:
            harness.stop(worker)
            raise SystemExit("the worker did not start")
    return worker


def bench_ingestion() -> None:
    reset()
    worker = start_ready_worker()
    try:
        new_seconds = ingest(store_deliveries(0))
        messages_after_new = Message.objects.count()
        known_seconds = ingest(store_deliveries(DELIVERIES * PER_DELIVERY))
    finally:
        harness.stop(worker)
    messages = DELIVERIES * PER_DELIVERY
    stored = Message.objects.count()
    raw_seconds = raw_insert_seconds()
    print(
        f"\n2. Ingestion: {messages:,} WhatsApp messages in {DELIVERIES} deliveries of "
        f"{PER_DELIVERY}, tasks of {PER_TASK} deliveries, one worker with 2 processes"
    )
    print(
        f"   new customers:   {messages / new_seconds:7,.0f} messages/s ({new_seconds:.2f} s)"
        f"   known customers: {messages / known_seconds:7,.0f} messages/s ({known_seconds:.2f} s)"
    )
    print(
        f"   raw INSERTs of the same contacts, conversations and messages, one transaction "
        f"per delivery: {messages / raw_seconds:,.0f} messages/s ({raw_seconds:.2f} s)"
    )
    print(
        f"   ratio new customers / raw INSERTs: {raw_seconds / new_seconds:.2f};"
        f" rows: {messages_after_new:,} then {stored:,} messages (expected {messages:,} and"
        f" {2 * messages:,}), {Contact.objects.count():,} contacts,"
        f" {Conversation.objects.count():,} conversations"
    )


def raw_insert_seconds() -> float:
    """Insert copies of the first 5,000 messages Padu stored, with their contacts and
    conversations, into empty tables shaped like Padu's (same indexes and constraints):
    per delivery, one multi-row INSERT a table and a commit, with plain psycopg."""
    with psycopg.connect(harness.database_url()) as raw:
        copies = []
        for model in (Contact, Conversation, Message):
            table = model._meta.db_table
            columns = [
                field.column for field in model._meta.concrete_fields if not field.primary_key
            ]
            rows = raw.execute(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY id LIMIT %s",  # noqa: S608
                [DELIVERIES * PER_DELIVERY],
            ).fetchall()
            raw.execute(f"CREATE TEMP TABLE copy_{table} (LIKE {table} INCLUDING ALL)")
            copies.append((f"copy_{table}", columns, rows))
        raw.commit()
        began = time.perf_counter()
        for start_at in range(0, DELIVERIES * PER_DELIVERY, PER_DELIVERY):
            for table, columns, rows in copies:
                chunk = rows[start_at : start_at + PER_DELIVERY]
                row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
                raw.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608
                    + ", ".join([row_sql] * len(chunk)),
                    [jsonb(value) for row in chunk for value in row],
                )
            raw.commit()
        return time.perf_counter() - began


def jsonb(value: object) -> object:
    return psycopg.types.json.Jsonb(value) if isinstance(value, dict | list) else value


# -- 3. growth --------------------------------------------------------------------------


def grow_messages_to(total: int, channel: Channel) -> None:
    """Add messages (from other customers, in other conversations) until the table holds
    `total` rows; filled in bulk by SQL, with statistics brought up to date."""
    missing = total - Message.objects.count()
    if missing <= 0:
        return
    contact, _ = Contact.objects.get_or_create(
        channel=channel,
        external_id="filler",
        defaults={"organization_id": channel.organization_id},
    )
    conversation, _ = Conversation.objects.get_or_create(
        contact=contact,
        kind="dm",
        defaults={"organization_id": channel.organization_id, "channel": channel},
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO inbox_message (organization_id, channel_id, conversation_id, direction,
                kind, external_id, text, attachments, reply_to_external_id, extra, reaction,
                status, error_reason, sent_at, is_deleted, created_at, media_pending, send_mode,
                idempotency_key)
            SELECT %s, %s, %s, 'in', 'message', 'wamid.filler.' || n || '.' || %s,
                'Eski bir mesaj ' || n, '[]', '', '{}', '', 'received', '',
                now() - make_interval(secs => n), false, now(), false, '', ''
            FROM generate_series(1, %s) AS n
            """,
            [channel.organization_id, channel.pk, conversation.pk, time.time_ns(), missing],
        )
        cursor.execute("VACUUM ANALYZE inbox_message")


def bench_growth(max_rows: int) -> None:
    channel = reset()
    worker = start_ready_worker()
    steps = sorted({0, *range(0, max_rows + 1, max(1, max_rows // 5))})
    figures = []
    try:
        ingest(store_deliveries(0))  # the customers become known
        for number, rows in enumerate(steps):
            grow_messages_to(rows, channel)
            first = (number + 1) * DELIVERIES * PER_DELIVERY
            seconds = ingest(store_deliveries(first))
            figures.append((Message.objects.count(), DELIVERIES * PER_DELIVERY / seconds))
    finally:
        harness.stop(worker)
    print(
        f"\n3. Growth: {DELIVERIES * PER_DELIVERY:,} messages from known customers as the "
        "messages table grows"
    )
    for rows, rate in figures:
        print(f"   {rows:>10,} rows: {rate:7,.0f} messages/s")
    rates = [rate for _, rate in figures]
    print(
        f"   slowest / fastest: {min(rates) / max(rates):.2f}; "
        f"median {statistics.median(rates):,.0f} messages/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["ack", "settings", "ingestion", "growth"])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-rows", type=int, default=5_000_000)
    options = parser.parse_args()
    print(f"Padu webhook benchmarks on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    if options.only in (None, "ack"):
        bench_ack(options.seconds, options.rounds)
    if options.only in (None, "settings"):
        bench_settings(options.seconds)
    if options.only in (None, "ingestion"):
        bench_ingestion()
    if options.only in (None, "growth"):
        bench_growth(options.max_rows)
    harness.database_drop()


if __name__ == "__main__":
    main()
