"""From Meta's webhook to the inbox: store the raw delivery first, then process it
exactly once, whatever Meta, the broker or the worker does."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from channels_meta import parsers, templates_sync
from channels_meta.events import (
    CommentEvent,
    MessageEvent,
    ReactionEvent,
    Route,
    StatusEvent,
    TemplateStatusEvent,
    Unparsed,
)
from channels_meta.models import Channel, WebhookEvent, WebhookEventStatus
from inbox import services as inbox

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRYABLE = [WebhookEventStatus.PENDING, WebhookEventStatus.UNROUTABLE]


def webhook_event_store(*, body: bytes, enqueue: Callable[[int], None]) -> WebhookEvent:
    """Keep a verified delivery exactly as received; `enqueue` its processing once the
    row is committed (if that fails, the sweeper finds the event later)."""
    event = WebhookEvent.objects.create(body=body)

    def hand_over() -> None:
        try:
            enqueue(event.pk)
        except Exception:  # the broker is down: the event is safe, the sweeper retries
            logger.warning("Webhook event %s stored but not enqueued", event.pk, exc_info=True)

    transaction.on_commit(hand_over)
    return event


def _claim_attempt(event_id: int) -> bool:
    """Count an attempt before trying; an event out of attempts is marked failed."""
    claimed = WebhookEvent.objects.filter(
        pk=event_id, status__in=RETRYABLE, attempts__lt=MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if claimed:
        return True
    WebhookEvent.objects.filter(
        pk=event_id, status=WebhookEventStatus.PENDING, attempts__gte=MAX_ATTEMPTS
    ).update(status=WebhookEventStatus.FAILED, processed_at=timezone.now())
    return False


class _Router:
    """Channels for the routes in one delivery, each looked up once."""

    def __init__(self) -> None:
        self.found: dict[Route, list[Channel]] = {}
        self.missing: set[Route] = set()

    def channels(self, route: Route) -> list[Channel]:
        if route not in self.found:
            connected = Channel.objects.connected().select_related("organization")
            if route.by_waba:
                channels = list(connected.filter(kind=route.kind, waba_id=route.external_id))
            else:
                channels = list(connected.filter(kind=route.kind, external_id=route.external_id))
            self.found[route] = channels
        if not self.found[route]:
            self.missing.add(route)
        return self.found[route]


def _record(channel: Channel, event) -> None:
    if isinstance(event, StatusEvent):
        inbox.status_record(channel=channel, event=event)
    elif isinstance(event, ReactionEvent):
        inbox.reaction_record(channel=channel, event=event)
    elif isinstance(event, CommentEvent):
        inbox.comment_record(channel=channel, event=event)
    elif isinstance(event, TemplateStatusEvent):
        templates_sync.template_set_status(
            channel=channel,
            name=event.name,
            language=event.language,
            status=event.status,
            reason=event.reason,
        )


class _MessageBatches:
    """Messages are recorded a batch per channel; anything else flushes the batches
    first, so a receipt is applied after the message it is about."""

    def __init__(self) -> None:
        self.pending: dict[int, tuple[Channel, list[MessageEvent]]] = {}

    def add(self, channel: Channel, event: MessageEvent) -> None:
        self.pending.setdefault(channel.pk, (channel, []))[1].append(event)

    def flush(self) -> None:
        for channel, events in self.pending.values():
            inbox.messages_record(channel=channel, events=events)
        self.pending.clear()


def _finish(event: WebhookEvent, status: str, error: str = "", keys: str = "") -> str:
    event.status = status
    event.error = error[:5000]
    event.unroutable_keys = keys[:1000]
    event.processed_at = timezone.now()
    event.save(update_fields=["status", "error", "unroutable_keys", "processed_at", "object_type"])
    return status


def webhook_event_process(*, event_id: int) -> str:
    """Process one stored delivery: every entry and item in one transaction, each
    message recorded once. Returns the event's new status ("skipped" when another
    worker has it or it is done)."""
    if not _claim_attempt(event_id):
        return "skipped"
    try:
        with transaction.atomic():
            event = (
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(pk=event_id, status__in=RETRYABLE)
                .first()
            )
            if event is None:
                return "skipped"
            return _process(event)
    except Exception as error:
        logger.exception("Webhook event %s failed", event_id)
        WebhookEvent.objects.filter(pk=event_id).update(
            error=f"{type(error).__name__}: {error}"[:5000]
        )
        return "error"


def _process(event: WebhookEvent) -> str:
    try:
        payload = json.loads(bytes(event.body))
    except (ValueError, UnicodeDecodeError) as error:
        return _finish(event, WebhookEventStatus.FAILED, f"The body is not JSON: {error}")
    event.object_type = str(payload.get("object", ""))[:64] if isinstance(payload, dict) else ""
    events = parsers.parse(payload)
    notes = [item.reason for item in events if isinstance(item, Unparsed)]
    if len(notes) == len(events):
        return _finish(event, WebhookEventStatus.IGNORED, "\n".join(notes))
    router = _Router()
    batches = _MessageBatches()
    touched: set[int] = set()
    for item in events:
        if isinstance(item, Unparsed):
            continue
        for channel in router.channels(item.route):
            if isinstance(item, MessageEvent):
                batches.add(channel, item)
            else:
                batches.flush()
                _record(channel, item)
            touched.add(channel.pk)
    batches.flush()
    Channel.objects.filter(pk__in=touched).update(last_event_at=event.received_at)
    if router.missing:
        keys = (
            " "
            + " ".join(
                f"{r.kind}:{r.external_id}"
                for r in sorted(router.missing, key=lambda r: (r.kind, r.external_id))
            )
            + " "
        )
        return _finish(event, WebhookEventStatus.UNROUTABLE, "\n".join(notes), keys)
    return _finish(event, WebhookEventStatus.PROCESSED, "\n".join(notes))


def unroutable_events_reopen(*, channel: Channel) -> list[int]:
    """Put back in the queue the unroutable events that mention this channel's account
    (or its WhatsApp account), with fresh attempts; returns their ids."""
    keys = [f" {channel.kind}:{channel.external_id} "]
    if channel.waba_id:
        keys.append(f" {channel.kind}:{channel.waba_id} ")
    ids: set[int] = set()
    for key in keys:
        ids.update(
            WebhookEvent.objects.filter(
                status=WebhookEventStatus.UNROUTABLE, unroutable_keys__contains=key
            ).values_list("pk", flat=True)
        )
    WebhookEvent.objects.filter(pk__in=ids).update(attempts=0)
    return sorted(ids)


def stale_pending_events(*, older_than_seconds: int = 120, limit: int = 1000) -> list[int]:
    """Events still pending after a while: their task was lost or failed."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        WebhookEvent.objects.filter(status=WebhookEventStatus.PENDING, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )


def webhook_events_retry(*, event_ids: list[int], enqueue: Callable[[int], None]) -> list[int]:
    """Give failed or stuck events fresh attempts and `enqueue` them once committed."""
    retry = list(
        WebhookEvent.objects.filter(pk__in=event_ids)
        .exclude(status__in=[WebhookEventStatus.PROCESSED, WebhookEventStatus.IGNORED])
        .values_list("pk", flat=True)
    )
    WebhookEvent.objects.filter(pk__in=retry).update(
        status=WebhookEventStatus.PENDING, attempts=0, error=""
    )
    for event_id in retry:
        transaction.on_commit(lambda event_id=event_id: enqueue(event_id))
    return retry
