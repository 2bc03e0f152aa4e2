"""Delivering recorded events to the organisation's endpoints, at least once and in order
for each conversation: one worker at a time holds an endpoint's lease and posts its due
deliveries oldest first; a failed one waits (exponential backoff, up to
FORWARDING_GIVE_UP_DAYS) and holds back the later events of its conversation. An
endpoint that has failed for that long is turned off and its managers told."""

from __future__ import annotations

import json
import random
import time
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import managers_notify
from channels_meta import vault
from inbox.forwarding import addresses, signing
from inbox.models import DeliveryStatus, EventDelivery, OutboxEvent, WebhookEndpoint
from inbox.services import bridge

BATCH = 200
LEASE = timedelta(seconds=60)
FIRST_RETRY_SECONDS = 10
LONGEST_WAIT_SECONDS = 60 * 60

_transport: httpx.BaseTransport | None = None
_client: httpx.Client | None = None


def use_transport(transport: httpx.BaseTransport | None) -> None:
    """Send through `transport` (a receiver mounted in-process, in tests), or the network."""
    global _transport, _client
    _transport, _client = transport, None


def _http() -> httpx.Client:
    global _client
    if _client is None:
        timeout = httpx.Timeout(settings.FORWARDING_TIMEOUT_SECONDS, connect=3.0)
        _client = httpx.Client(timeout=timeout, follow_redirects=False, transport=_transport)
    return _client


def event_body(event: OutboxEvent) -> bytes:
    """The JSON an endpoint receives: the event's id (the same on every redelivery, for
    de-duplication), type, time and data."""
    return json.dumps(
        {
            "id": str(event.event_id),
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "data": event.payload,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def _post(endpoint: WebhookEndpoint, secret: str, event: OutboxEvent) -> tuple[int | None, str]:
    body = event_body(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Padu-Webhooks/1",
        "Padu-Event-Id": str(event.event_id),
        "Padu-Event-Type": event.type,
        signing.SIGNATURE_HEADER: signing.signature_header(secret, body),
    }
    try:
        response = _http().post(endpoint.url, content=body, headers=headers)
    except httpx.TimeoutException:
        return None, _("No answer within %(seconds)s seconds.") % {
            "seconds": settings.FORWARDING_TIMEOUT_SECONDS
        }
    except httpx.HTTPError as error:
        return None, _("Could not connect: %(kind)s.") % {"kind": type(error).__name__}
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, _("The endpoint answered %(code)d.") % {
        "code": response.status_code
    }


def _lease(endpoint_id: int, now: datetime) -> WebhookEndpoint | None:
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    taken = (
        WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True)
        .filter(free)
        .update(leased_until=now + LEASE)
    )
    if not taken:
        return None
    return WebhookEndpoint.objects.select_related("organization").get(pk=endpoint_id)


def _held_back_keys(endpoint_id: int, now: datetime) -> list[str]:
    """The conversations (ordering keys) with a delivery waiting for its retry: their
    later events wait behind it."""
    waiting = EventDelivery.objects.filter(
        endpoint_id=endpoint_id, status=DeliveryStatus.PENDING, next_attempt_at__gt=now
    ).exclude(ordering_key="")
    return list(waiting.values_list("ordering_key", flat=True).distinct())


def _due(endpoint_id: int, now: datetime) -> QuerySet[EventDelivery]:
    """The endpoint's due deliveries, oldest first, without those of a conversation that
    has one waiting for its retry. (The waiting keys are looked up first: a join would
    be planned badly while the table's statistics lag behind a burst.)"""
    return (
        EventDelivery.objects.filter(
            endpoint_id=endpoint_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .exclude(ordering_key__in=_held_back_keys(endpoint_id, now))
        .order_by("pk")
    )


def retry_delay(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, … up to an hour between attempts, give or take a tenth."""
    seconds = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), LONGEST_WAIT_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.9, 1.1))  # noqa: S311


def _failed(delivery: EventDelivery, code: int | None, error: str, now: datetime) -> None:
    delivery.attempts += 1
    give_up_at = delivery.event.created_at + timedelta(days=settings.FORWARDING_GIVE_UP_DAYS)
    delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    if delivery.next_attempt_at > give_up_at:
        delivery.status = DeliveryStatus.FAILED
    delivery.response_code, delivery.error, delivery.last_attempt_at = code, error[:300], now
    delivery.save(
        update_fields=[
            "attempts",
            "next_attempt_at",
            "status",
            "response_code",
            "error",
            "last_attempt_at",
        ]
    )


def _delivered(deliveries: list[EventDelivery], now: datetime) -> None:
    """Mark these delivered, each with its answer's code and time, in one statement."""
    if not deliveries:
        return
    if connection.vendor != "postgresql":  # SQLite, in the demo: a row at a time is fast
        for delivery in deliveries:
            EventDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.DELIVERED,
                attempts=F("attempts") + 1,
                delivered_at=now,
                last_attempt_at=now,
                error="",
                response_code=delivery.response_code,
                duration_ms=delivery.duration_ms,
            )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_eventdelivery AS d SET status = %s, attempts = d.attempts + 1, "
            "delivered_at = %s, last_attempt_at = %s, error = '', "
            "response_code = answer.code, duration_ms = answer.ms "
            "FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) AS answer(id, code, ms) "
            "WHERE d.id = answer.id",
            [
                DeliveryStatus.DELIVERED,
                now,
                now,
                [delivery.pk for delivery in deliveries],
                [delivery.response_code for delivery in deliveries],
                [delivery.duration_ms for delivery in deliveries],
            ],
        )


def _health_record(endpoint: WebhookEndpoint, any_delivered: bool, now: datetime) -> None:
    """Note whether the endpoint works; one failing for FORWARDING_GIVE_UP_DAYS is
    turned off and the organisation's managers are told."""
    if any_delivered:
        if endpoint.failing_since:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=now)
        return
    if now - endpoint.failing_since < timedelta(days=settings.FORWARDING_GIVE_UP_DAYS):
        return
    reason = _("Every delivery failed for %(days)d days.") % {
        "days": settings.FORWARDING_GIVE_UP_DAYS
    }
    turned_off = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_reason=reason
    )
    if turned_off:
        managers_notify(
            organization=endpoint.organization,
            subject=_("Event forwarding to %(url)s was turned off") % {"url": endpoint.url},
            message=_(
                "Padu could not deliver events to %(url)s for %(days)d days and stopped trying. "
                "Turn it on again once it answers; the events it missed are sent then."
            )
            % {"url": endpoint.url, "days": settings.FORWARDING_GIVE_UP_DAYS},
            topic=f"endpoint:{endpoint.pk}",
        )


def _batch_send(endpoint: WebhookEndpoint, secret: str, batch: list[EventDelivery]) -> int:
    now = timezone.now()
    try:
        addresses.check_url(endpoint.url)
    except addresses.AddressRefused as refusal:
        for delivery in batch:
            _failed(delivery, None, str(refusal), now)
        _health_record(endpoint, False, now)
        return 0
    held_back: set[str] = set()
    delivered = []
    for delivery in batch:
        if delivery.ordering_key in held_back:
            continue
        started = time.monotonic()
        code, error = _post(endpoint, secret, delivery.event)
        delivery.response_code = code
        delivery.duration_ms = int((time.monotonic() - started) * 1000)
        if error:
            _failed(delivery, code, error, timezone.now())
            if delivery.ordering_key:
                held_back.add(delivery.ordering_key)
        else:
            delivered.append(delivery)
    _delivered(delivered, timezone.now())
    if endpoint.organization.bridge_mode:
        bridge.contents_drop(message_ids={d.event.message_id for d in delivered} - {None})
    _health_record(endpoint, bool(delivered), timezone.now())
    return len(delivered)


def _deliver_leased(endpoint_id: int, deadline: float) -> int | None:
    """Deliver while holding the endpoint's lease; None if another worker holds it."""
    endpoint = _lease(endpoint_id, timezone.now())
    if endpoint is None:
        return None
    delivered = 0
    try:
        secret = vault.decrypt_signing_secret(endpoint.secret_ciphertext, endpoint_id=endpoint.pk)
        while time.monotonic() < deadline and (
            batch := list(_due(endpoint.pk, timezone.now()).select_related("event")[:BATCH])
        ):
            delivered += _batch_send(endpoint, secret, batch)
            endpoint.refresh_from_db(fields=["is_active", "failing_since"])
            if not endpoint.is_active:
                break
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                leased_until=timezone.now() + LEASE
            )
    finally:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(leased_until=None)
    return delivered


def endpoint_deliver(*, endpoint_id: int, budget_seconds: float = 50) -> int:
    """Post the endpoint's due events, oldest first, for up to `budget_seconds`, unless
    another worker holds its lease; returns how many were delivered. Events recorded
    while the lease was held (their worker found it taken) are picked up before leaving."""
    deadline = time.monotonic() + budget_seconds
    delivered = 0
    while time.monotonic() < deadline:
        done = _deliver_leased(endpoint_id, deadline)
        if done is None:
            break
        delivered += done
        if not _due_exists(endpoint_id):
            break
    return delivered


def _due_exists(endpoint_id: int) -> bool:
    active = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).exists()
    return active and _due(endpoint_id, timezone.now()).exists()


def endpoints_due(*, now: datetime | None = None) -> list[int]:
    """The active endpoints with a delivery due, for the sweeper to hand to workers."""
    now = now or timezone.now()
    due = EventDelivery.objects.filter(
        endpoint=OuterRef("pk"), status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )
    return list(
        WebhookEndpoint.objects.filter(is_active=True)
        .filter(Exists(due))
        .values_list("pk", flat=True)
    )
