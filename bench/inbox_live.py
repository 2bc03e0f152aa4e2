"""The inbox's live path end to end, for bench/inbox.py: the Meta simulator sends customer
webhooks at a steady rate to gunicorn and a Celery worker; a conversation is open in
headless Chromium; a probe customer writes numbered messages in it, and a
MutationObserver in the page notes when each number first appears in the DOM. The
latency is that moment less the moment the simulator began the POST that carried it
(one clock: the same machine)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import redis
from django.conf import settings
from django.db import connections
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse
from playwright.sync_api import sync_playwright

from bench import harness, inbox_data
from channels_meta.models import WebhookEvent
from channels_meta.simulator.app import MetaSimulator
from channels_meta.simulator.state import SimulatorState
from channels_meta.simulator.traffic import Traffic
from channels_meta.simulator.webhooks import Delivery, WebhookSender, serialize
from inbox.models import Message

PORT = 8772
SIMULATOR_PORT = 8773
PROBE_CUSTOMER = "7000000000000001"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Notes, in the page's clock (the machine's), when each probe number is first in the DOM.
OBSERVER = r"""
(mark) => {
  window.__seen = {};
  const look = () => {
    const now = Date.now();
    const found = document.body.textContent.matchAll(new RegExp(mark, "g"));
    for (const match of found) {
      if (!(match[1] in window.__seen)) window.__seen[match[1]] = now;
    }
  };
  new MutationObserver(look).observe(document.body,
    {childList: true, subtree: true, characterData: true});
  look();
}
"""


@dataclass(frozen=True)
class Probes:
    """The numbered messages of one run, told from an earlier run's in a kept database."""

    run: str = field(default_factory=lambda: secrets.token_hex(3))

    @property
    def prefix(self) -> str:
        return f"PROBE{self.run}-"

    @property
    def pattern(self) -> re.Pattern[bytes]:
        return re.compile(self.prefix.encode() + rb"(\d+)-")

    def text(self, number: int) -> str:
        return f"{self.prefix}{number}- is this one here yet?"

    def number(self, text: str) -> int:
        return int(self.pattern.search(text.encode()).group(1))


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(sim: MetaSimulator) -> WSGIServer:
    """The simulator's Graph API on a port, for the worker's profile and media look-ups."""
    server = make_server(
        "127.0.0.1", SIMULATOR_PORT, sim, server_class=_Server, handler_class=_Quiet
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def meta_environment() -> dict[str, str]:
    """Padu's settings that send its Graph calls and media downloads to the simulator."""
    meta = f"http://127.0.0.1:{SIMULATOR_PORT}"
    names = ("META_GRAPH_URL", "META_INSTAGRAM_GRAPH_URL", "META_INSTAGRAM_API_URL")
    return {**dict.fromkeys(names, meta), "META_DIALOG_URL": meta, "META_MEDIA_HOSTS": meta}


def tokens_from(state: SimulatorState, data: inbox_data.Dataset) -> None:
    """Give the large organisation's channels the simulator's tokens for their accounts."""
    for channel in data.channels.values():
        channel.set_token(state.system_token_for(channel.external_id))
        channel.save(update_fields=["token_ciphertext"])


@dataclass
class TimedSender(WebhookSender):
    """Meta's webhook sender that notes when it began posting each probe message."""

    probes: Probes = field(default_factory=Probes)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.posted: dict[int, float] = {}

    def send(self, delivery: Delivery) -> bool:
        if not delivery.body:
            delivery.body = serialize({"object": delivery.object_type, "entry": delivery.entries})
        now = time.time()
        for number in self.probes.pattern.findall(delivery.body):
            self.posted.setdefault(int(number), now)
        return super().send(delivery)


def simulator_state() -> SimulatorState:
    """Meta with the large organisation's three accounts (bench/inbox_data.py), its message
    ids unseeded so that a kept database does not take them for redeliveries."""
    state = SimulatorState(app_id=settings.META_APP_ID, app_secret=settings.META_APP_SECRET)
    state.load(
        {
            "users": [
                {
                    "id": "1000000000000042",
                    "name": "Bench owner",
                    "pages": [
                        {
                            "id": inbox_data.PAGE_ID,
                            "name": "Bench Page",
                            "instagram": {
                                "id": inbox_data.INSTAGRAM_ID,
                                "username": "bench.shop",
                                "name": "Bench Shop",
                            },
                        }
                    ],
                    "wabas": [
                        {
                            "id": inbox_data.WABA_ID,
                            "name": "Bench WhatsApp",
                            "phone_numbers": [
                                {
                                    "id": inbox_data.PHONE_NUMBER_ID,
                                    "display_phone_number": "+90 555 010 0042",
                                    "verified_name": "Bench Shop",
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )
    return state


def probe(sim: MetaSimulator, probes: Probes, number: int) -> None:
    sim.customers.send_message(
        {
            "kind": "messenger",
            "business_id": inbox_data.PAGE_ID,
            "customer_id": PROBE_CUSTOMER,
            "text": probes.text(number),
        }
    )


def probes_recorded(data: inbox_data.Dataset, probes: Probes) -> QuerySet[Message]:
    """This run's probe messages that Padu recorded (found through the probe's contact)."""
    return Message.objects.filter(
        organization=data.organization,
        conversation__contact__channel=data.channels["messenger"],
        conversation__contact__external_id=PROBE_CUSTOMER,
        text__startswith=probes.prefix,
    )


def wait_for(check, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = list(check())
        if found:
            return found
        time.sleep(0.1)
    raise SystemExit("timed out waiting for the first probe to be recorded")


def session_cookie(data: inbox_data.Dataset) -> str:
    client = Client()
    client.force_login(data.agent)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"   {name:44} none"
    return (
        f"   {name:44} p50 {statistics.median(values):6.0f} ms   "
        f"p99 {harness.percentile(values, 0.99):6.0f} ms   max {max(values):6.0f} ms   "
        f"(n={len(values)})"
    )


def measure_live(data: inbox_data.Dataset, *, probes: int, rate: float) -> None:
    state = simulator_state()
    base = f"http://127.0.0.1:{PORT}"
    sender = TimedSender(target_url=f"{base}/webhooks/meta/", app_secret=settings.META_APP_SECRET)
    sim = MetaSimulator(state, sender, public_url=f"http://127.0.0.1:{SIMULATOR_PORT}")
    meta = serve(sim)
    tokens_from(state, data)
    env = {**os.environ, **meta_environment(), "DJANGO_SETTINGS_MODULE": "padu.settings"}
    # Only this run's deliveries and tasks: an earlier run may have left some behind.
    WebhookEvent.objects.all().delete()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    connections.close_all()
    server = harness.start_gunicorn(port=PORT, env=env, ready_path="/healthz")
    worker = harness.start_worker(env=env)
    stop = threading.Event()
    threads = [threading.Thread(target=sender.run_forever, args=(stop,))]
    try:
        threads[0].start()
        probe(sim, sender.probes, 0)
        # The probe customer's first message opens their conversation, once a worker is up.
        zero = probes_recorded(data, sender.probes).filter(text=sender.probes.text(0))
        conversation_id = wait_for(zero.all)[0].conversation_id
        cookie = session_cookie(data)
        url = base + reverse("conversation", args=[data.organization.slug, conversation_id])
        traffic = Traffic(sim, customers=200, rate=rate)
        threads.append(threading.Thread(target=traffic.run, args=(stop,)))
        threads[-1].start()
        seen, page_stats = watch(base, url, cookie, sim, sender.probes, count=probes)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        harness.stop(worker)
        harness.stop(server)
        meta.shutdown()
        meta.server_close()
    report(data, sender, seen, probes, rate, page_stats)


REQUEST_KINDS = ("live polls", "list reloads", "timeline reloads", "other requests")


def request_kind(url: str) -> str:
    if "/live/" in url:
        return "live polls"
    if "pane=list" in url:
        return "list reloads"
    if "pane=timeline" in url:
        return "timeline reloads"
    return "other requests"


def watch(
    base: str, url: str, cookie: str, sim: MetaSimulator, probes: Probes, *, count: int
) -> tuple[dict, dict]:
    """Open the conversation in Chromium, send the probes three a second, and return when
    each was first in the page's DOM, with what the page asked of the server meanwhile."""
    requests: Counter[str] = Counter()
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright runs a loop in this thread
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context()
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
        page = context.new_page()
        page.goto(url)
        page.evaluate(OBSERVER, probes.pattern.pattern.decode())
        page.wait_for_timeout(5000)  # the traffic settles in
        page.on("request", lambda request: requests.update([request_kind(request.url)]))
        began = time.monotonic()
        for number in range(1, count + 1):
            probe(sim, probes, number)
            page.wait_for_timeout(1000 / 3)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            seen = page.evaluate("window.__seen")
            if all(str(n) in seen for n in range(1, count + 1)):
                break
            page.wait_for_timeout(250)
        seconds = time.monotonic() - began
        seen = {int(n): at / 1000 for n, at in page.evaluate("window.__seen").items()}
        page_stats = {
            **{kind: asked / seconds for kind, asked in requests.items()},
            "list panes": page.evaluate("document.querySelectorAll('#list-pane').length"),
            "timelines": page.evaluate("document.querySelectorAll('#timeline').length"),
        }
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return seen, page_stats


def lag_by_window(seconds: int = 10) -> str:
    """The longest stored → processed of the deliveries received in each `seconds` of
    the run (all of it: the traffic settling in, then the probes), to tell a slow start
    from a steady lag."""
    rows = list(
        WebhookEvent.objects.exclude(processed_at=None)
        .order_by("received_at")
        .values_list("received_at", "processed_at")
    )
    if not rows:
        return "none"
    start = rows[0][0]
    worst: dict[int, float] = {}
    for received, processed in rows:
        window = int((received - start).total_seconds() // seconds)
        lag = (processed - received).total_seconds()
        worst[window] = max(worst.get(window, 0.0), lag)
    return " ".join(f"{worst.get(window, 0.0):.1f}" for window in range(max(worst) + 1)) + " s"


def report(data, sender: TimedSender, seen: dict, probes: int, rate: float, stats: dict) -> None:
    stored = {
        sender.probes.number(text): created.timestamp()
        for text, created in probes_recorded(data, sender.probes).values_list("text", "created_at")
    }
    numbers = range(1, probes + 1)
    posted = sender.posted
    to_dom = [(seen[n] - posted[n]) * 1000 for n in numbers if n in seen and n in posted]
    to_row = [(stored[n] - posted[n]) * 1000 for n in numbers if n in stored and n in posted]
    row_to_dom = [(seen[n] - stored[n]) * 1000 for n in numbers if n in seen and n in stored]
    since = min(posted.get(n, time.time()) for n in numbers)
    events = WebhookEvent.objects.filter(received_at__gte=datetime.fromtimestamp(since, tz=UTC))
    processing = [
        (processed - received).total_seconds() * 1000
        for received, processed in events.exclude(processed_at=None).values_list(
            "received_at", "processed_at"
        )
    ]
    print(
        f"\n2. Live, end to end (simulator at {rate:.0f} events/s to gunicorn 2×4 + a Celery "
        "worker of 2 processes, production settings; a conversation open in headless "
        f"Chromium; {probes} probe messages, 3 a second)"
    )
    print(f"   load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(summary("simulator POST → message in the page's DOM", to_dom))
    print(summary("simulator POST → message row inserted", to_row))
    print(summary("message row inserted → in the page's DOM", row_to_dom))
    print(summary("every delivery: stored → processed", processing))
    print("   the worst of them, by 10 s of the run: " + lag_by_window())
    print(
        f"   probes posted {len([n for n in numbers if n in posted])}, stored "
        f"{len([n for n in numbers if n in stored])}, seen in the page "
        f"{len([n for n in numbers if n in seen])}; deliveries during the run "
        f"{events.count()}, left unprocessed {events.filter(processed_at=None).count()}"
    )
    print(
        "   the page asked, per second: "
        + ", ".join(f"{stats.get(kind, 0):.1f} {kind}" for kind in REQUEST_KINDS)
        + f"; at the end it held {stats['list panes']} list pane(s) and "
        f"{stats['timelines']} timeline(s) (one of each expected)"
    )
    if to_dom:
        met = "met" if harness.percentile(to_dom, 0.99) <= 2000 else "NOT met"
        print(f"   target p99 ≤ 2 s: {met}")
