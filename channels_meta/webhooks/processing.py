"""From Meta's webhook to the inbox: store the raw delivery first, then process it
exactly once, whatever Meta, the broker or the worker does."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from channels_meta.graph.ids import NODE_ID_PATTERN
from channels_meta.models import HOLDING_STATUSES, Channel, WebhookEvent, WebhookEventStatus
from channels_meta.services import health
from channels_meta.webhooks import parsers
from channels_meta.webhooks.events import (
    Route,
    Unparsed,
)
from inbox.services.recording import InboxEvent, events_record
from padu.transactions import redoable_transaction

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRYABLE = [WebhookEventStatus.PENDING, WebhookEventStatus.UNROUTABLE]


def webhook_event_store(*, body: bytes, enqueue: Callable[[int], None]) -> int:
    """Keep a verified delivery exactly as received; `enqueue` its processing once the
    row is committed (if that fails, the sweeper finds the event later). Returns its id."""
    event_id = WebhookEvent.objects.store(body)

    def hand_over() -> None:
        try:
            enqueue(event_id)
        except Exception:  # the broker is down: the event is safe, the sweeper retries
            logger.warning("Webhook event %s stored but not enqueued", event_id, exc_info=True)

    transaction.on_commit(hand_over)
    return event_id


def _claim_attempts(event_ids: list[int]) -> list[int]:
    """Count an attempt for each event before trying; events out of attempts are marked
    failed. Returns the ids that may be tried."""
    with redoable_transaction():
        WebhookEvent.objects.filter(
            pk__in=event_ids, status=WebhookEventStatus.PENDING, attempts__gte=MAX_ATTEMPTS
        ).update(status=WebhookEventStatus.FAILED, processed_at=timezone.now())
        claimed = list(
            WebhookEvent.objects.filter(
                pk__in=event_ids, status__in=RETRYABLE, attempts__lt=MAX_ATTEMPTS
            ).values_list("pk", flat=True)
        )
        WebhookEvent.objects.filter(pk__in=claimed).update(attempts=F("attempts") + 1)
    return claimed


class _Router:
    """Channels for the routes in a batch of deliveries, each looked up once."""

    def __init__(self) -> None:
        self.found: dict[Route, list[Channel]] = {}

    def channels(self, route: Route) -> list[Channel]:
        if route not in self.found:
            connected = Channel.objects.connected().select_related("organization")
            if route.by_waba:
                channels = list(connected.filter(kind=route.kind, waba_id=route.external_id))
            else:
                channels = list(connected.filter(kind=route.kind, external_id=route.external_id))
            self.found[route] = channels
        return self.found[route]


def webhook_event_process(*, event_id: int) -> str:
    """Process one stored delivery; see `webhook_events_process`."""
    return webhook_events_process(event_ids=[event_id]).get(event_id, "skipped")


def webhook_events_process(*, event_ids: list[int]) -> dict[int, str]:
    """Process stored deliveries together, in one transaction: every entry and item,
    each message recorded once. Returns each event's new status ("skipped" when another
    worker has it or it is done, "error" when it failed). If the batch fails, each
    event is tried alone so one bad delivery does not hold back the others."""
    claimed = _claim_attempts(event_ids)
    if not claimed:
        return {}
    try:
        # Lost in a crash, the derived rows go with the events' `processed` mark, and
        # the events, stored durably by the webhook endpoint, are processed again.
        with redoable_transaction():
            events = list(
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(pk__in=claimed, status__in=RETRYABLE)
                .order_by("pk")
            )
            return _process(events)
    except Exception as error:
        if len(claimed) > 1:
            return {pk: _process_alone(pk) for pk in claimed}
        logger.exception("Webhook event %s failed", claimed[0])
        WebhookEvent.objects.filter(pk=claimed[0]).update(
            error=f"{type(error).__name__}: {error}"[:5000]
        )
        return {claimed[0]: "error"}


def _process_alone(event_id: int) -> str:
    # Its attempt was counted with the batch; this try is part of it.
    WebhookEvent.objects.filter(pk=event_id, attempts__gt=0).update(attempts=F("attempts") - 1)
    return webhook_event_process(event_id=event_id)


def _process(events: list[WebhookEvent]) -> dict[int, str]:
    router = _Router()
    inbox_events: dict[Channel, list[InboxEvent]] = {}
    touched: set[int] = set()
    outcomes: dict[tuple, list[int]] = {}
    for event in events:
        status, notes, missing = _process_one(event, router, inbox_events, touched)
        keys = " ".join(
            f"{r.kind}:{r.external_id}"
            for r in sorted(missing, key=lambda r: (r.kind, r.external_id))
        )
        outcome = (status, "\n".join(notes)[:5000], f" {keys} " if keys else "", event.object_type)
        outcomes.setdefault(outcome, []).append(event.pk)
    for channel, channel_events in inbox_events.items():
        events_record(channel=channel, events=channel_events)
    if touched:
        Channel.objects.filter(pk__in=touched).update(last_event_at=events[-1].received_at)
    now = timezone.now()
    for (status, error, keys, object_type), pks in outcomes.items():
        WebhookEvent.objects.filter(pk__in=pks).update(
            status=status,
            error=error,
            unroutable_keys=keys[:1000],
            object_type=object_type,
            processed_at=now,
        )
    return {pk: outcome[0] for outcome, pks in outcomes.items() for pk in pks}


def _process_one(
    event: WebhookEvent,
    router: _Router,
    inbox_events: dict[Channel, list[InboxEvent]],
    touched: set[int],
) -> tuple[str, list[str], set[Route]]:
    try:
        payload = json.loads(bytes(event.body))
    except (ValueError, UnicodeDecodeError) as error:
        return WebhookEventStatus.FAILED, [f"The body is not JSON: {error}"], set()
    event.object_type = str(payload.get("object", ""))[:64] if isinstance(payload, dict) else ""
    items = parsers.parse(payload)
    notes = [item.reason for item in items if isinstance(item, Unparsed)]
    # Something a customer sent that Padu could not store fails the event, with the
    # reason, so it is seen and can be replayed; other notes are deliberate omissions.
    lost = any(isinstance(item, Unparsed) and item.lost for item in items)
    if len(notes) == len(items):
        return (WebhookEventStatus.FAILED if lost else WebhookEventStatus.IGNORED), notes, set()
    missing: set[Route] = set()
    for item in items:
        if isinstance(item, Unparsed):
            continue
        channels = router.channels(item.route)
        if not channels:
            missing.add(item.route)
        for channel in channels:
            if isinstance(item, health.HEALTH_EVENTS):
                health.health_event_record(channel=channel, event=item)
            else:
                inbox_events.setdefault(channel, []).append(item)
            touched.add(channel.pk)
    if missing:
        return WebhookEventStatus.UNROUTABLE, notes, missing
    return (WebhookEventStatus.FAILED if lost else WebhookEventStatus.PROCESSED), notes, missing


def unroutable_events_reopen(*, channel: Channel) -> list[int]:
    """Put back in the queue the recent unroutable events (WEBHOOK_REPLAY_MAX_AGE_DAYS)
    that mention this connected channel's account (or its WhatsApp account), with fresh
    attempts; returns their ids. The ids are the channel's own, which come only from
    Meta's answers when it was connected; older events stay where they are."""
    if channel.status not in HOLDING_STATUSES:
        return []
    meta_ids = [channel.external_id, *([channel.waba_id] if channel.waba_id else [])]
    if not all(NODE_ID_PATTERN.fullmatch(meta_id) for meta_id in meta_ids):
        return []
    since = timezone.now() - timedelta(days=settings.WEBHOOK_REPLAY_MAX_AGE_DAYS)
    ids: set[int] = set()
    for meta_id in meta_ids:
        ids.update(
            WebhookEvent.objects.filter(
                status=WebhookEventStatus.UNROUTABLE,
                received_at__gte=since,
                unroutable_keys__contains=f" {channel.kind}:{meta_id} ",
            ).values_list("pk", flat=True)
        )
    WebhookEvent.objects.filter(pk__in=ids).update(attempts=0)
    return sorted(ids)


def stale_pending_events(*, older_than_seconds: int = 30, limit: int = 1000) -> list[int]:
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
