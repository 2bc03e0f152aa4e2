"""How long Meta's deliveries are kept: a week once processed (they can be replayed
meanwhile), and not at all once a person they name is erased."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Func, Q, QuerySet, TextField

from channels_meta.models import WebhookEvent, WebhookEventStatus
from padu.batches import delete_in_batches


class BodyText(Func):
    """A stored body as text in which ASCII reads as itself (PostgreSQL escapes the
    other bytes), so that Meta's ids can be looked for in it."""

    output_field = TextField()
    template = "encode(%(expressions)s, 'escape')"

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="CAST(%(expressions)s AS TEXT)")


def webhook_events_naming(meta_ids: list[str]) -> QuerySet[WebhookEvent]:
    """Stored deliveries in which any of these Meta ids appears as a JSON string (as
    Meta writes ids), whatever else they carry."""
    # As JSON writes them; an id with a quote or a backslash would be written escaped.
    ids = [meta_id for meta_id in meta_ids if meta_id and not set(meta_id) & {'"', "\\"}]
    if not ids:
        return WebhookEvent.objects.none()
    naming = Q()
    for meta_id in ids:
        naming |= Q(body_text__contains=f'"{meta_id}"')
    return WebhookEvent.objects.annotate(body_text=BodyText("body")).filter(naming)


def webhook_events_erase(*, meta_ids: list[str]) -> int:
    """Delete the deliveries naming these ids that have been processed (or given up on);
    returns how many. Pending ones are left to be processed first."""
    naming = webhook_events_naming(meta_ids).exclude(status=WebhookEventStatus.PENDING)
    return WebhookEvent.objects.filter(pk__in=list(naming.values_list("pk", flat=True))).delete()[0]


def webhook_events_purge(*, before: datetime) -> int:
    """Delete the deliveries received before `before` that are done with (processed,
    ignored, failed, or still waiting for their channel); returns how many. Pending
    ones stay for the sweeper."""
    done_with = WebhookEvent.objects.filter(received_at__lt=before).exclude(
        status=WebhookEventStatus.PENDING
    )
    return delete_in_batches(done_with)
