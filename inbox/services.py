"""Every change to contacts, conversations and messages goes through here.

Recording is idempotent: a message is stored once per (channel, Meta's id) whatever
how often Meta delivers it, and outbound statuses only move forward.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F
from django.db.models.functions import Greatest

from channels_meta.events import CommentEvent, MessageEvent, ReactionEvent, StatusEvent
from channels_meta.models import Channel
from inbox.models import (
    STATUS_ORDER,
    Contact,
    Conversation,
    ConversationKind,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    PendingReceipt,
)


def contact_for(
    *, channel: Channel, external_id: str, name: str = "", username: str = "", phone: str = ""
) -> Contact:
    """The channel's contact for a customer id, created on first sight; names Meta
    sends later fill in or correct what is known."""
    contact, created = Contact.objects.get_or_create(
        channel=channel,
        external_id=external_id,
        defaults={
            "organization_id": channel.organization_id,
            "name": name,
            "username": username,
            "phone": phone,
        },
    )
    if not created:
        changed = {
            field: value
            for field, value in (("name", name), ("username", username), ("phone", phone))
            if value and getattr(contact, field) != value
        }
        if changed:
            Contact.objects.filter(pk=contact.pk).update(**changed)
            for field, value in changed.items():
                setattr(contact, field, value)
    return contact


def _dm_conversation(channel: Channel, contact: Contact) -> Conversation:
    conversation, _created = Conversation.objects.get_or_create(
        contact=contact,
        kind=ConversationKind.DM,
        defaults={"organization_id": channel.organization_id, "channel": channel},
    )
    return conversation


def _touch(conversation: Conversation, at: datetime, *, inbound: bool) -> None:
    """Move the conversation's clocks forward; an inbound message counts as unread,
    reopens a resolved conversation and restarts the messaging window."""
    changes: dict = {"last_message_at": Greatest(F("last_message_at"), at)}
    queryset = Conversation.objects.filter(pk=conversation.pk)
    if inbound:
        changes["last_inbound_at"] = Greatest(F("last_inbound_at"), at)
        changes["unread_count"] = F("unread_count") + 1
        queryset.filter(status=ConversationStatus.RESOLVED).update(status=ConversationStatus.OPEN)
    # Greatest() with NULL is NULL on PostgreSQL: start the clocks first.
    queryset.filter(last_message_at__isnull=True).update(last_message_at=at)
    if inbound:
        queryset.filter(last_inbound_at__isnull=True).update(last_inbound_at=at)
    queryset.update(**changes)


def _apply_pending_receipts(message: Message) -> None:
    receipts = PendingReceipt.objects.filter(
        channel_id=message.channel_id, external_id=message.external_id
    )
    for receipt in receipts:
        _advance(
            Message.objects.filter(pk=message.pk),
            receipt.status,
            receipt.at,
            receipt.error_code,
            receipt.error_reason,
        )
    receipts.delete()


def message_record(*, channel: Channel, event: MessageEvent) -> Message | None:
    """Store a customer's message, or an echo of one the business sent; once only."""
    if not event.external_id or not event.customer_id:
        return None
    contact = contact_for(
        channel=channel,
        external_id=event.customer_id,
        name=event.customer_name,
        username=event.customer_username,
        phone=event.customer_phone,
    )
    conversation = _dm_conversation(channel, contact)
    direction = Direction.OUTBOUND if event.is_echo else Direction.INBOUND
    message, created = Message.objects.get_or_create(
        channel=channel,
        external_id=event.external_id,
        defaults={
            "organization_id": channel.organization_id,
            "conversation": conversation,
            "direction": direction,
            "text": event.text,
            "attachments": list(event.attachments),
            "reply_to_external_id": event.reply_to,
            "extra": event.extra,
            "status": MessageStatus.SENT if event.is_echo else MessageStatus.RECEIVED,
            "sent_at": event.at,
            "is_deleted": event.is_deleted,
        },
    )
    if not created:
        if event.is_deleted and not message.is_deleted:
            Message.objects.filter(pk=message.pk).update(is_deleted=True)
        if event.is_echo:
            _advance(Message.objects.filter(pk=message.pk), MessageStatus.SENT, event.at)
        return message
    _touch(conversation, event.at, inbound=not event.is_echo)
    if event.is_echo:
        _apply_pending_receipts(message)
    return message


def _advance(
    queryset, status: str, at: datetime, error_code: int | None = None, error_reason: str = ""
) -> int:
    """Move outbound messages forward to `status`, never back."""
    if status == MessageStatus.FAILED:
        return queryset.filter(status__in=[MessageStatus.QUEUED, MessageStatus.SENT]).update(
            status=MessageStatus.FAILED, error_code=error_code, error_reason=error_reason
        )
    if status not in STATUS_ORDER:
        return 0
    earlier = STATUS_ORDER[: STATUS_ORDER.index(status)]
    stamp = {
        MessageStatus.SENT: "sent_at",
        MessageStatus.DELIVERED: "delivered_at",
        MessageStatus.READ: "read_at",
    }.get(status)
    if stamp:
        queryset.filter(**{f"{stamp}__isnull": True}).update(**{stamp: at})
    return queryset.filter(status__in=earlier).update(status=status)


def status_record(*, channel: Channel, event: StatusEvent) -> int:
    """Apply a sent/delivered/read/failed report; a report about a message Padu has not
    recorded yet waits for it. Returns how many messages moved."""
    outbound = Message.objects.filter(channel=channel, direction=Direction.OUTBOUND)
    moved = 0
    if event.external_ids:
        ids = [external_id for external_id in event.external_ids if external_id]
        known = set(outbound.filter(external_id__in=ids).values_list("external_id", flat=True))
        moved += _advance(
            outbound.filter(external_id__in=known),
            event.status,
            event.at,
            event.error_code,
            event.error_reason,
        )
        PendingReceipt.objects.bulk_create(
            [
                PendingReceipt(
                    channel=channel,
                    external_id=external_id,
                    status=event.status,
                    at=event.at,
                    error_code=event.error_code,
                    error_reason=event.error_reason,
                )
                for external_id in ids
                if external_id not in known
            ],
            ignore_conflicts=True,
        )
    if event.watermark is not None and event.customer_id:
        moved += _advance(
            outbound.filter(
                conversation__contact__external_id=event.customer_id, sent_at__lte=event.watermark
            ),
            event.status,
            event.at,
        )
    return moved


def reaction_record(*, channel: Channel, event: ReactionEvent) -> bool:
    """The customer reacted to a message (an empty emoji takes the reaction back)."""
    return bool(
        Message.objects.filter(channel=channel, external_id=event.target_external_id)
        .exclude(reaction=event.emoji)
        .update(reaction=event.emoji)
    )


def comment_record(*, channel: Channel, event: CommentEvent) -> Message:
    """A comment on an Instagram post: a thread per top-level comment; replies join
    their parent's thread. The business's own comments are outbound."""
    from_business = event.customer_id == channel.external_id
    thread_id = event.parent_id or event.comment_id
    contact = None
    if not from_business:
        contact = contact_for(
            channel=channel, external_id=event.customer_id, username=event.username
        )
    conversation = Conversation.objects.filter(
        channel=channel, kind=ConversationKind.COMMENT, comment_id=thread_id
    ).first()
    if conversation is None:
        if contact is None:
            contact = contact_for(
                channel=channel, external_id=event.customer_id, username=event.username
            )
        conversation, _created = Conversation.objects.get_or_create(
            channel=channel,
            kind=ConversationKind.COMMENT,
            comment_id=thread_id,
            defaults={
                "organization_id": channel.organization_id,
                "contact": contact,
                "media_id": event.media_id,
            },
        )
    message, created = Message.objects.get_or_create(
        channel=channel,
        external_id=event.comment_id,
        defaults={
            "organization_id": channel.organization_id,
            "conversation": conversation,
            "direction": Direction.OUTBOUND if from_business else Direction.INBOUND,
            "text": event.text,
            "reply_to_external_id": event.parent_id,
            "extra": {"comment": {"media_id": event.media_id, "username": event.username}},
            "status": MessageStatus.SENT if from_business else MessageStatus.RECEIVED,
            "sent_at": event.at,
        },
    )
    if created:
        _touch(conversation, event.at, inbound=not from_business)
    return message
