from __future__ import annotations

import threading
import time

from channels_meta import tasks
from channels_meta.models import ChannelKind, WebhookEvent
from channels_meta.webhooks import dispatch
from inbox.models import Message
from tests.channels_meta import payloads as p
from tests.channels_meta.factories import make_channel


def test_events_arriving_together_are_published_as_one_batch():
    batches: list[list[int]] = []
    published = threading.Event()

    def publish(ids):
        batches.append(ids)
        published.set()

    dispatcher = dispatch.BatchingDispatcher(publish, interval=0.05)
    for event_id in range(1, 11):
        dispatcher.add(event_id)

    assert published.wait(2)
    time.sleep(0.1)
    assert sorted(i for batch in batches for i in batch) == list(range(1, 11))
    assert len(batches) <= 2


def test_events_trickling_in_wait_for_the_interval_rather_than_going_one_by_one():
    batches: list[list[int]] = []
    dispatcher = dispatch.BatchingDispatcher(batches.append, interval=0.2)
    for event_id in range(1, 21):
        dispatcher.add(event_id)
        time.sleep(0.005)

    deadline = time.monotonic() + 2
    while sum(map(len, batches)) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)

    assert sorted(i for batch in batches for i in batch) == list(range(1, 21))
    # 20 events over about 0.1 s: the first batch waits the interval and takes them all.
    assert len(batches) == 1


def test_a_broker_failure_is_logged_and_the_dispatcher_keeps_going(caplog):
    calls: list[list[int]] = []

    def publish(ids):
        calls.append(ids)
        if len(calls) == 1:
            raise ConnectionError("broker down")

    dispatcher = dispatch.BatchingDispatcher(publish, interval=0.01)
    dispatcher.add(1)
    deadline = time.monotonic() + 2
    while len(calls) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    dispatcher.add(2)
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)

    assert calls == [[1], [2]]
    assert "Could not enqueue 1 webhook events" in caplog.text


def test_with_no_batching_each_event_is_published_at_once(settings):
    settings.WEBHOOK_ENQUEUE_BATCH_SECONDS = 0
    one, many = [], []

    dispatch.enqueue(7, publish_one=one.append, publish_many=many.append)

    assert (one, many) == ([7], [])


def test_the_batch_task_processes_every_event_it_is_given(db, world, celery_eager):
    make_channel(world.org, kind=ChannelKind.MESSENGER, external_id=p.PAGE_ID)
    ids = [
        WebhookEvent.objects.create(
            body=p.encode(
                p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, "c", f"m_{n}"))
            )
        ).pk
        for n in range(3)
    ]

    assert tasks.webhook_events_process.delay(ids).get() == {"processed": 3}
    assert Message.objects.count() == 3
