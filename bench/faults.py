"""Padu under faults (docs/benchmarks.md, section 8). It prints figures and exits 1 if a
delivery Padu acknowledged was lost or recorded twice.

    python bench/faults.py [--minutes 10] [--rate 100] [--burst 5000] [--redis-down 30]

A production-style deployment (gunicorn with the production image's settings, one
Celery worker with 2 processes, beat) on a scratch PostgreSQL database and a Redis
server of its own, fed by the Meta simulator: customers write at --rate events/s, a
quarter of Meta's entries come twice, and statuses of the business's replies (sent
through Padu, a few a second) come out of order. Meanwhile:
- the worker is SIGKILLed every minute, and started again at once;
- at a quarter of the run, Redis (broker and cache) stops for --redis-down seconds and
  comes back empty;
- at half, PostgreSQL restarts (--postgres-restart, a command; by default the local
  cluster's pg_ctlcluster);
- at three quarters, --burst events come within 5 seconds.
Then traffic stops, Meta's retries finish, the backlog drains, and the figures are
checked against every delivery that got a 200.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REDIS_PORT = 6391
os.environ["BENCH_REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"

from bench import production  # noqa: E402

SCRATCH = production.environment(database_name="padu_bench_faults")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402

from accounts.models import Membership, Organization, User  # noqa: E402
from bench import harness  # noqa: E402
from bench.inbox_live import meta_environment, serve  # noqa: E402
from channels_meta.models import Channel, WebhookEvent  # noqa: E402
from channels_meta.simulator.app import MetaSimulator  # noqa: E402
from channels_meta.simulator.state import SimulatorState  # noqa: E402
from channels_meta.simulator.traffic import Traffic  # noqa: E402
from channels_meta.simulator.webhooks import Delivery, WebhookSender, serialize  # noqa: E402
from inbox.models import Conversation, Message  # noqa: E402
from inbox.services.replies import reply_send  # noqa: E402

PORT = 8774
STATUS_ORDER = ["sent", "delivered", "read"]
# Deliveries count as drained when none stored this long ago still waits.
DRAINED_AFTER_SECONDS = 2


@dataclass
class AckSender(WebhookSender):
    """Meta's webhook sender that keeps each POST's answer and how long it took."""

    latencies: list[float] = field(default_factory=list)
    answers: Counter = field(default_factory=Counter)

    def send(self, delivery: Delivery) -> bool:
        if not delivery.body:
            delivery.body = serialize({"object": delivery.object_type, "entry": delivery.entries})
        began = time.perf_counter()
        acknowledged = super().send(delivery)
        self.latencies.append((time.perf_counter() - began) * 1000)
        self.answers["200" if acknowledged else "not 200"] += 1
        return acknowledged


class Processes:
    """Redis, gunicorn, the worker and beat, each startable and killable."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.redis = self.worker = self.beat = self.web = None

    def spawn(self, command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # killed as a group, pool processes included
        )

    def start_redis(self) -> None:
        self.redis = self.spawn(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", ""]
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=REDIS_PORT).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise SystemExit("redis-server did not start") from None
                time.sleep(0.1)

    def start_worker(self) -> None:
        celery = [sys.executable, "-m", "celery", "-A", "padu"]
        self.worker = self.spawn(
            [*celery, "worker", "--concurrency=2", "--without-gossip", "--without-mingle"]
        )

    def start_all(self) -> None:
        self.start_redis()
        self.web = harness.start_gunicorn(port=PORT, env=self.env, ready_path="/healthz")
        self.start_worker()
        self.beat = self.spawn(
            [sys.executable, "-m", "celery", "-A", "padu", "beat", "--schedule",
             str(SCRATCH / "beat-schedule")]
        )  # fmt: skip

    @staticmethod
    def kill(process: subprocess.Popen | None) -> None:
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in (self.beat, self.worker, self.redis):
            self.kill(process)
        if self.web is not None:
            harness.stop(self.web)

    def pids(self) -> dict[str, list[int]]:
        """The processes of each part, for their memory."""
        found: dict[str, list[int]] = {}
        for name, process in (("web", self.web), ("worker", self.worker), ("beat", self.beat)):
            if process is not None and process.poll() is None:
                found[name] = [process.pid, *children(process.pid)]
        return found


def children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in listed]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Watch:
    """Samples the backlog every second and memory every ten, on a connection of its
    own that outlives PostgreSQL's restart."""

    def __init__(self, processes: Processes) -> None:
        self.processes = processes
        self.backlog: list[tuple[float, int, int]] = []  # (time, pending, waiting too long)
        self.memory: dict[str, list[float]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        connection = None
        ticks = 0
        while not self.stop.wait(1):
            try:
                if connection is None or connection.closed:
                    connection = psycopg.connect(harness.database_url(), autocommit=True)
                pending, old = connection.execute(
                    "SELECT count(*), count(*) FILTER (WHERE received_at < now() - %s::interval)"
                    " FROM channels_meta_webhookevent WHERE status = 'pending'",
                    [f"{DRAINED_AFTER_SECONDS} seconds"],
                ).fetchone()
                self.backlog.append((time.monotonic(), pending, old))
            except psycopg.Error:
                connection = None
            ticks += 1
            if ticks % 10 == 0:
                for name, pids in self.processes.pids().items():
                    self.memory.setdefault(name, []).append(sum(map(rss_mb, pids)))

    def drained_after(self, moment: float) -> float | None:
        """Seconds from `moment` until nothing waited longer than it should."""
        for at, _pending, old in self.backlog:
            if at >= moment and old == 0:
                return at - moment
        return None


def seed(state: SimulatorState) -> Membership:
    organization = Organization.objects.create(name="Faults", slug="faults")
    owner = User.objects.create_user(email="owner@faults.example", password=None)
    membership = Membership.objects.create(user=owner, organization=organization, role="owner")
    described = state.describe()
    channels = [
        *(("messenger", page["id"], "") for page in described["pages"]),
        *(("instagram", account["id"], "") for account in described["instagram_accounts"]),
        *(("whatsapp", phone["id"], phone["waba_id"]) for phone in described["whatsapp_numbers"]),
    ]
    for kind, external_id, waba_id in channels:
        channel = Channel.objects.create(
            organization=organization, kind=kind, external_id=external_id, waba_id=waba_id,
            name=kind,
        )  # fmt: skip
        channel.set_token(state.system_token_for(external_id))
        channel.save(update_fields=["token_ciphertext"])
    return membership


def reply_now_and_then(membership: Membership, stop: threading.Event, sent: list[int]) -> None:
    """An agent answering WhatsApp customers through Padu, about four replies a second."""
    while not stop.wait(0.25):
        try:
            conversation = (
                Conversation.objects.filter(channel__kind="whatsapp", last_inbound_at__isnull=False)
                .order_by("?")
                .first()
            )
            if conversation is not None:
                reply = reply_send(membership=membership, conversation=conversation, text="Tamam!")
                sent.append(reply.pk)
        except Exception:  # PostgreSQL or Redis is down: the agent tries again later
            connections.close_all()


def burst(traffic: Traffic, events: int, seconds: float = 5.0) -> None:
    began = time.monotonic()
    for number in range(events):
        traffic.one_event()
        time.sleep(max(0.0, began + seconds * (number + 1) / events - time.monotonic()))


def postgres_restart_command() -> str:
    versions = sorted(Path("/etc/postgresql").glob("*/main"))
    if not versions:
        return ""
    version = versions[-1].parent.name
    return f"pg_ctlcluster --skip-systemctl-redirect {version} main restart -m fast"


# -- what Meta was told we have ------------------------------------------------------------


def acknowledged_contents(deliveries: list[Delivery]) -> tuple[set[str], dict[str, str]]:
    """The ids of customers' messages and comments in acknowledged deliveries, and the
    furthest status each WhatsApp message of the business reached in them."""
    messages: set[str] = set()
    furthest: dict[str, str] = {}
    for delivery in deliveries:
        for entry in json.loads(delivery.body)["entry"]:
            for item in entry.get("messaging", []):
                message = item.get("message", {})
                if message.get("mid") and not message.get("is_echo"):
                    messages.add(message["mid"])
            for change in entry.get("changes", []):
                value = change.get("value", {})
                if change.get("field") == "comments" and value.get("id"):
                    messages.add(value["id"])
                messages.update(message["id"] for message in value.get("messages", []))
                for status in value.get("statuses", []):
                    if status["status"] not in STATUS_ORDER:
                        continue
                    known = furthest.get(status["id"], "sent")
                    furthest[status["id"]] = max(known, status["status"], key=STATUS_ORDER.index)
    return messages, furthest


def check(sender: AckSender, replies: list[int]) -> dict[str, int]:
    stored_bodies = Counter(
        hashlib.sha256(bytes(body)).hexdigest()
        for body in WebhookEvent.objects.values_list("body", flat=True).iterator(chunk_size=2000)
    )
    acknowledged = Counter(hashlib.sha256(d.body).hexdigest() for d in sender.delivered)
    messages, furthest = acknowledged_contents(sender.delivered)
    found = Counter(
        Message.objects.filter(external_id__in=messages).values_list("external_id", flat=True)
    )
    statuses = dict(
        Message.objects.filter(pk__in=replies, external_id__in=furthest).values_list(
            "external_id", "status"
        )
    )
    return {
        "acknowledged deliveries not stored": sum(
            1 for digest in acknowledged if digest not in stored_bodies
        ),
        "customers' messages acknowledged": len(messages),
        "of them in the inbox": sum(1 for mid in messages if found[mid]),
        "lost": sum(1 for mid in messages if not found[mid]),
        "recorded twice": sum(1 for count in found.values() if count > 1),
        "replies with statuses": len(statuses),
        "replies short of their furthest status": sum(
            1 for mid, status in statuses.items() if status != furthest[mid]
        ),
    }


# -- the run -------------------------------------------------------------------------------


def run(options: argparse.Namespace) -> int:
    harness.database_reset()
    state = SimulatorState(
        app_id=settings.META_APP_ID, app_secret=settings.META_APP_SECRET, seed=11
    )
    state.seed_default()
    membership = seed(state)
    sender = AckSender(
        target_url=f"http://127.0.0.1:{PORT}/webhooks/meta/", app_secret=settings.META_APP_SECRET
    )
    sim = MetaSimulator(
        state, sender, public_url=meta_environment()["META_GRAPH_URL"],
        duplicate_rate=0.25, reorder_rate=0.5,
    )  # fmt: skip
    meta = serve(sim)
    connections.close_all()
    processes = Processes({**os.environ, **meta_environment()})
    processes.start_all()
    watch = Watch(processes)
    stop = threading.Event()
    replies: list[int] = []
    traffic = Traffic(sim, customers=2000, rate=options.rate)
    threads = [
        threading.Thread(target=sender.run_forever, args=(stop,)),
        threading.Thread(target=traffic.run, args=(stop,)),
        threading.Thread(target=reply_now_and_then, args=(membership, stop, replies)),
    ]
    faults: list[tuple[str, float]] = []
    seconds = options.minutes * 60
    began = time.monotonic()
    try:
        watch.thread.start()
        for thread in threads:
            thread.start()
        plan = sorted(
            [(minute * 60.0, "worker killed") for minute in range(1, options.minutes + 1)]
            + [(seconds * 0.25, "Redis stopped"), (seconds * 0.5, "PostgreSQL restarted"),
               (seconds * 0.75, f"burst of {options.burst:,} events")]
        )  # fmt: skip
        for at, fault in plan:
            time.sleep(max(0.0, began + at - time.monotonic()))
            if time.monotonic() - began >= seconds:
                break
            print(f"   {time.monotonic() - began:6.1f} s  {fault}", flush=True)
            if fault == "worker killed":
                processes.kill(processes.worker)
                processes.start_worker()
            elif fault == "Redis stopped":
                processes.kill(processes.redis)
                time.sleep(options.redis_down)
                processes.start_redis()
            elif fault == "PostgreSQL restarted":
                if options.postgres_restart:
                    subprocess.run(shlex.split(options.postgres_restart), check=True)  # noqa: S603
            else:
                burst(traffic, options.burst)
            faults.append((fault, time.monotonic()))
        time.sleep(max(0.0, began + seconds - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join()
        sender.flush_all(timeout=300)
        ended = time.monotonic()
        deadline = ended + 600
        while watch.drained_after(ended) is None and time.monotonic() < deadline:
            time.sleep(1)
        # Statuses of the last replies come a moment after their sends.
        time.sleep(5)
        sender.flush_all(timeout=60)
        drain_deadline = time.monotonic() + 300
        while WebhookEvent.objects.filter(status="pending").exists():
            if time.monotonic() > drain_deadline:
                break
            time.sleep(1)
    finally:
        stop.set()
        watch.stop.set()
        processes.stop_all()
        meta.shutdown()
        meta.server_close()
    return report(options, sender, watch, faults, ended, replies)


def report(options, sender, watch, faults, ended, replies) -> int:
    figures = check(sender, replies)
    latencies = sorted(sender.latencies)
    print(
        f"\nFaults: {options.minutes} min at {options.rate:g} events/s, 25 % duplicates, "
        f"statuses out of order, a {options.burst:,}-event burst"
    )
    print(
        f"   deliveries posted {len(latencies):,} (answers: {dict(sender.answers)}), "
        f"acknowledged {len(sender.delivered):,}, given up {len(sender.failed)}, "
        f"stored {WebhookEvent.objects.count():,}"
    )
    for name, value in figures.items():
        print(f"   {name}: {value:,}")
    print(
        f"   ack latency: p50 {harness.percentile(latencies, 0.5):.1f} ms, "
        f"p99 {harness.percentile(latencies, 0.99):.1f} ms, worst {latencies[-1]:.0f} ms"
    )
    print(f"   max backlog: {max(pending for _, pending, _ in watch.backlog):,} deliveries")
    for fault, at in [*faults, ("end of traffic", ended)]:
        drained = watch.drained_after(at)
        shown = f"{drained:.0f} s" if drained is not None else "not drained"
        print(f"   drained after {fault}: {shown}")
    for name, samples in watch.memory.items():
        print(
            f"   memory of {name}: first {samples[0]:.0f} MB, last {samples[-1]:.0f} MB, "
            f"highest {max(samples):.0f} MB"
        )
    lost = figures["lost"] + figures["acknowledged deliveries not stored"]
    return 1 if lost or figures["recorded twice"] else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--redis-down", type=float, default=30)
    parser.add_argument("--postgres-restart", default=postgres_restart_command())
    options = parser.parse_args()
    print(f"Padu under faults on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    status = run(options)
    harness.database_drop()
    sys.exit(status)


if __name__ == "__main__":
    main()
