"""Benchmarks of the privacy promises' heavy work. It prints figures and asserts nothing.

    python bench/privacy.py [--keep] [--reuse] [--window 2]

BENCH_PRIVACY_SCALE (default 1) sizes the data: at 1, an organisation whose retention
policy has expired about 1,000,000 messages (110,000 conversations of about ten, 11 in
12 of them last active more than 400 days ago), one of about 100,000 messages to export
and one of about 10,000 beside them; 0.1 makes a quick run. The script creates a scratch
PostgreSQL database (BENCH_DATABASE_URL, default padu_bench_privacy on the local server),
fills it with SQL (bench/inbox_data.py) and drops it at the end (unless --keep; --reuse
measures a kept one again, which only makes sense before its purge). Padu runs with its
production settings. It measures:
1. the retention purge of the expired conversations (the service the nightly task
   calls), against one raw DELETE of the same messages rolled back; meanwhile wrk loads
   the purging organisation's inbox list from gunicorn (2 workers × 4 threads) on one
   connection in windows of a few seconds: the worst latency of each window, against
   the list and the smallest Django view measured before;
2. the export of the organisation of 100,000 messages and of the one of 10,000 (the
   code `export_data --org` and the export worker run): time, and the growth of the
   process's resident memory from before the export to its peak, against raw COPYs of
   the same tables as JSON into a ZIP;
3. the access log's INSERT, made once for every signed-in request, against a raw INSERT
   of the same row and the list page's own time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.production import environment  # noqa: E402

environment(database_name="padu_bench_privacy")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.urls import resolve, reverse  # noqa: E402

from accounts.models import AuditEvent, Organization, Role, User  # noqa: E402
from bench import harness, inbox_data  # noqa: E402
from inbox.models import Message  # noqa: E402
from privacy import exports  # noqa: E402
from privacy.models import AccessLogEntry, RetentionPolicy  # noqa: E402
from privacy.services.access_log import access_record  # noqa: E402
from privacy.services.retention import organization_retention_enforce  # noqa: E402

PORT = 8775
BASE = f"http://127.0.0.1:{PORT}"
PURGING = inbox_data.BIG_SLUG
EXPORTED = "bench-export"
SMALL = "bench-small"
KEPT_DAYS = 400
TARGETS = {"purge": 60.0, "latency": 250.0, "export": 30.0, "memory": 100.0}


def organizations(scale: float) -> list[inbox_data.Size]:
    return [
        inbox_data.Size(PURGING, 15, max(24, int(110_000 * scale)), 10),
        inbox_data.Size(EXPORTED, 5, max(10, int(10_000 * scale)), 10),
        inbox_data.Size(SMALL, 3, max(10, int(1_000 * scale)), 10),
    ]


def expire(organization: Organization) -> None:
    """11 in 12 of the organisation's conversations (not the long one) last active
    more than `KEPT_DAYS` ago, and a policy keeping conversations `KEPT_DAYS` days."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_conversation SET last_message_at = last_message_at - %s * interval "
            "'1 day', last_inbound_at = last_inbound_at - %s * interval '1 day' "
            "WHERE organization_id = %s AND id %% 12 <> 0 AND id <> (SELECT min(id) FROM "
            "inbox_conversation WHERE organization_id = %s)",
            [KEPT_DAYS, KEPT_DAYS, organization.pk, organization.pk],
        )
        cursor.execute("VACUUM ANALYZE inbox_conversation")
    RetentionPolicy.objects.update_or_create(
        organization=organization, defaults={"conversation_days": KEPT_DAYS}
    )


EXPIRED = (
    "FROM inbox_message WHERE conversation_id IN (SELECT id FROM inbox_conversation "
    "WHERE organization_id = %s AND last_message_at < now() - %s * interval '1 day')"
)


def counts() -> dict[str, int]:
    return dict(Message.objects.values_list("organization__slug").annotate(n=Count("pk")))


def raw_delete(organization: Organization) -> float:
    """Seconds for one DELETE of the expired messages, rolled back."""
    with psycopg.connect(harness.database_url()) as raw:
        began = time.monotonic()
        raw.execute("DELETE " + EXPIRED, [organization.pk, KEPT_DAYS])
        took = time.monotonic() - began
        raw.rollback()
    return took


class ListLoad(threading.Thread):
    """wrk on the list, one window after another, until told to stop."""

    def __init__(self, url: str, cookie: str, window: int) -> None:
        super().__init__(daemon=True)
        self.url, self.cookie, self.window = url, cookie, window
        self.loads: list[harness.Load] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.loads.append(self.measure(self.window))

    def measure(self, seconds: int) -> harness.Load:
        return harness.wrk(self.url, seconds=seconds, headers={"Cookie": self.cookie})


def session_cookie(organization: Organization) -> str:
    agent = User.objects.filter(
        memberships__organization=organization, memberships__role=Role.AGENT
    ).first()
    client = Client()
    client.force_login(agent)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def bench_purge(organization: Organization, window: int) -> float:
    print("\n1. Retention purge")
    expire(organization)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) " + EXPIRED, [organization.pk, KEPT_DAYS])
        (expired,) = cursor.fetchone()
    before = counts()
    print(f"   expired messages: {expired:,} of {before[organization.slug]:,}")
    print(f"   raw DELETE of them in one statement (rolled back): {raw_delete(organization):.2f} s")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = harness.start_gunicorn(port=PORT, env=env, ready_path="/bench/trivial/")
    try:
        cookie = session_cookie(organization)
        inbox = ListLoad(f"{BASE}{reverse('inbox', args=[organization.slug])}", cookie, window)
        inbox.measure(2)  # warm-up
        quiet = inbox.measure(5)
        trivial = ListLoad(f"{BASE}/bench/trivial/", cookie, window).measure(5)
        inbox.start()
        began = time.monotonic()
        erased = organization_retention_enforce(organization=organization)
        took = time.monotonic() - began
        inbox.done.set()
        inbox.join()
    finally:
        harness.stop(server)
    after = counts()
    others = all(after.get(slug) == n for slug, n in before.items() if slug != organization.slug)
    print(f"   Padu's purge: {took:.1f} s, {erased.get('messages', 0) / took:,.0f} messages/s")
    print(f"   erased: {erased}")
    print(
        f"   left: {after.get(organization.slug, 0):,} messages "
        f"(expected {before[organization.slug] - expired:,}); "
        f"other organisations untouched: {others}; "
        f"audit line: {AuditEvent.objects.filter(organization=organization).exists()}"
    )
    print(f"   {'list, quiet':34} {row(quiet)}")
    print(f"   {'smallest Django view, quiet':34} {row(trivial)}")
    during = inbox.loads
    worst = max(load.max for load in during)
    print(
        f"   list during the purge: {len(during)} windows of {window} s, "
        f"{sum(load.requests for load in during):,} requests, "
        f"p50 {statistics.median(load.p50 for load in during):.1f} ms (median of the windows), "
        f"p99 {max(load.p99 for load in during):.1f} ms (worst window), max {worst:.1f} ms, "
        f"failed {sum(load.failed for load in during)}"
    )
    print("   slowest answer of each window (ms): " + " ".join(f"{x.max:.0f}" for x in during))
    verdict("purge", took, "s")
    verdict("latency", worst, "ms")
    return quiet.p50


def row(load: harness.Load) -> str:
    return (
        f"{load.requests:6,} requests  p50 {load.p50:6.1f} ms  p99 {load.p99:6.1f} ms  "
        f"max {load.max:6.1f} ms  failed {load.failed}"
    )


def verdict(name: str, measured: float, unit: str) -> None:
    target = TARGETS[name]
    met = "met" if measured <= target else "NOT met"
    print(f"   → {name}: {measured:.1f} {unit} (target ≤ {target:.0f} {unit}: {met})")


def resident_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"/proc/self/status has no {field}")


def raw_export(organization: Organization, destination: Path) -> float:
    """Seconds to COPY the organisation's rows of the export's largest tables as JSON
    lines into a ZIP."""
    tables = ["inbox_contact", "inbox_conversation", "inbox_message"]
    began = time.monotonic()
    with (
        psycopg.connect(harness.database_url()) as raw,
        zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for table in tables:
            query = (
                f"COPY (SELECT row_to_json(t) FROM {table} t WHERE organization_id = "  # noqa: S608
                f"{organization.pk} ORDER BY id) TO STDOUT"
            )
            with archive.open(f"{table}.json", "w") as out, raw.cursor().copy(query) as copy:
                for block in copy:
                    out.write(block)
    return time.monotonic() - began


def bench_export(organization: Organization) -> None:
    messages = Message.objects.filter(organization=organization).count()
    print(f"\n   {organization.slug}: {messages:,} messages")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "export.zip"
        Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
        resident = resident_kb("VmRSS")
        began = time.monotonic()
        with path.open("wb") as out:
            manifest = exports.organization_export(organization, out)
        took = time.monotonic() - began
        growth = (resident_kb("VmHWM") - resident) / 1024
        size = path.stat().st_size / 2**20
        print(
            f"   Padu: {took:.1f} s for {sum(manifest['files'].values()):,} rows in "
            f"{len(manifest['files'])} files, {size:.1f} MB; resident memory "
            f"{resident / 1024:.0f} MB before, peak growth {growth:.1f} MB"
        )
        reference = raw_export(organization, Path(scratch) / "raw.zip")
        print(f"   raw COPY of contacts, conversations and messages as JSON: {reference:.2f} s")
    if organization.slug == EXPORTED:
        verdict("export", took, "s")
        verdict("memory", growth, "MB")


def bench_access_log(list_p50: float, rounds: int = 3000) -> None:
    print("\n3. Access log")
    user = User.objects.filter(memberships__role=Role.AGENT).first()
    request = RequestFactory().get("/o/bench-big/inbox/", HTTP_USER_AGENT="Mozilla/5.0 bench")
    request.user = user
    request.resolver_match = resolve(reverse("inbox", args=[PURGING]))
    response = Client().get("/bench/trivial/")
    began = time.perf_counter()
    for _ in range(rounds):
        access_record(request=request, response=response)
    padu = (time.perf_counter() - began) / rounds * 1000
    with psycopg.connect(harness.database_url(), autocommit=True) as raw:
        began = time.perf_counter()
        for _ in range(rounds):
            raw.execute(
                "INSERT INTO privacy_accesslogentry (user_id, organization_id, method, path, "
                "status, ip, user_agent, created_at) VALUES (%s, NULL, 'GET', %s, 200, "
                "'127.0.0.1', %s, now())",
                [user.pk, request.path, "Mozilla/5.0 bench"],
            )
        rawly = (time.perf_counter() - began) / rounds * 1000
    written = AccessLogEntry.objects.count()
    print(
        f"   Padu's entry: {padu:.2f} ms a request ({rounds:,} in a row; {written:,} rows); "
        f"raw INSERT from psycopg: {rawly:.2f} ms; the list page's p50: {list_p50:.1f} ms, "
        f"so the entry is {padu / list_p50:.0%} of it"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database")
    parser.add_argument("--window", type=int, default=2, help="seconds of each wrk window")
    options = parser.parse_args()
    scale = float(os.environ.get("BENCH_PRIVACY_SCALE", "1"))
    began = time.monotonic()
    print(f"Padu privacy benchmarks on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    try:
        if not options.reuse:
            print(f"\n0. Data (BENCH_PRIVACY_SCALE={scale:g})")
            harness.database_reset()
            inbox_data.fill(organizations(scale), long_count=100)
        redis.Redis.from_url(settings.REDIS_URL).flushdb()
        call_command("collectstatic", interactive=False, verbosity=0)
        list_p50 = bench_purge(Organization.objects.get(slug=PURGING), options.window)
        print("\n2. Export")
        for slug in (EXPORTED, SMALL):
            bench_export(Organization.objects.get(slug=slug))
        bench_access_log(list_p50)
    finally:
        if not options.keep:
            harness.database_drop()
    print(f"\nDone in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
