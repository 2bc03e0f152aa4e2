"""Benchmarks of the REST API and of event forwarding. It prints figures and asserts nothing.

    python bench/api.py [--only list|forwarding|delay] [--seconds 5] [--events 20000]
                        [--rate 100] [--probes 300] [--keep] [--reuse]

BENCH_INBOX_SCALE (default 1) sizes the data as for bench/inbox.py: at 1, one
organisation with 100,000 conversations and about a million messages, among 20 smaller
ones, in a scratch PostgreSQL database (BENCH_DATABASE_URL, default padu_bench_api),
dropped at the end unless --keep. Padu runs with its production settings throughout,
except that forwarding may reach this machine over http (bench/settings.py). It measures:
1. the API's lists as a client gets them from gunicorn (2 workers × 4 threads), wrk on one
   connection with an API key, after a warm-up, against the smallest Django view under the
   same server in the same run; and the queries of each;
2. forwarding throughput: --events message.created events recorded while no worker runs,
   then delivered by one Celery worker process to a receiver on this machine (gunicorn,
   bench/receiver.py), against one client posting the same signed body to that receiver
   one request after another, as fast as it can, in the same run;
3. end to end: the Meta simulator sending customers' messages at --rate events/s to
   gunicorn and a Celery worker (2 processes) with an endpoint receiving message.created;
   the time from the simulator's POST of a probe message to the receiver having it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.production import environment  # noqa: E402

environment(database_name="padu_bench_api")
os.environ.update(BENCH_LOCAL_RECEIVER="1", API_KEY_RATE_LIMIT="1000000000")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.api_keys import api_key_create  # noqa: E402
from accounts.models import Membership, Role  # noqa: E402
from bench import harness, inbox_data, inbox_live  # noqa: E402
from channels_meta.models import WebhookEvent  # noqa: E402
from channels_meta.simulator.app import MetaSimulator  # noqa: E402
from channels_meta.simulator.traffic import Traffic  # noqa: E402
from inbox.forwarding import signing  # noqa: E402
from inbox.models import (  # noqa: E402
    DeliveryStatus,
    EventDelivery,
    Message,
    OutboxEvent,
    WebhookEndpoint,
)
from inbox.services import endpoints, outbox  # noqa: E402
from inbox.services.forwarding import event_body  # noqa: E402

PORT = 8778
RECEIVER_PORT = 8779
BASE = f"http://127.0.0.1:{PORT}"
RECEIVER = f"http://127.0.0.1:{RECEIVER_PORT}/events"
LIST_TARGET_MS = 100.0


def manager(data: inbox_data.Dataset) -> Membership:
    return Membership.objects.get(organization=data.organization, role=Role.OWNER)


def start_receiver(log: Path) -> harness.subprocess.Popen:
    env = {**os.environ, "BENCH_RECEIVER_LOG": str(log)}
    command = [sys.executable, "-m", "gunicorn", "bench.receiver:app", "--workers", "1"]
    process = harness.start(
        [*command, "--bind", f"127.0.0.1:{RECEIVER_PORT}", "--log-level", "warning"], env=env
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(RECEIVER, content=b"{}")
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    harness.stop(process)
    raise SystemExit("the receiver did not start")


def arrivals(log: Path) -> list[tuple[float, str, int | None]]:
    """(time, event type, probe number) of each request the receiver had."""
    rows = []
    for line in log.read_text().splitlines():
        at, kind, probe = line.split()
        rows.append((float(at), kind, None if probe == "-" else int(probe)))
    return rows


# 1. The API's lists.


def list_cases(data: inbox_data.Dataset) -> list[tuple[str, str]]:
    api = f"/api/v1/o/{data.organization.slug}"
    at, pk = data.deep_cursor
    filtered = urlencode(
        {
            "status": "open",
            "channel": data.channels["whatsapp"].pk,
            "label": data.labels["VIP"].pk,
            "unread": "true",
        }
    )
    return [
        ("conversations, default (all)", f"{api}/conversations/"),
        ("conversations, open + channel + label + unread", f"{api}/conversations/?{filtered}"),
        (
            f"conversations, search name “{inbox_data.NAME_FRAGMENT}”",
            f"{api}/conversations/?{urlencode({'q': inbox_data.NAME_FRAGMENT})}",
        ),
        (
            f"conversations, search word “{inbox_data.SEARCH_WORD}”",
            f"{api}/conversations/?{urlencode({'q': inbox_data.SEARCH_WORD})}",
        ),
        (
            "conversations, later page (keyset, 90% deep)",
            f"{api}/conversations/?{urlencode({'after': f'{at.isoformat()}~{pk}'})}",
        ),
        ("one conversation", f"{api}/conversations/{data.conversation_id}/"),
        ("messages of a conversation", f"{api}/conversations/{data.conversation_id}/messages/"),
        (
            "messages of the 50,000-message conversation",
            f"{api}/conversations/{data.long_conversation_id}/messages/",
        ),
        ("reference: smallest Django view", "/bench/trivial/"),
    ]


def bench_lists(data: inbox_data.Dataset, seconds: int) -> None:
    _row, key = api_key_create(membership=manager(data), name="bench", scope="read")
    headers = {"Authorization": f"Bearer {key}"}
    client = Client(HTTP_AUTHORIZATION=headers["Authorization"])
    print(
        f"\n1. The API from gunicorn (2 workers × 4 threads, production settings), wrk on one "
        f"connection for {seconds} s each after a warm-up, with a read key of "
        f"{data.organization.name}: {data.counts}"
    )
    print(f"   {'request':52} {'p50':>8} {'p95':>8} {'p99':>8} {'req/s':>6} {'queries':>8}")
    connections.close_all()
    server = harness.start_gunicorn(port=PORT, env=dict(os.environ), ready_path="/bench/trivial/")
    results = []
    try:
        for name, path in list_cases(data):
            for _ in range(5):
                response = httpx.get(f"{BASE}{path}", headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")
            load = harness.wrk(f"{BASE}{path}", seconds=seconds, headers=headers)
            if load.failed:
                raise SystemExit(f"{path}: {load.failed} requests failed under wrk")
            with CaptureQueriesContext(connection) as captured:
                client.get(path)
            results.append((name, load))
            print(
                f"   {name:52} {load.p50:6.1f}ms {load.p95:6.1f}ms {load.p99:6.1f}ms "
                f"{load.per_second:6.0f} {len(captured.captured_queries):8}",
                flush=True,
            )
    finally:
        harness.stop(server)
    reference = results[-1][1]
    print("\n   Against the target (p95 ≤ 100 ms) and the smallest view (its p50 over theirs):")
    for name, load in results[:-1]:
        met = "met" if load.p95 <= LIST_TARGET_MS else "NOT met"
        print(f"   - {name}: p95 {load.p95:.1f} ms ({met}); {reference.p50 / load.p50:.2f}")


# 2. Forwarding throughput.


def endpoint_fresh(data: inbox_data.Dataset) -> tuple[WebhookEndpoint, str]:
    """The only endpoint: the local receiver, wanting message.created."""
    OutboxEvent.objects.all().delete()
    WebhookEndpoint.objects.all().delete()
    return endpoints.endpoint_create(
        membership=manager(data), url=RECEIVER, events=["message.created"]
    )


def sequential_reference(secret: str, seconds: float) -> float:
    """Requests/s of one client posting a signed event body to the receiver, one after
    another: the most a sequential sender can get out of this receiver here."""
    body = event_body(OutboxEvent.objects.first())
    sent = 0
    with httpx.Client() as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            headers = {signing.SIGNATURE_HEADER: signing.signature_header(secret, body)}
            client.post(RECEIVER, content=body, headers=headers)
            sent += 1
    return sent / seconds


def bench_forwarding(data: inbox_data.Dataset, events: int, seconds: int) -> None:
    endpoint, secret = endpoint_fresh(data)
    message_ids = list(
        Message.objects.filter(organization=data.organization)
        .order_by("-pk")
        .values_list("pk", flat=True)[:events]
    )
    began = time.monotonic()
    for start in range(0, len(message_ids), 1000):
        outbox.messages_forward(
            organization_id=data.organization.pk, message_ids=message_ids[start : start + 1000]
        )
    recorded = time.monotonic() - began
    total = EventDelivery.objects.filter(endpoint=endpoint).count()
    print(
        f"\n2. Forwarding: {total:,} message.created events recorded in {recorded:.1f} s "
        f"({total / recorded:,.0f}/s, 1,000 a transaction) while no worker ran; then one Celery "
        "worker process delivering them to the receiver (gunicorn, 1 sync worker, on this "
        "machine, over http)"
    )
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "received"
        receiver = start_receiver(log)
        connections.close_all()
        worker = harness.start(
            [
                sys.executable, "-m", "celery", "-A", "padu", "worker", "--concurrency=1",
                "--without-gossip", "--without-mingle", "--loglevel=WARNING",
            ],
            env=dict(os.environ),
        )  # fmt: skip
        try:
            pending = EventDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING)
            deadline = time.monotonic() + 600
            while pending.exists() and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            harness.stop(worker)
        delivered = [at for at, kind, _probe in arrivals(log) if kind == "message.created"]
        reference = sequential_reference(secret, seconds)
        harness.stop(receiver)
    left = EventDelivery.objects.filter(endpoint=endpoint).exclude(status="delivered").count()
    spread = max(delivered) - min(delivered)
    rate = len(delivered) / spread if spread else 0.0
    print(
        f"   delivered {len(delivered):,} in {spread:.1f} s from the first to the last: "
        f"**{rate:,.0f} events/s**; not delivered {left}; requests received "
        f"{len(delivered):,} (duplicates {len(delivered) - total + left})"
    )
    print(
        f"   reference, one client posting one after another to the same receiver for "
        f"{seconds} s: {reference:,.0f} requests/s; ratio {rate / reference:.2f}"
    )
    print(f"   target ≥ 500 events/s: {'met' if rate >= 500 else 'NOT met'}")


# 3. End to end.


def bench_delay(data: inbox_data.Dataset, *, rate: float, probes: int) -> None:
    endpoint_fresh(data)
    state = inbox_live.simulator_state()
    sender = inbox_live.TimedSender(
        target_url=f"{BASE}/webhooks/meta/", app_secret=settings.META_APP_SECRET
    )
    sim = MetaSimulator(state, sender, public_url=f"http://127.0.0.1:{inbox_live.SIMULATOR_PORT}")
    meta = inbox_live.serve(sim)
    inbox_live.tokens_from(state, data)
    env = {**os.environ, **inbox_live.meta_environment()}
    WebhookEvent.objects.all().delete()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "received"
        receiver = start_receiver(log)
        connections.close_all()
        server = harness.start_gunicorn(port=PORT, env=env, ready_path="/healthz")
        worker = harness.start_worker(env=env)
        threads = [
            threading.Thread(target=sender.run_forever, args=(stop,)),
            threading.Thread(target=Traffic(sim, customers=200, rate=rate).run, args=(stop,)),
        ]
        try:
            for thread in threads:
                thread.start()
            time.sleep(5)  # the traffic settles in
            for number in range(1, probes + 1):
                inbox_live.probe(sim, sender.probes, number)
                time.sleep(1 / 3)
            wait_for_probes(log, probes)
            received = arrivals(log)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            harness.stop(worker)
            harness.stop(server)
            harness.stop(receiver)
            meta.shutdown()
            meta.server_close()
    stored = {
        sender.probes.number(text): created.timestamp()
        for text, created in inbox_live.probes_recorded(data, sender.probes).values_list(
            "text", "created_at"
        )
    }
    report_delay(received, stored, sender, rate=rate, probes=probes)


def wait_for_probes(log: Path, probes: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sum(probe is not None for _at, _kind, probe in arrivals(log)) >= probes:
            return
        time.sleep(0.5)


def _between(later: dict[int, float], earlier: dict[int, float], probes: int) -> list[float]:
    return [
        (later[n] - earlier[n]) * 1000 for n in range(1, probes + 1) if n in later and n in earlier
    ]


def report_delay(
    received: list, stored: dict[int, float], sender, *, rate: float, probes: int
) -> None:
    arrived: dict[int, float] = {}
    for at, _kind, probe in received:
        if probe is not None:
            arrived.setdefault(probe, at)
    delays = _between(arrived, sender.posted, probes)
    messages = sum(kind == "message.created" for _at, kind, _probe in received)
    print(
        f"\n3. End to end: the simulator at {rate:.0f} events/s to gunicorn (2 × 4) and a Celery "
        f"worker of 2 processes; an endpoint wanting message.created on this machine; "
        f"{probes} probe messages, 3 a second"
    )
    if not delays:
        print("   no probe reached the receiver")
        return
    p99 = harness.percentile(delays, 0.99)
    print(
        f"   simulator POST → receiver has it: p50 {statistics.median(delays):.0f} ms, "
        f"p99 {p99:.0f} ms, max {max(delays):.0f} ms (n={len(delays)} of {probes}); "
        f"message.created received in all: {messages:,}"
    )
    for name, values in (
        ("simulator POST → message row inserted", _between(stored, sender.posted, probes)),
        ("message row inserted → receiver has it", _between(arrived, stored, probes)),
    ):
        print(inbox_live.summary(name, values))
    print(f"   target p99 ≤ 2 s: {'met' if p99 <= 2000 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["list", "forwarding", "delay"])
    parser.add_argument("--seconds", type=int, default=5, help="wrk's time on each request")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database")
    options = parser.parse_args()
    began = time.monotonic()
    print(f"Padu API and forwarding benchmarks on {os.cpu_count()} CPUs")
    try:
        data = inbox_data.prepared(reuse=options.reuse)
        redis.Redis.from_url(settings.REDIS_URL).flushdb()
        if options.only in (None, "list"):
            bench_lists(data, options.seconds)
        if options.only in (None, "forwarding"):
            bench_forwarding(data, options.events, options.seconds)
        if options.only in (None, "delay"):
            bench_delay(data, rate=options.rate, probes=options.probes)
    finally:
        if not options.keep:
            harness.database_drop()
    print(f"\nDone in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
