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


def _encoded(meta_ids: list[str] | None) -> set[bytes]:
    return {meta_id.encode() for meta_id in meta_ids or () if meta_id}


def webhook_events_naming(
    meta_ids: list[str],
    deliveries: QuerySet[WebhookEvent] | None = None,
    *,
    within: list[str] | None = None,
) -> list[int]:
    """The ids of the stored deliveries (of `deliveries`, all by default) in which any of
    these Meta ids appears as a JSON string, as Meta writes ids, and, when `within` is
    given, also one of those ids (a business's accounts: a customer's id, such as a
    phone number, names them at other businesses too). Each body is read once, however
    many ids are looked for."""
    wanted, accounts = _encoded(meta_ids), _encoded(within)
    if not wanted:
        return []
    deliveries = WebhookEvent.objects.all() if deliveries is None else deliveries
    found = []
    for pk, body in deliveries.values_list("pk", "body").iterator(chunk_size=SCANNED_AT_ONCE):
        strings = set(JSON_STRING.findall(bytes(body)))
        if not wanted.isdisjoint(strings) and (within is None or not accounts.isdisjoint(strings)):
            found.append(pk)
    return found


def webhook_events_erase(*, meta_ids: list[str], within: list[str] | None = None) -> int:
    """Delete the deliveries naming these ids (to these accounts, when `within` names
    them) that have been processed or given up on; returns how many. Pending ones are
    left to be processed first."""
    done_with = WebhookEvent.objects.exclude(status=WebhookEventStatus.PENDING)
    return delete_in_batches(
        WebhookEvent.objects.filter(
            pk__in=webhook_events_naming(meta_ids, done_with, within=within)
        )
    )


def webhook_events_pending_naming(meta_ids: list[str], within: list[str] | None = None) -> bool:
    """Whether deliveries naming these ids (to these accounts) are still to be recorded."""
    pending = WebhookEvent.objects.filter(status=WebhookEventStatus.PENDING)
    return bool(webhook_events_naming(meta_ids, pending, within=within))


def webhook_events_purge(*, before: datetime) -> int:
    """Delete the deliveries received before `before` that are done with (processed,
    ignored, failed, or still waiting for their channel); returns how many. Pending
    ones stay for the sweeper."""
    done_with = WebhookEvent.objects.filter(received_at__lt=before).exclude(
        status=WebhookEventStatus.PENDING
    )
    return delete_in_batches(done_with)
