"""A worker killed with SIGKILL in the middle of a batch loses nothing and doubles
nothing: its transaction dies with it, and the broker hands the task to the next worker."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psycopg
import pytest

from channels_meta import tasks
from channels_meta.models import ChannelKind, WebhookEvent
from inbox.models import Message
from tests.channels_meta import payloads as p
from tests.channels_meta.factories import make_channel
from tests.workers import start_worker, worker_database_url

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(world):
    channel = make_channel(world.org, kind=ChannelKind.MESSENGER, external_id=p.PAGE_ID)
    batch = [
        p.customer_message(p.PAGE_ID, f"psid-{n % 7}", f"m_{n}", at=p.T_MS + n) for n in range(50)
    ]
    event = WebhookEvent.objects.create(body=p.encode(p.messaging("page", p.PAGE_ID, *batch)))
    blocker = psycopg.connect(worker_database_url())
    watcher = psycopg.connect(worker_database_url(), autocommit=True)
    # Hold the channel row against updates (not against the foreign-key checks of new
    # rows): the worker records all 50 messages, then waits to stamp the channel.
    blocker.execute(
        "SELECT id FROM channels_meta_channel WHERE id = %s FOR NO KEY UPDATE", [channel.pk]
    )
    worker = start_worker(CELERY_VISIBILITY_TIMEOUT="3")
    try:
        tasks.webhook_event_process.delay(event.pk)
        waiting = wait_for(
            lambda: (
                watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() "
                    "AND query LIKE 'UPDATE \"channels_meta_channel\"%%'"
                ).fetchone()[0]
                > 0
            )
        )
        assert waiting, "the worker never reached the end of the batch"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        blocker.rollback()
        blocker.close()
        watcher.close()
        if worker.poll() is None:
            worker.kill()

    assert not Message.objects.exists()
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("pending", 1)

    time.sleep(3)  # past the visibility timeout: the broker redelivers the unacked task
    second = start_worker(CELERY_VISIBILITY_TIMEOUT="3")
    try:
        assert wait_for(lambda: WebhookEvent.objects.get(pk=event.pk).status == "processed")
    finally:
        second.terminate()
        second.wait(timeout=30)

    assert Message.objects.count() == 50
    assert sorted(Message.objects.values_list("external_id", flat=True)) == sorted(
        f"m_{n}" for n in range(50)
    )
