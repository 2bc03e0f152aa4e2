from __future__ import annotations

from celery import shared_task

from inbox.services import pending


@shared_task
def pending_purge_stale() -> int:
    """Delete receipts and changes that waited a week for their message."""
    return pending.pending_purge_stale()
