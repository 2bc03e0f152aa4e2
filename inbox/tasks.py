from __future__ import annotations

from celery import shared_task

from channels_meta.graph.errors import TransientError
from channels_meta.graph.tasks import MetaTask
from inbox.services import media, pending


@shared_task
def pending_purge_stale() -> int:
    """Delete receipts and changes that waited a week for their message."""
    return pending.pending_purge_stale()


@shared_task(
    base=MetaTask,
    soft_time_limit=10 * 60,
    time_limit=11 * 60,
    autoretry_for=(TransientError,),
    retry_backoff=30,
    retry_backoff_max=10 * 60,
    max_retries=media.MAX_ATTEMPTS,
)
def attachments_fetch(message_ids: list[int]) -> dict[str, int]:
    """Fetch and keep the attachments of one recorded batch of messages; a second run
    downloads nothing twice."""
    return media.attachments_fetch(message_ids=message_ids)


@shared_task(soft_time_limit=60)
def attachments_sweep() -> int:
    """Fetch attachments left behind (their task was lost, or Meta kept failing)."""
    batches = media.attachments_sweep()
    for message_ids in batches:
        attachments_fetch.delay(message_ids)
    return len(batches)
