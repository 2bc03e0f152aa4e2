from __future__ import annotations

from celery import shared_task

from channels_meta.graph.errors import TransientError
from channels_meta.graph.task_base import META_RETRIES, MetaTask, delay_in_batches
from inbox.services import (
    avatars,
    bridge,
    conversations,
    delivery,
    forwarding,
    media,
    pending,
    posts,
    profiles,
    receipts,
)

DELIVERY_RETRIES = 8
SWEEP_BATCH = 50


@shared_task
def pending_purge_stale() -> int:
    """Delete receipts and changes that waited a week for their message."""
    return pending.pending_purge_stale()


@shared_task(bind=True, max_retries=DELIVERY_RETRIES, soft_time_limit=60, time_limit=90)
def message_deliver(self, message_id: int) -> str:
    """Send a queued reply to Meta once, then what waited for it (a file's caption);
    retried while Meta asks to wait, then failed."""
    try:
        outcome = delivery.message_deliver(message_id=message_id)
    except delivery.Retry as wait:
        if self.request.retries >= self.max_retries:
            delivery.message_give_up(message_id=message_id)
            return "gave up"
        countdown = max(wait.countdown, 2**self.request.retries * 15)
        raise self.retry(countdown=countdown) from None
    if outcome == "sent":
        for follower_id in delivery.followers_due(message_id=message_id):
            message_deliver.delay(follower_id)
    return outcome


@shared_task(soft_time_limit=60)
def deliveries_interrupted_fail() -> int:
    """Fail replies whose delivery was cut off while talking to Meta, and send the
    captions whose file went but whose own delivery was never enqueued."""
    for follower_id in delivery.followers_due():
        message_deliver.delay(follower_id)
    return delivery.deliveries_interrupted_fail()


@shared_task(soft_time_limit=60)
def conversations_unsnooze() -> int:
    """Reopen snoozed conversations whose time has come."""
    return conversations.conversations_unsnooze_due()


@shared_task(soft_time_limit=60)
def pending_receipts_sweep() -> int:
    """Apply receipts that crossed the recording of their message."""
    return receipts.pending_receipts_sweep()


@shared_task(soft_time_limit=5 * 60, **META_RETRIES)
def contact_profiles_fetch(contact_ids: list[int]) -> dict[str, int]:
    """Look up the profiles of new Messenger and Instagram customers, each asked once
    (a retry skips those already done)."""
    return profiles.contact_profiles_fetch(contact_ids=contact_ids)


@shared_task(soft_time_limit=60)
def contact_profiles_sweep() -> int:
    """Look up, in batches, the profiles the worker missed."""
    return delay_in_batches(contact_profiles_fetch, profiles.contacts_profile_due(), SWEEP_BATCH)


@shared_task(soft_time_limit=5 * 60, **META_RETRIES)
def contact_avatars_fetch(contact_ids: list[int]) -> dict[str, int]:
    """Keep the pictures these contacts' profiles name, each stored once (a retry skips
    those done)."""
    return avatars.contact_avatars_fetch(contact_ids=contact_ids)


@shared_task(soft_time_limit=60)
def contact_avatars_sweep() -> int:
    """Fetch, in batches, the pictures left behind (a lost task, Meta failing)."""
    return delay_in_batches(contact_avatars_fetch, avatars.contacts_avatar_due(), SWEEP_BATCH)


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


@shared_task(soft_time_limit=60, **META_RETRIES)
def comment_post_fetch(conversation_id: int) -> str:
    """Look up the post a comment thread is on."""
    return posts.comment_post_fetch(conversation_id=conversation_id)


@shared_task(soft_time_limit=75, time_limit=90)
def endpoint_deliver(endpoint_id: int) -> int:
    """Post an endpoint's due events in order (nothing if another worker is at it)."""
    return forwarding.endpoint_deliver(endpoint_id=endpoint_id)


@shared_task(soft_time_limit=60)
def endpoints_sweep() -> int:
    """Hand every endpoint with a delivery due (a retry, or a lost task's) to a worker."""
    endpoint_ids = forwarding.endpoints_due()
    for endpoint_id in endpoint_ids:
        endpoint_deliver.delay(endpoint_id)
    return len(endpoint_ids)


@shared_task(soft_time_limit=120)
def bridge_contents_sweep() -> int:
    """In bridge mode, empty the messages that were waiting for a send or a file."""
    return bridge.contents_sweep()
