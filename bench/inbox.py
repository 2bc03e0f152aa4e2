"""Benchmarks of the inbox on a large organisation. It prints figures and asserts nothing.

    python bench/inbox.py [--only pages|live] [--seconds 5] [--probes 300] [--rate 100 ...]

BENCH_INBOX_SCALE (default 1) sizes the data: at 1, one organisation with 100,000
conversations and about 1,000,000 messages plus a conversation of 50,000 messages, among
20 organisations of 2,000–10,000 conversations; 0.1 makes a quick run. The script
creates a scratch PostgreSQL database (BENCH_DATABASE_URL, default padu_bench_inbox on the
local server), fills it with SQL, and drops it at the end (unless --keep; --reuse
measures a kept one again). Padu runs with its production settings throughout. It
measures:
1. the time of the inbox's pages as a browser gets them from gunicorn with the
   production settings (2 workers × 4 threads): wrk on one connection, p50/p95/p99 after
   a warm-up, and the queries each page makes, against the smallest Django view under
   the same server and a raw `SELECT 1` in the same run; with EXPLAIN ANALYZE of each
   page's slowest query;
2. the live path end to end: the Meta simulator sending customer webhooks at 100
   events/s (then at 5, to see the path when the worker is not the bottleneck) to
   gunicorn and a Celery worker (Redis: BENCH_REDIS_URL, default database 14), a
   conversation open in headless Chromium, and the time from the simulator's POST of a
   probe message to the message appearing in the page's DOM.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.production import environment  # noqa: E402

environment(database_name="padu_bench_inbox")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench import harness, inbox_data  # noqa: E402
from bench.inbox_live import measure_live  # noqa: E402
from inbox import live  # noqa: E402

TARGETS = {"list": 100.0, "conversation": 50.0, "long conversation": 100.0}
QUERY_TARGET = 10
PORT = 8774
BASE = f"http://127.0.0.1:{PORT}"
SCAN = re.compile(
    r"(Seq Scan on \w+|Parallel Seq Scan on \w+|Index Only Scan(?: Backward)? using \w+"
    r"|Index Scan(?: Backward)? using \w+|Bitmap Index Scan on \w+)"
)


@dataclass
class Case:
    name: str
    group: str  # list | conversation | long conversation | live | reference
    path: str = ""
    rows: int | None = None
    load: harness.Load | None = None
    stale: bool = False  # a live poll from a page that has not seen the latest change
    changing: bool = False  # the inbox changes 20 times a second while it is measured
    sqls: list[str] = field(default_factory=list)
    # Each SELECT of the page run again alone (the fastest of three): the sum, the slowest.
    database_ms: float = 0.0
    slowest_ms: float = 0.0
    slowest_sql: str = ""

    @property
    def queries(self) -> int:
        return len(self.sqls)


def cases(data: inbox_data.Dataset) -> list[Case]:
    slug = data.organization.slug
    inbox = reverse("inbox", args=[slug])
    conversation = reverse("conversation", args=[slug, data.conversation_id])
    long = reverse("conversation", args=[slug, data.long_conversation_id])
    at, pk = data.deep_cursor
    deep = urlencode({"after": f"{at.isoformat()}~{pk}", "pane": "more"})
    filtered = urlencode(
        {"channel": data.channels["whatsapp"].pk, "label": data.labels["VIP"].pk, "unread": "on"}
    )
    return [
        Case("list, default (open, all)", "list", inbox),
        Case("list, refreshed by live (pane=list)", "list", f"{inbox}?pane=list"),
        Case("list, while the inbox changes 20 times a second", "list", inbox, changing=True),
        Case("list, channel + label + unread", "list", f"{inbox}?{filtered}"),
        Case(f"list, search name “{inbox_data.NAME_FRAGMENT}”", "list",
             f"{inbox}?{urlencode({'q': inbox_data.NAME_FRAGMENT})}"),
        Case(f"list, search phone “{data.phone_fragment}”", "list",
             f"{inbox}?{urlencode({'q': data.phone_fragment})}"),
        Case(f"list, search word “{inbox_data.SEARCH_WORD}”", "list",
             f"{inbox}?{urlencode({'q': inbox_data.SEARCH_WORD})}"),
        Case("list, later page (keyset, 90% deep)", "list", f"{inbox}?{deep}"),
        Case("conversation page (with the list)", "conversation", conversation),
        Case("conversation opened from the list (pane=conversation)", "conversation",
             f"{conversation}?pane=conversation"),
        Case("conversation refreshed by live (pane=timeline)", "conversation",
             f"{conversation}?pane=timeline"),
        Case("50,000-message conversation page", "long conversation", long),
        Case("50,000-message conversation, pane=timeline", "long conversation",
             f"{long}?pane=timeline"),
        Case("live poll, nothing changed", "live", reverse("inbox_live", args=[slug])),
        Case("live poll, something changed", "live", reverse("inbox_live", args=[slug]),
             stale=True),
        Case("reference: smallest Django view", "reference", "/bench/trivial/"),
        Case("reference: raw SELECT 1", "reference"),
    ]  # fmt: skip


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def live_path(case: Case, data: inbox_data.Dataset) -> str:
    """The poll as an open page sends it: with the stamp it holds (the current one, or
    one from a second ago when something changed since)."""
    stamp, _conversation = live.stamps(organization_id=data.organization.pk)
    if case.stale:
        stamp = str(int(stamp) - 1_000_000_000)
    return f"{case.path}?{urlencode({'seen': stamp})}"


def select_one_load(seconds: int) -> harness.Load:
    """The raw reference: `SELECT 1` and its fetch, in-process, for as long as a page."""
    timings = []
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            began = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            timings.append((time.perf_counter() - began) * 1000)
    return harness.Load(
        requests=len(timings),
        per_second=len(timings) / seconds,
        failed=0,
        p50=statistics.median(timings),
        p95=harness.percentile(timings, 0.95),
        p99=harness.percentile(timings, 0.99),
        max=max(timings),
    )


@contextmanager
def changes(data: inbox_data.Dataset, every: float | None) -> Iterator[None]:
    """Something changes in the organisation's inbox every `every` seconds meanwhile, as
    far as open pages can tell: what is kept per change is computed again."""
    stop = threading.Event()

    def change() -> None:
        while not stop.wait(every):
            live.changed(organization_id=data.organization.pk)

    worker = threading.Thread(target=change, daemon=True)
    if every:
        worker.start()
    try:
        yield
    finally:
        stop.set()
        if every:
            worker.join()


def measure_case(
    client: Client, case: Case, data: inbox_data.Dataset, seconds: int, cookie: str
) -> None:
    if not case.path:
        case.load = select_one_load(seconds)
        case.sqls = ["SELECT 1"]
        return
    path = live_path(case, data) if case.group == "live" else case.path
    headers = {"Cookie": cookie}
    for _ in range(5):
        response = httpx.get(f"{BASE}{path}", headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    if case.group == "list":
        case.rows = response.content.count(b"data-row>")
    with changes(data, every=0.05 if case.changing else None):
        case.load = harness.wrk(f"{BASE}{path}", seconds=seconds, headers=headers)
    if case.load.failed:
        raise SystemExit(f"{path}: {case.load.failed} requests failed under wrk")
    if case.changing:
        live.changed(organization_id=data.organization.pk)
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    case.sqls = [query["sql"] for query in captured.captured_queries]
    timed = [(query_ms(sql), sql) for sql in case.sqls if sql.startswith("SELECT")]
    if timed:
        case.database_ms = sum(took for took, _sql in timed)
        case.slowest_ms, case.slowest_sql = max(timed)


def query_ms(sql: str) -> float:
    """How long one query takes, fetched, on its own: the fastest of three runs."""
    runs = []
    with connection.cursor() as cursor:
        for _ in range(3):
            began = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            runs.append((time.perf_counter() - began) * 1000)
    return min(runs)


def explain(sql: str) -> tuple[float, list[str], str]:
    """EXPLAIN ANALYZE of one query: its execution time, the scans it chose, the plan."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    took = re.search(r"Execution Time: ([\d.]+) ms", plan)
    scans = list(dict.fromkeys(SCAN.findall(plan)))
    return float(took.group(1)) if took else 0.0, scans, plan


def bench_pages(data: inbox_data.Dataset, seconds: int, show_plans: bool) -> list[Case]:
    client = Client()
    client.force_login(data.agent)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    live.changed(organization_id=data.organization.pk)
    measured = cases(data)
    print(
        f"\n1. Pages from gunicorn (2 workers × 4 threads, production settings), wrk on one "
        f"connection for {seconds} s per page after a warm-up"
    )
    print(f"   signed in as an agent of {data.organization.name}: {data.counts}")
    print(f"   load average before: {load()} (other jobs share the machine)")
    print(
        f"   {'page':52} {'p50':>8} {'p95':>8} {'p99':>8} {'req/s':>6} {'queries':>8} "
        f"{'in SQL':>8} {'slowest':>8} {'rows':>5}"
    )
    connections.close_all()
    server = harness.start_gunicorn(port=PORT, env=dict(os.environ), ready_path="/bench/trivial/")
    try:
        for case in measured:
            measure_case(client, case, data, seconds, cookie)
            rows = "" if case.rows is None else case.rows
            print(
                f"   {case.name:52} {case.load.p50:6.1f}ms {case.load.p95:6.1f}ms "
                f"{case.load.p99:6.1f}ms {case.load.per_second:6.0f} {case.queries:8} "
                f"{case.database_ms:6.1f}ms {case.slowest_ms:6.1f}ms {rows!s:>5}",
                flush=True,
            )
    finally:
        harness.stop(server)
    print(
        "   (in SQL: the page's SELECTs run again one by one, the fastest of three runs each, "
        "summed; slowest: the longest of them)"
    )
    print("\n   The slowest query of each page (EXPLAIN ANALYZE: its execution time, its scans):")
    for case in measured:
        sql = case.slowest_sql
        if not sql or case.group == "reference":
            continue
        took, scans, plan = explain(sql)
        print(f"   - {case.name}: {took:.1f} ms; {', '.join(scans)}")
        if show_plans:
            print("     its queries:")
            print("\n".join(f"       {query[:150]}" for query in case.sqls))
            print("     the slowest:\n       " + sql[:3000])
            print("\n".join("       " + line for line in plan.splitlines()))
    verdicts(measured)
    print(f"   load average after: {load()}")
    return measured


def verdicts(measured: list[Case]) -> None:
    print("\n   Against the targets:")
    for case in measured:
        target = TARGETS.get(case.group)
        if target is None:
            continue
        met = "met" if case.load.p95 <= target else "NOT met"
        queries = "met" if case.queries <= QUERY_TARGET else "NOT met"
        print(
            f"   - {case.name}: p95 {case.load.p95:.1f} ms (≤ {target:.0f} ms: {met}); "
            f"{case.queries} queries (≤ {QUERY_TARGET}: {queries})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["pages", "live"])
    parser.add_argument("--seconds", type=int, default=5, help="wrk's time on each page")
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument(
        "--rate",
        type=float,
        action="append",
        help="simulator events/s for the live part, once per run (default: 100, then 5)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database")
    parser.add_argument("--plans", action="store_true", help="print the slowest queries' plans")
    options = parser.parse_args()
    began = time.monotonic()
    print(f"Padu inbox benchmarks on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    try:
        data = inbox_data.prepared(reuse=options.reuse)
        redis.Redis.from_url(settings.REDIS_URL).flushdb()
        call_command("collectstatic", interactive=False, verbosity=0)
        if options.only in (None, "pages"):
            bench_pages(data, options.seconds, options.plans)
        if options.only in (None, "live"):
            for rate in options.rate or [100.0, 5.0]:
                measure_live(data, probes=options.probes, rate=rate)
    finally:
        if not options.keep:
            harness.database_drop()
    print(f"\nDone in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
