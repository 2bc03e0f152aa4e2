from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import Invitation
from accounts.services import invitation_create
from accounts.tasks import invitations_purge_expired, sessions_purge_expired
from padu.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(celery_eager):
    return celery_eager


def test_invitations_expired_over_30_days_ago_are_purged(world):
    old = invitation_create(actor=world.owner, email="old@acme.example", role="agent")
    recent = invitation_create(actor=world.owner, email="recent@acme.example", role="agent")
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=31))
    Invitation.objects.filter(pk=recent.pk).update(expires_at=timezone.now() - timedelta(days=29))

    assert invitations_purge_expired.delay().get() == 1

    assert list(Invitation.objects.values_list("email", flat=True)) == ["recent@acme.example"]


def test_expired_sessions_are_purged_and_live_ones_kept():
    live = SessionStore()
    live["x"] = 1
    live.create()
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    assert sessions_purge_expired.delay().get() == 1

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()

    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks


def test_celery_is_configured_to_lose_nothing():
    conf = app.conf

    assert (conf.task_serializer, conf.accept_content) == ("json", ["json"])
    assert conf.task_acks_late
    assert conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
