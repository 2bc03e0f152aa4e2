"""Receipts and changes that wait for a message that never comes are deleted after a
week, so nothing waits forever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import tasks
from inbox.models import MessageStatus, PendingChange, PendingChangeKind, PendingReceipt
from padu.celery import app as celery_app

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
