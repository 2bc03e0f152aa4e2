"""A real Celery worker, on Redis and on the embedded file-system broker, runs the
tasks that Padu enqueues."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Invitation
from accounts.services import invitation_create
from accounts.tasks import invitations_purge_expired
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


def _backends_of_others() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def _purge_through_the_worker(world) -> None:
    invitation = invitation_create(actor=world.owner, email="old@acme.example", role="agent")
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=40)
    )
    invitations_purge_expired.delay()
    deadline = time.monotonic() + 30
    while Invitation.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Invitation.objects.exists(), "the worker did not run the task"


def test_a_worker_keeps_its_database_connection_across_tasks_and_replaces_a_broken_one(
    world, tmp_path
):
    worker = start_worker(PADU_VAR_DIR=str(tmp_path), CELERY_BROKER_URL=os.environ["REDIS_URL"])
    try:
        _purge_through_the_worker(world)
        after_one_task = _backends_of_others()
        _purge_through_the_worker(world)
        after_two_tasks = _backends_of_others()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM unnest(%s) AS pid", [list(after_two_tasks)]
            )
        _purge_through_the_worker(world)
        after_a_broken_connection = _backends_of_others()
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert len(after_one_task) == 1
    assert after_two_tasks == after_one_task
    assert len(after_a_broken_connection) == 1
    assert after_a_broken_connection != after_one_task
