"""The Celery application, its fixed behaviour, and the one place periodic tasks are scheduled.

Where the broker lives (Redis or the file system) comes from settings (`CELERY_*`).
"""

from __future__ import annotations

import os

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "padu.settings")

app = Celery("padu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    # A task is acknowledged only once it has finished, and handed back to the broker
    # when the worker running it dies, so a crash loses nothing.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=15 * 60,
    task_soft_time_limit=10 * 60,
    broker_connection_retry_on_startup=True,
    # Celery's Django fix-up closes the database connection before and after each task
    # unless told to reuse it this many times; `_connections_keep_or_replace` takes over.
    CELERY_DB_REUSE_MAX=2**62,
    timezone="UTC",
    beat_schedule={
        "purge-expired-invitations": {
            "task": "accounts.tasks.invitations_purge_expired",
            "schedule": crontab(minute=17, hour=3),
        },
        "sweep-webhook-events": {
            "task": "channels_meta.tasks.webhook_events_sweep",
            "schedule": 15.0,
        },
        "check-channel-tokens": {
            "task": "channels_meta.tasks.tokens_check_all",
            "schedule": crontab(minute=7, hour="*/6"),
        },
        "sync-whatsapp-templates": {
            "task": "channels_meta.tasks.templates_sync_all",
            "schedule": crontab(minute=37),
        },
        "sweep-contact-profiles": {
            "task": "inbox.tasks.contact_profiles_sweep",
            "schedule": 5 * 60.0,
        },
        "sweep-contact-avatars": {
            "task": "inbox.tasks.contact_avatars_sweep",
            "schedule": 5 * 60.0,
        },
        "sweep-forwarding-endpoints": {
            "task": "inbox.tasks.endpoints_sweep",
            "schedule": 15.0,
        },
        "empty-bridged-messages": {
            "task": "inbox.tasks.bridge_contents_sweep",
            "schedule": 60.0,
        },
        "sweep-attachments": {
            "task": "inbox.tasks.attachments_sweep",
            "schedule": 5 * 60.0,
        },
        "purge-stale-pending-receipts-and-changes": {
            "task": "inbox.tasks.pending_purge_stale",
            "schedule": crontab(minute=47, hour=3),
        },
        "reopen-snoozed-conversations": {
            "task": "inbox.tasks.conversations_unsnooze",
            "schedule": 60.0,
        },
        "apply-crossed-receipts": {
            "task": "inbox.tasks.pending_receipts_sweep",
            "schedule": 60.0,
        },
        "fail-interrupted-deliveries": {
            "task": "inbox.tasks.deliveries_interrupted_fail",
            "schedule": 300.0,
        },
        "sweep-data-requests": {
            "task": "privacy.tasks.data_requests_sweep",
            "schedule": 300.0,
        },
        "sweep-exports": {
            "task": "privacy.tasks.exports_sweep",
            "schedule": 600.0,
        },
        "announce-privacy-policy": {
            "task": "privacy.tasks.policy_change_announce",
            "schedule": crontab(minute=13),
        },
        "sweep-deleted-organizations": {
            "task": "privacy.tasks.organizations_erase_sweep",
            "schedule": 30 * 60.0,
        },
        "enforce-retention": {
            "task": "privacy.tasks.retention_enforce",
            "schedule": crontab(minute=41, hour=2),
        },
        "remind-overdue-data-requests": {
            "task": "privacy.tasks.data_requests_overdue_remind",
            "schedule": crontab(minute=5, hour=8),
        },
        "purge-expired-sessions": {
            "task": "accounts.tasks.sessions_purge_expired",
            "schedule": crontab(minute=27, hour=3),
        },
    },
)
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _connections_keep_or_replace(sender: Task, **kwargs: object) -> None:
    """A task is to a worker what a request is to the web server, and gets the same rule:
    a database connection is kept for DATABASE_CONN_MAX_AGE and replaced when it broke,
    instead of a new one for every task. Eager tasks run inside the caller's work."""
    if not sender.request.is_eager:
        close_old_connections()
