"""Contacts, conversations and messages as the recording services would leave them."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from django.utils import timezone

from channels_meta.models import Channel
from inbox.models import Contact, Conversation, Direction, Message, MessageStatus

_serial = count(1)


def make_conversation(
    channel: Channel,
    *,
    customer: str = "",
    name: str = "Ayşe Yılmaz",
    last_inbound_at: datetime | None = None,
    **fields,
) -> Conversation:
    """A direct-message conversation whose customer last wrote at `last_inbound_at`
    (an hour ago unless told)."""
    contact = Contact.objects.create(
        organization_id=channel.organization_id,
        channel=channel,
        external_id=customer or f"customer-{next(_serial)}",
        name=name,
    )
    last = last_inbound_at or timezone.now() - timedelta(hours=1)
    return Conversation.objects.create(
        organization_id=channel.organization_id,
        channel=channel,
        contact=contact,
        last_message_at=last,
        last_inbound_at=last,
        **fields,
    )


def make_message(
    conversation: Conversation,
    *,
    text: str = "Merhaba, is the shop open today?",
    direction: str = Direction.INBOUND,
    at: datetime | None = None,
    **fields,
) -> Message:
    inbound = direction == Direction.INBOUND
    return Message.objects.create(
        organization_id=conversation.organization_id,
        channel_id=conversation.channel_id,
        conversation=conversation,
        direction=direction,
        external_id=fields.pop("external_id", f"mid.{next(_serial)}"),
        text=text,
        status=fields.pop("status", MessageStatus.RECEIVED if inbound else MessageStatus.SENT),
        sent_at=at or conversation.last_message_at or timezone.now(),
        **fields,
    )
