"""Benchmarks of Meta's webhook path. It prints figures and asserts nothing.

    python bench/webhooks.py [--seconds 10] [--messages 100000] [--batch 10]

It uses a scratch PostgreSQL database (BENCH_DATABASE_URL, default padu_bench on the
local server) and Redis database 14, starts gunicorn (2 workers) and a Celery worker,
and measures:
1. the ack path: the webhook endpoint against a trivial view, on the same server;
2. processing: stored message events recorded by one worker, against raw multi-row
   INSERTs of the same rows;
3. freshness: with the Meta simulator sending 100 events/s, the delay from
   acknowledgement to the event's rows being committed.
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/padu_bench"
)
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["META_APP_ID"] = "4242"
os.environ["META_APP_SECRET"] = "bench-app-secret"  # noqa: S105
os.environ["LOG_LEVEL"] = "WARNING"

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402

from accounts.models import Organization  # noqa: E402
from bench import harness  # noqa: E402
from channels_meta import tasks  # noqa: E402
from channels_meta.models import Channel, WebhookEvent  # noqa: E402
from channels_meta.simulator.app import MetaSimulator  # noqa: E402
from channels_meta.simulator.state import SimulatorState  # noqa: E402
from channels_meta.simulator.traffic import Traffic  # noqa: E402
from channels_meta.simulator.webhooks import WebhookSender, serialize, sign  # noqa: E402
from inbox.models import Contact, Conversation, Message  # noqa: E402

PORT = 8771
PAGE_ID = "1067000000000001"


def reset_database() -> None:
    harness.database_reset()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def seed(state: SimulatorState | None = None) -> Organization:
    organization = Organization.objects.create(name="Bench", slug="bench")
    channels = [("messenger", PAGE_ID, "")]
    if state is not None:
        described = state.describe()
        channels = [
            *(("messenger", page["id"], "") for page in described["pages"]),
            *(("instagram", account["id"], "") for account in described["instagram_accounts"]),
            *(("whatsapp", n["id"], n["waba_id"]) for n in described["whatsapp_numbers"]),
        ]
    for kind, external_id, waba_id in channels:
        channel = Channel.objects.create(
            organization=organization,
            kind=kind,
            external_id=external_id,
            waba_id=waba_id,
            name=kind,
        )
        channel.set_token("EAAGbench-token-000000000000")
        channel.save(update_fields=["token_ciphertext"])
    return organization


def padu_env() -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": harness.database_url()}


def start_gunicorn() -> subprocess.Popen:
    return harness.start_gunicorn(port=PORT, env=padu_env(), ready_path="/bench/trivial/")


def start_worker() -> subprocess.Popen:
    return harness.start_worker(env=padu_env())


def message_payload(number: int, batch: int = 1) -> dict:
    items = [
        {
            "sender": {"id": f"psid-{(number + i) % 5000}"},
            "recipient": {"id": PAGE_ID},
            "timestamp": 1_700_000_000_000 + number + i,
            "message": {"mid": f"m_bench_{number + i}", "text": f"Merhaba, sipariş {number + i}"},
        }
        for i in range(batch)
    ]
    return {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": 1_700_000_000_000, "messaging": items}],
    }


def drive(url: str, bodies, *, seconds: float, rate: float | None, clients: int = 16) -> dict:
    """Send requests for `seconds`: at a fixed `rate` (open loop), or as fast as `clients`
    threads can (closed loop). Returns requests/s and latency percentiles in ms."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    work: queue.Queue = queue.Queue()

    def worker() -> None:
        with httpx.Client(timeout=10) as client:
            while True:
                item = work.get() if rate else (None if time.monotonic() > deadline else True)
                if item is None:
                    return
                body, headers = next(bodies)
                started = time.perf_counter()
                try:
                    ok = client.post(url, content=body, headers=headers).status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed * 1000)
                    errors[0] += not ok

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    if rate:
        sent = 0
        while time.monotonic() < deadline:
            target = began + sent / rate
            time.sleep(max(0.0, target - time.monotonic()))
            work.put(True)
            sent += 1
        for _ in threads:
            work.put(None)
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    return {
        "rps": len(latencies) / elapsed,
        "p50": harness.percentile(latencies, 0.5),
        "p99": harness.percentile(latencies, 0.99),
        "errors": errors[0],
        "count": len(latencies),
    }


def signed_bodies(start_at: int):
    number = start_at
    while True:
        body = serialize(message_payload(number))
        number += 1
        yield (
            body,
            {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(body, settings.META_APP_SECRET),
            },
        )


def trivial_bodies():
    while True:
        yield b"{}", {"Content-Type": "application/json"}


def bench_ack(seconds: float) -> None:
    reset_database()
    seed()
    server = start_gunicorn()
    try:
        webhook = f"http://127.0.0.1:{PORT}/webhooks/meta/"
        trivial = f"http://127.0.0.1:{PORT}/bench/trivial/"
        drive(trivial, trivial_bodies(), seconds=2, rate=None)  # warm up
        results = {
            "trivial, max": drive(trivial, trivial_bodies(), seconds=seconds, rate=None),
            "webhook, max": drive(webhook, signed_bodies(0), seconds=seconds, rate=None),
            "trivial, 200/s": drive(trivial, trivial_bodies(), seconds=seconds, rate=200),
            "webhook, 200/s": drive(webhook, signed_bodies(10**7), seconds=seconds, rate=200),
        }
    finally:
        harness.stop(server)
    print("\n1. Ack path (gunicorn, 2 workers, PostgreSQL; load generator on loopback)")
    for name, r in results.items():
        print(
            f"   {name:15} {r['rps']:8.0f} req/s   p50 {r['p50']:6.1f} ms   "
            f"p99 {r['p99']:6.1f} ms   errors {r['errors']}"
        )
    ratio = results["webhook, max"]["rps"] / results["trivial, max"]["rps"]
    print(f"   ratio webhook/trivial at full load: {ratio:.2f}")
    print(f"   stored events: {WebhookEvent.objects.count()}")


def bench_processing(messages: int, batch: int) -> None:
    reset_database()
    seed()
    events = [
        WebhookEvent(body=serialize(message_payload(n, batch))) for n in range(0, messages, batch)
    ]
    WebhookEvent.objects.bulk_create(events, batch_size=2000)
    ids = list(WebhookEvent.objects.values_list("pk", flat=True))
    # As the endpoint hands them over under load: a task per few dozen deliveries.
    for start_at in range(0, len(ids), 50):
        tasks.webhook_events_process.delay(ids[start_at : start_at + 50])
    worker = start_worker()
    began = time.monotonic()
    try:
        while WebhookEvent.objects.filter(status="pending").exists():
            time.sleep(0.5)
        elapsed = time.monotonic() - began
    finally:
        harness.stop(worker)
    stored = Message.objects.count()
    padu_rate = stored / elapsed
    baseline = raw_insert_seconds()
    print(
        f"\n2. Processing ({messages} messages in {len(ids)} events of {batch}; "
        "one worker, 2 processes; Redis; PostgreSQL)"
    )
    print(f"   Padu:     {stored} messages in {elapsed:.1f} s = {padu_rate:,.0f} messages/s")
    print(
        f"   baseline: the same contacts, conversations and messages by raw multi-row "
        f"INSERTs in {baseline:.1f} s = {stored / baseline:,.0f} messages/s"
    )
    print(f"   ratio Padu/baseline: {baseline / elapsed:.2f}")


def raw_insert_seconds() -> float:
    """Insert copies of the rows Padu made, 1000 per statement, with plain psycopg."""
    tables = [
        (
            Contact,
            [
                "organization_id",
                "channel_id",
                "external_id",
                "name",
                "username",
                "phone",
                "profile_picture_url",
                "created_at",
                "updated_at",
            ],
        ),
        (
            Conversation,
            [
                "organization_id",
                "channel_id",
                "contact_id",
                "kind",
                "status",
                "media_id",
                "comment_id",
                "last_message_at",
                "last_inbound_at",
                "unread_count",
                "created_at",
            ],
        ),
        (
            Message,
            [
                "organization_id",
                "channel_id",
                "conversation_id",
                "direction",
                "external_id",
                "text",
                "attachments",
                "reply_to_external_id",
                "extra",
                "reaction",
                "status",
                "error_reason",
                "sent_at",
                "is_deleted",
                "created_at",
            ],
        ),
    ]
    with psycopg.connect(harness.database_url()) as connection:
        copies = []
        for model, columns in tables:
            table = model._meta.db_table
            rows = connection.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()  # noqa: S608
            connection.execute(f"CREATE TEMP TABLE copy_{table} (LIKE {table} INCLUDING ALL)")
            copies.append((f"copy_{table}", columns, rows))
        began = time.perf_counter()
        for table, columns, rows in copies:
            for start_at in range(0, len(rows), 1000):
                chunk = rows[start_at : start_at + 1000]
                placeholders = ", ".join(
                    ["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(chunk)
                )
                values = [
                    psycopg.types.json.Jsonb(v) if isinstance(v, (dict, list)) else v
                    for row in chunk
                    for v in row
                ]
                connection.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES {placeholders}",  # noqa: S608
                    values,
                )
                connection.commit()
        return time.perf_counter() - began


def bench_freshness(seconds: float) -> None:
    reset_database()
    state = SimulatorState(app_id=settings.META_APP_ID, app_secret=settings.META_APP_SECRET, seed=5)
    state.seed_default()
    seed(state)
    server, worker = start_gunicorn(), start_worker()
    sender = WebhookSender(
        target_url=f"http://127.0.0.1:{PORT}/webhooks/meta/", app_secret=settings.META_APP_SECRET
    )
    sim = MetaSimulator(state, sender)
    traffic = Traffic(sim, customers=200, rate=100)
    stop_event = threading.Event()
    delivery = threading.Thread(target=sender.run_forever, args=(stop_event,))
    delivery.start()
    try:
        sent = traffic.run(stop_event, limit=int(100 * seconds))
        sender.flush_all()
        stop_event.set()
        delivery.join()
        deadline = time.monotonic() + 60
        while WebhookEvent.objects.filter(status="pending").exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        harness.stop(worker)
        harness.stop(server)
    delays = [
        (event.processed_at - event.received_at).total_seconds() * 1000
        for event in WebhookEvent.objects.exclude(processed_at=None)
    ]
    print(
        f"\n3. Freshness (simulator at 100 events/s for {seconds:.0f} s: {sent} events "
        f"in {WebhookEvent.objects.count()} deliveries)"
    )
    print(
        f"   ack to committed: p50 {harness.percentile(delays, 0.5):.0f} ms, "
        f"p99 {harness.percentile(delays, 0.99):.0f} ms, max {max(delays):.0f} ms"
    )
    print(
        f"   inbound messages stored: {Message.objects.filter(direction='in').count()} "
        f"of {len(state.inbound_log)} sent"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--only", choices=["ack", "processing", "freshness"])
    options = parser.parse_args()
    print(f"Padu webhook benchmarks on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    if options.only in (None, "ack"):
        bench_ack(options.seconds)
    if options.only in (None, "processing"):
        bench_processing(options.messages, options.batch)
    if options.only in (None, "freshness"):
        bench_freshness(options.seconds * 3)


if __name__ == "__main__":
    main()
