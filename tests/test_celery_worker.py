"""A real Celery worker, on Redis and on the embedded file-system broker, runs the
tasks that Padu enqueues."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Invitation
from accounts.services import invitation_create
from tests.workers import ROOT, start_worker, worker_database_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("broker", ["redis", "filesystem://"])
def test_a_worker_runs_an_enqueued_task(world, tmp_path, broker):
    broker_url = os.environ["REDIS_URL"] if broker == "redis" else broker
    environment = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "PADU_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": broker_url,
    }
    invitation = invitation_create(actor=world.owner, email="old@acme.example", role="agent")
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=40)
    )
    worker = start_worker(PADU_VAR_DIR=str(tmp_path), CELERY_BROKER_URL=broker_url)
    try:
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from accounts.tasks import invitations_purge_expired as t; t.delay()",
            ],
            cwd=ROOT,
            env=environment,
            check=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while Invitation.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert not Invitation.objects.exists()
