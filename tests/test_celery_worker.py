"""A real Celery worker, on Redis and on the embedded file-system broker, runs the
tasks that Padu enqueues."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Invitation
from accounts.services import invitation_create

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def worker_environment(broker: str, var_dir: Path) -> dict[str, str]:
    database = settings.DATABASES["default"]
    environment = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "PADU_VAR_DIR": str(var_dir),
        "CELERY_BROKER_URL": broker,
    }
    environment.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return environment


@pytest.mark.parametrize("broker", ["redis", "filesystem://"])
def test_a_worker_runs_an_enqueued_task(world, tmp_path, broker):
    broker_url = os.environ["REDIS_URL"] if broker == "redis" else broker
    environment = worker_environment(broker_url, tmp_path)
    invitation = invitation_create(actor=world.owner, email="old@acme.example", role="agent")
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=40)
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "padu",
            "worker",
            "--pool=solo",
            "-Q",
            "celery",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=environment,
    )
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
