"""Contacts, conversations and messages as the recording services would leave them."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from itertools import count

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from channels_meta.models import Channel
from inbox.models import (
    Attachment,
    AttachmentKind,
    AttachmentStatus,
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
)

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


def png(width: int = 40, height: int = 30, colour: str = "teal") -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(output, "PNG")
    return output.getvalue()


def make_attachment(message: Message, *, content: bytes | None = None, **fields) -> Attachment:
    """A stored image attachment of `message`, with its file and thumbnail in storage."""
    content = png() if content is None else content
    attachment = Attachment(
        organization_id=message.organization_id,
        message=message,
        position=fields.pop("position", 0),
        kind=fields.pop("kind", AttachmentKind.IMAGE),
        mime_type=fields.pop("mime_type", "image/png"),
        size=len(content),
        file_name=fields.pop("file_name", "photo.png"),
        status=fields.pop("status", AttachmentStatus.STORED),
        **fields,
    )
    attachment.file.save("photo.png", ContentFile(content), save=False)
    attachment.thumbnail.save("thumbnail.jpg", ContentFile(png(8, 6)), save=False)
    attachment.save()
    return attachment


def give_avatar(contact: Contact, *, colour: str = "orange") -> Contact:
    """The contact with a kept picture, in storage, as the worker leaves it."""
    contact.profile_picture_url = contact.avatar_source = (
        f"https://scontent.xx.fbcdn.net/v/{contact.external_id}.jpg"
    )
    output = io.BytesIO()
    Image.new("RGB", (128, 128), colour).save(output, "JPEG")
    contact.avatar.save("avatar.jpg", ContentFile(output.getvalue()), save=False)
    contact.save()
    return contact
