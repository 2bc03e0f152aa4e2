"""Event forwarding with a real Celery worker posting over real HTTP to a receiver written
from the README alone: a receiver that is down for a while gets everything once it is
back, in order within each conversation; a worker killed in the middle of a batch loses
nothing (what it had posted but not yet marked is posted again: at least once)."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from inbox import tasks
from inbox.models import DeliveryStatus, EventDelivery, OutboxEvent, WebhookEndpoint
from inbox.services import conversations
from inbox.services.endpoints import endpoint_create
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation
from tests.test_worker_crash import wait_for
from tests.workers import start_worker

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Receiver:
    """The business's system: checks each signature as the README says, notes the event
    and answers `status`; with `stall_at`, the request of that number waits until
    `release` is set."""

    url: str = ""
    secret: bytes = b""
    status: int = 200
    received: list[dict] = field(default_factory=list)
    forged: int = 0
    stall_at: int | None = None
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def handle(self, headers, body: bytes) -> int:
        parts = dict(part.split("=", 1) for part in headers["Padu-Signature"].split(","))
        signed = parts["t"].encode() + b"." + body
        expected = hmac.new(self.secret, signed, hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(parts["t"])) <= 300
        if not (hmac.compare_digest(expected, parts["v1"]) and fresh):
            self.forged += 1
            return 400
        self.received.append(json.loads(body))
        if self.stall_at is not None and len(self.received) == self.stall_at:
            self.stalled.set()
            self.release.wait(30)
        return self.status

    def arrived(self) -> list[str]:
        return [event["id"] for event in self.received]


@pytest.fixture
def receiver(settings):
    settings.FORWARDING_ALLOW_PRIVATE_NETWORKS = True
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(receiver.handle(self.headers, body))
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/padu"
    yield receiver
    receiver.release.set()
    server.shutdown()
    server.server_close()


def _endpoint(world, receiver) -> WebhookEndpoint:
    endpoint, secret = endpoint_create(
        membership=world.owner, url=receiver.url, events=["conversation.updated"]
    )
    receiver.secret = secret.encode()
    return endpoint


def _changes(world, count: int, per_conversation: int) -> list:
    channel = make_channel(world.org)
    made = [make_conversation(channel) for _ in range(count)]
    for turn in range(per_conversation):
        for conversation in made:
            conversations.conversation_status_set(
                membership=world.agent,
                conversation=conversation,
                status="resolved" if turn % 2 == 0 else "open",
            )
    return made


def _in_order_per_conversation(arrived: list[str]) -> None:
    """Every event arrived, and the last time each arrived, the events of a conversation
    came in the order they were recorded."""
    events = list(OutboxEvent.objects.order_by("pk").values_list("event_id", "ordering_key"))
    assert {str(event_id) for event_id, _key in events} == set(arrived)
    last_seen = {event_id: position for position, event_id in enumerate(arrived)}
    for key in {key for _event_id, key in events}:
        positions = [last_seen[str(event_id)] for event_id, k in events if k == key]
        assert positions == sorted(positions), key


def _all_delivered() -> bool:
    return not EventDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


def test_a_receiver_down_for_a_while_gets_everything_in_order_once_back(world, receiver):
    endpoint = _endpoint(world, receiver)
    receiver.status = 503
    _changes(world, count=3, per_conversation=6)
    worker = start_worker(FORWARDING_ALLOW_PRIVATE_NETWORKS="true")
    try:
        # Each conversation's first event failed; the rest of each waits behind it.
        assert wait_for(lambda: EventDelivery.objects.filter(attempts__gte=1).count() >= 3)
        time.sleep(1)
        assert len(receiver.received) == 3
        assert EventDelivery.objects.filter(attempts=0).count() == 15

        receiver.status = 200
        # The retries' time comes (10 s here; the sweep hands the endpoint to a worker).
        EventDelivery.objects.update(next_attempt_at=timezone.now())
        tasks.endpoints_sweep.delay()
        assert wait_for(_all_delivered)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert receiver.forged == 0
    _in_order_per_conversation(receiver.arrived())
    assert len(receiver.received) == 18 + 3  # each failed first event was sent twice
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.failing_since) == (True, None)


def test_a_worker_killed_mid_batch_loses_nothing(world, receiver):
    _endpoint(world, receiver)
    receiver.stall_at = 5
    _changes(world, count=2, per_conversation=6)
    worker = start_worker(FORWARDING_ALLOW_PRIVATE_NETWORKS="true")
    try:
        assert receiver.stalled.wait(30), "the worker never reached the fifth event"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        receiver.release.set()
        if worker.poll() is None:
            worker.kill()
    # Four events reached the receiver but the batch was not marked: none is delivered.
    assert not EventDelivery.objects.filter(status=DeliveryStatus.DELIVERED).exists()

    # The dead worker's lease would run out within a minute; here it runs out now.
    WebhookEndpoint.objects.update(leased_until=None)
    second = start_worker(FORWARDING_ALLOW_PRIVATE_NETWORKS="true")
    try:
        tasks.endpoints_sweep.delay()
        assert wait_for(_all_delivered)
    finally:
        second.terminate()
        second.wait(timeout=30)

    arrived = receiver.arrived()
    _in_order_per_conversation(arrived)
    assert len(set(arrived)) == 12
    assert len(arrived) == 12 + 5  # the five posted before the kill came again
