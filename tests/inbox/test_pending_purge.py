"""Receipts and changes that wait for a message that never comes are deleted after a
week, so nothing waits forever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import tasks
from inbox.models import (
    Direction,
    MessageStatus,
    PendingChange,
    PendingChangeKind,
    PendingReceipt,
)
from inbox.services.receipts import pending_receipts_sweep
from padu.celery import app as celery_app
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation, make_message

pytestmark = pytest.mark.django_db


def _wait(channel, external_id: str, days_ago: float) -> None:
    at = timezone.now() - timedelta(days=days_ago)
    organization_id = channel.organization_id
    PendingReceipt.objects.create(
        organization_id=organization_id,
        channel=channel,
        external_id=external_id,
        status=MessageStatus.DELIVERED,
        at=at,
    )
    PendingChange.objects.create(
        organization_id=organization_id,
        channel=channel,
        external_id=external_id,
        kind=PendingChangeKind.REACTION,
        data={"emoji": "👍"},
        at=at,
    )


def test_what_waited_more_than_a_week_is_deleted_and_the_rest_kept(channels, celery_eager):
    whatsapp = channels["whatsapp"]
    _wait(whatsapp, "wamid.old", days_ago=8)
    _wait(whatsapp, "wamid.recent", days_ago=6)

    deleted = tasks.pending_purge_stale.delay().get()

    assert deleted == 2
    assert set(PendingReceipt.objects.values_list("external_id", flat=True)) == {"wamid.recent"}
    assert set(PendingChange.objects.values_list("external_id", flat=True)) == {"wamid.recent"}


def test_the_purge_runs_every_night():
    schedule = celery_app.conf.beat_schedule.values()

    assert "inbox.tasks.pending_purge_stale" in {entry["task"] for entry in schedule}


def test_a_receipt_that_crossed_its_message_is_applied_by_the_sweep(world):
    channel = make_channel(world.org)
    message = make_message(
        make_conversation(channel),
        direction=Direction.OUTBOUND,
        external_id="wamid.crossed",
        status=MessageStatus.SENT,
    )
    PendingReceipt.objects.create(
        organization=world.org,
        channel=channel,
        external_id="wamid.crossed",
        status=MessageStatus.DELIVERED,
        at=timezone.now(),
    )

    assert pending_receipts_sweep() == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert not PendingReceipt.objects.exists()
