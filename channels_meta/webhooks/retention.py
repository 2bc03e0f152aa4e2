"""How long Meta's deliveries are kept: a week once processed (they can be replayed
meanwhile), and not at all once a person they name is erased."""

from __future__ import annotations

import re
from datetime import datetime

from django.db.models import QuerySet

from channels_meta.models import WebhookEvent, WebhookEventStatus
from padu.batches import delete_in_batches

# Every string of a JSON document, escapes and all (Meta's ids have none).
JSON_STRING = re.compile(rb'"((?:[^"\\]|\\.)*)"')
SCANNED_AT_ONCE = 1000


def webhook_events_naming(
    meta_ids: list[str], deliveries: QuerySet[WebhookEvent] | None = None
) -> list[int]:
    """The ids of the stored deliveries (of `deliveries`, all by default) in which any of
    these Meta ids appears as a JSON string, as Meta writes ids. Each body is read once,
    however many ids are looked for."""
    wanted = {meta_id.encode() for meta_id in meta_ids if meta_id}
    if not wanted:
        return []
    deliveries = WebhookEvent.objects.all() if deliveries is None else deliveries
    return [
        pk
        for pk, body in deliveries.values_list("pk", "body").iterator(chunk_size=SCANNED_AT_ONCE)
        if not wanted.isdisjoint(JSON_STRING.findall(bytes(body)))
    ]


def webhook_events_erase(*, meta_ids: list[str]) -> int:
    """Delete the deliveries naming these ids that have been processed (or given up on);
    returns how many. Pending ones are left to be processed first."""
    done_with = WebhookEvent.objects.exclude(status=WebhookEventStatus.PENDING)
    return delete_in_batches(
        WebhookEvent.objects.filter(pk__in=webhook_events_naming(meta_ids, done_with))
    )


def webhook_events_pending_naming(meta_ids: list[str]) -> bool:
    """Whether deliveries naming these ids are still to be recorded."""
    pending = WebhookEvent.objects.filter(status=WebhookEventStatus.PENDING)
    return bool(webhook_events_naming(meta_ids, pending))


def webhook_events_purge(*, before: datetime) -> int:
    """Delete the deliveries received before `before` that are done with (processed,
    ignored, failed, or still waiting for their channel); returns how many. Pending
    ones stay for the sweeper."""
    done_with = WebhookEvent.objects.filter(received_at__lt=before).exclude(
        status=WebhookEventStatus.PENDING
    )
    return delete_in_batches(done_with)
