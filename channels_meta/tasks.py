from __future__ import annotations

from celery import shared_task

from channels_meta.graph.errors import TransientError
from channels_meta.graph.tasks import MetaTask
from channels_meta.models import Channel, ChannelKind, ChannelStatus
from channels_meta.services import templates, tokens
from channels_meta.webhooks import processing

SWEEP_BATCH = 50


@shared_task(soft_time_limit=15 * 60)
def tokens_check_all() -> dict[str, int]:
    """Refresh Instagram tokens that are due and check every other active token."""
    return tokens.channels_check_tokens()


@shared_task(soft_time_limit=5 * 60)
def templates_sync_all() -> int:
    """Fan out a template sync for every active WhatsApp channel."""
    channel_ids = list(
        Channel.objects.filter(kind=ChannelKind.WHATSAPP, status=ChannelStatus.ACTIVE).values_list(
            "pk", flat=True
        )
    )
    for channel_id in channel_ids:
        templates_sync_channel.delay(channel_id)
    return len(channel_ids)


@shared_task(
    base=MetaTask,
    soft_time_limit=2 * 60,
    autoretry_for=(TransientError,),
    retry_backoff=30,
    max_retries=5,
)
def templates_sync_channel(channel_id: int) -> int:
    """Sync one channel's WhatsApp templates (it may have been disconnected since)."""
    channel = Channel.objects.filter(pk=channel_id, status=ChannelStatus.ACTIVE).first()
    if channel is None:
        return 0
    return templates.templates_sync(channel=channel)


@shared_task(soft_time_limit=5 * 60, time_limit=6 * 60)
def webhook_event_process(event_id: int) -> str:
    """Process one stored webhook delivery (a second run of the same id does nothing)."""
    return processing.webhook_event_process(event_id=event_id)


@shared_task(soft_time_limit=5 * 60, time_limit=6 * 60)
def webhook_events_process(event_ids: list[int]) -> dict[str, int]:
    """Process several stored deliveries together (each still recorded once)."""
    outcomes = processing.webhook_events_process(event_ids=event_ids)
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


@shared_task(soft_time_limit=60)
def webhook_events_sweep() -> int:
    """Re-enqueue deliveries left pending (their task was lost, or failed and may retry)."""
    event_ids = processing.stale_pending_events()
    for start in range(0, len(event_ids), SWEEP_BATCH):
        webhook_events_process.delay(event_ids[start : start + SWEEP_BATCH])
    return len(event_ids)


@shared_task(soft_time_limit=60)
def webhook_events_reopen_for_channel(channel_id: int) -> int:
    """A channel was connected: process the deliveries that were waiting for it."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return 0
    event_ids = processing.unroutable_events_reopen(channel=channel)
    for event_id in event_ids:
        webhook_event_process.delay(event_id)
    return len(event_ids)
