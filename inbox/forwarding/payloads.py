"""What each forwarded event carries about its rows (`data` in the event's body). Built
when the change is recorded, so an endpoint receives the state the event is about."""

from __future__ import annotations

from datetime import datetime

from channels_meta.models import Channel, MessageTemplate
from inbox.models import Contact, Conversation, Message


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def contact_data(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "channel": contact.channel_id,
        "external_id": contact.external_id,
        "display_name": contact.display_name,
        "name": contact.name,
        "username": contact.username,
        "phone": contact.phone,
        "custom_name": contact.custom_name,
        "email": contact.email,
        "notes": contact.notes,
        "marketing_opt_out": contact.marketing_opt_out,
    }


def conversation_data(conversation: Conversation) -> dict:
    """The conversation (its contact and channel loaded with it)."""
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "status": conversation.status,
        "snoozed_until": _time(conversation.snoozed_until),
        "channel": {"id": conversation.channel_id, "kind": conversation.channel.kind},
        "contact": contact_data(conversation.contact),
        "assignee": conversation.assignee.email if conversation.assignee else None,
        "labels": sorted(label.name for label in conversation.labels.all()),
        "last_message_at": _time(conversation.last_message_at),
    }


def message_data(message: Message) -> dict:
    """The message, with its conversation, contact and files (loaded with it); a
    stored file is fetched through the API (`files/<id>/`)."""
    conversation = message.conversation
    return {
        "message": {
            "id": message.pk,
            "direction": message.direction,
            "kind": message.kind,
            "status": message.status,
            "text": message.text,
            "attachments": [
                {"type": item.get("type", ""), "name": item.get("name", "")}
                for item in message.attachments
                if isinstance(item, dict)
            ],
            "files": [
                {
                    "id": stored.pk,
                    "kind": stored.kind,
                    "mime_type": stored.mime_type,
                    "size": stored.size,
                    "status": stored.status,
                }
                for stored in message.files.all()
            ],
            "send_mode": message.send_mode,
            "author": message.author.email if message.author else None,
            "external_id": message.external_id,
            "reply_to_external_id": message.reply_to_external_id,
            "reaction": message.reaction,
            "is_deleted": message.is_deleted,
            "error_code": message.error_code,
            "error_reason": message.error_reason,
            "sent_at": _time(message.sent_at),
            "delivered_at": _time(message.delivered_at),
            "read_at": _time(message.read_at),
            "contents_dropped_at": _time(message.contents_dropped_at),
        },
        "conversation": {
            "id": conversation.pk,
            "kind": conversation.kind,
            "channel": {"id": conversation.channel_id, "kind": conversation.channel.kind},
        },
        "contact": contact_data(conversation.contact),
    }


def channel_data(channel: Channel) -> dict:
    """The channel's connection and health (never its token)."""
    return {
        "id": channel.pk,
        "kind": channel.kind,
        "name": channel.name,
        "external_id": channel.external_id,
        "status": channel.status,
        "problems": [str(problem) for problem in channel.problems],
        "quality_rating": channel.quality_rating,
        "messaging_limit": channel.messaging_limit,
        "account_status": channel.account_status,
    }


def template_data(template: MessageTemplate) -> dict:
    return {
        "id": template.pk,
        "channel": template.channel_id,
        "name": template.name,
        "language": template.language,
        "status": template.status,
        "category": template.category,
        "status_reason": template.status_reason,
        "quality_score": template.quality_score,
    }
