"""Recording events for the organisation's forwarding endpoints, in the transaction of the
change that causes them: if the change rolls back, so does its event, and a committed
change always has its event (a crash cannot lose or invent one). Each event gets one
delivery per endpoint that wants its type; the endpoints' worker is asked after commit.
An organisation with no endpoint wanting the type pays one query."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from celery import current_app
from django.db import transaction
from django.utils import timezone

from channels_meta.models import Channel, MessageTemplate
from inbox.forwarding import payloads
from inbox.models import (
    Contact,
    Conversation,
    EventDelivery,
    EventType,
    Message,
    OutboxEvent,
    WebhookEndpoint,
)
from padu.batches import delete_in_batches


def _subscribers(organization_id: int, event_type: str) -> list[int]:
    endpoints = WebhookEndpoint.objects.filter(organization_id=organization_id, is_active=True)
    return [pk for pk, events in endpoints.values_list("pk", "events") if event_type in events]


def wanted(organization_id: int, event_type: str) -> bool:
    """Whether any of the organisation's active endpoints wants this type of event."""
    return bool(_subscribers(organization_id, event_type))


def endpoints_kick(endpoint_ids: list[int]) -> None:
    """Have a worker deliver to these endpoints once this commits. (The task is found by
    name: the tasks module imports the services that record events.)"""
    deliver = current_app.tasks["inbox.tasks.endpoint_deliver"]
    for endpoint_id in endpoint_ids:
        transaction.on_commit(lambda endpoint_id=endpoint_id: deliver.delay(endpoint_id))


def _write(
    organization_id: int, event_type: str, endpoint_ids: list[int], items: list[tuple]
) -> None:
    """Store one event per (ordering key, data, message id) and its deliveries."""
    now = timezone.now()
    events = OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                organization_id=organization_id,
                type=event_type,
                ordering_key=key,
                payload=data,
                message_id=message_id,
            )
            for key, data, message_id in items
        ]
    )
    EventDelivery.objects.bulk_create(
        [
            EventDelivery(
                organization_id=organization_id,
                endpoint_id=endpoint_id,
                event=event,
                ordering_key=event.ordering_key,
                next_attempt_at=now,
            )
            for event in events
            for endpoint_id in endpoint_ids
        ]
    )
    endpoints_kick(endpoint_ids)


def messages_forward(
    *, organization_id: int, message_ids: Iterable[int], event_type: str = EventType.MESSAGE_CREATED
) -> None:
    """`message.created` (or `message.updated`) for these messages, in their order."""
    message_ids = list(message_ids)
    if not message_ids or not (endpoints := _subscribers(organization_id, event_type)):
        return
    messages = (
        Message.objects.filter(organization_id=organization_id, pk__in=message_ids)
        .select_related("conversation__contact", "conversation__channel", "author")
        .prefetch_related("files")
        .order_by("pk")
    )
    items = [
        (f"conversation:{m.conversation_id}", payloads.message_data(m), m.pk) for m in messages
    ]
    _write(organization_id, event_type, endpoints, items)


def conversations_forward(
    *, organization_id: int, conversation_ids: Iterable[int], event_type: str
) -> None:
    """`conversation.created` or `conversation.updated` for these conversations."""
    conversation_ids = list(conversation_ids)
    if not conversation_ids or not (endpoints := _subscribers(organization_id, event_type)):
        return
    conversations = (
        Conversation.objects.filter(organization_id=organization_id, pk__in=conversation_ids)
        .select_related("contact", "channel", "assignee")
        .prefetch_related("labels")
        .order_by("pk")
    )
    items = [(f"conversation:{c.pk}", payloads.conversation_data(c), None) for c in conversations]
    _write(organization_id, event_type, endpoints, items)


def contacts_forward(*, organization_id: int, contact_ids: Iterable[int]) -> None:
    """`contact.updated` for these contacts."""
    contact_ids = list(contact_ids)
    event_type = EventType.CONTACT_UPDATED
    if not contact_ids or not (endpoints := _subscribers(organization_id, event_type)):
        return
    contacts = Contact.objects.filter(organization_id=organization_id, pk__in=contact_ids)
    items = [(f"contact:{c.pk}", payloads.contact_data(c), None) for c in contacts.order_by("pk")]
    _write(organization_id, event_type, endpoints, items)


def channel_forward(*, channel: Channel) -> None:
    """`channel.updated`: the channel needs reconnecting, was disconnected, or Meta
    rated its quality or standing anew."""
    if endpoints := _subscribers(channel.organization_id, EventType.CHANNEL_UPDATED):
        items = [(f"channel:{channel.pk}", payloads.channel_data(channel), None)]
        _write(channel.organization_id, EventType.CHANNEL_UPDATED, endpoints, items)


def template_forward(*, template: MessageTemplate) -> None:
    """`template.updated`: Meta approved, rejected, paused or disabled the template."""
    if endpoints := _subscribers(template.organization_id, EventType.TEMPLATE_UPDATED):
        items = [(f"template:{template.pk}", payloads.template_data(template), None)]
        _write(template.organization_id, EventType.TEMPLATE_UPDATED, endpoints, items)


def events_erase(*, conversation_ids: Iterable[int] = (), contact_ids: Iterable[int] = ()) -> int:
    """Delete the events (and their deliveries) about these conversations and contacts:
    an erased customer's words must not wait in the outbox either."""
    keys = [f"conversation:{pk}" for pk in conversation_ids]
    keys += [f"contact:{pk}" for pk in contact_ids]
    if not keys:
        return 0
    return OutboxEvent.objects.filter(ordering_key__in=keys).delete()[1].get("inbox.OutboxEvent", 0)


def events_purge(*, before: datetime) -> int:
    """Delete events made before `before`, delivered or given up on by then (deliveries
    give up after FORWARDING_GIVE_UP_DAYS), with their deliveries' log."""
    return delete_in_batches(OutboxEvent.objects.filter(created_at__lt=before))
