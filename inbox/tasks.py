from __future__ import annotations

from celery import shared_task

from channels_meta.graph.task_base import META_RETRIES, delay_in_batches
from inbox.services import pending, profiles

SWEEP_BATCH = 50


@shared_task
def pending_purge_stale() -> int:
    """Delete receipts and changes that waited a week for their message."""
    return pending.pending_purge_stale()


@shared_task(soft_time_limit=5 * 60, **META_RETRIES)
def contact_profiles_fetch(contact_ids: list[int]) -> dict[str, int]:
    """Look up the profiles of new Messenger and Instagram customers, each asked once
    (a retry skips those already done)."""
    return profiles.contact_profiles_fetch(contact_ids=contact_ids)


@shared_task(soft_time_limit=60)
def contact_profiles_sweep() -> int:
    """Look up, in batches, the profiles the worker missed."""
    return delay_in_batches(contact_profiles_fetch, profiles.contacts_profile_due(), SWEEP_BATCH)
