"""What customers (and the business) do to messages already sent: react, edit, delete.
A change about a message Padu has not recorded yet waits as a `PendingChange` and is
applied when the message is recorded, as receipts wait in `PendingReceipt`."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from channels_meta.models import Channel
from channels_meta.webhooks.events import DeletionEvent, EditEvent, ReactionEvent
from inbox.models import EventType, Message, PendingChange, PendingChangeKind
from inbox.services import outbox


def _wait(channel: Channel, external_id: str, kind: str, data: dict, at: datetime) -> None:
    if external_id:
        PendingChange.objects.create(
            organization_id=channel.organization_id,
            channel=channel,
            external_id=external_id,
            kind=kind,
            data=data,
            at=at,
        )


def _target(channel: Channel, external_id: str) -> QuerySet[Message]:
    """The message a change is about; none for an empty id (messages not sent yet have
    no Meta id, and a change naming none must not touch them)."""
    return Message.objects.filter(channel=channel, external_id=external_id).exclude(external_id="")


def _forward(channel: Channel, target: QuerySet[Message]) -> None:
    """Endpoints that want `message.updated` hear of the changed message."""
    if outbox.wanted(channel.organization_id, EventType.MESSAGE_UPDATED):
        outbox.messages_forward(
            organization_id=channel.organization_id,
            message_ids=target.values_list("pk", flat=True),
            event_type=EventType.MESSAGE_UPDATED,
        )


def reaction_record(*, channel: Channel, event: ReactionEvent) -> bool:
    """The customer reacted to a message (an empty emoji takes the reaction back)."""
    target = _target(channel, event.target_external_id)
    if target.exclude(reaction=event.emoji).update(reaction=event.emoji):
        _forward(channel, target)
        return True
    if not target.exists():
        _wait(
            channel,
            event.target_external_id,
            PendingChangeKind.REACTION,
            {"emoji": event.emoji},
            event.at,
        )
    return False


def _edit(message: Message, text: str, attachments: list | None, extra: dict, at: str) -> bool:
    """Give `message` its new text (and attachments), keeping the earlier version in
    `extra["edits"]`; the same edit delivered again changes nothing."""
    if text == message.text and attachments in (None, message.attachments):
        return False
    earlier = {"text": message.text, "replaced_at": at, **extra}
    if attachments is not None:
        earlier["attachments"] = message.attachments
        message.attachments = attachments
    message.extra = {**message.extra, "edits": [*message.extra.get("edits", []), earlier]}
    message.text = text
    return True


def edit_record(*, channel: Channel, event: EditEvent) -> bool:
    """The sender edited a message: it shows the new text; the old one stays in its
    history."""
    attachments = list(event.attachments) if event.attachments is not None else None
    message = _target(channel, event.target_external_id).first()
    if message is None:
        data = {"text": event.text, "attachments": attachments, "extra": event.extra}
        _wait(channel, event.target_external_id, PendingChangeKind.EDIT, data, event.at)
        return False
    if _edit(message, event.text, attachments, event.extra, event.at.isoformat()):
        message.save(update_fields=["text", "attachments", "extra"])
        _forward(channel, Message.objects.filter(pk=message.pk))
        return True
    return False


def deletion_record(*, channel: Channel, event: DeletionEvent) -> bool:
    """The sender deleted a message: it is marked deleted (staff still see it was there)."""
    target = _target(channel, event.target_external_id)
    if target.update(is_deleted=True):
        _forward(channel, target)
        return True
    _wait(channel, event.target_external_id, PendingChangeKind.DELETION, {}, event.at)
    return False


@transaction.atomic(savepoint=False)
def pending_changes_apply(*, channel: Channel, external_ids: list[str]) -> None:
    """Apply the reactions, edits and deletions that waited for these messages, now
    recorded, in the order Meta reported them (one query when none waited)."""
    if not external_ids:
        return
    waiting = list(
        PendingChange.objects.filter(channel=channel, external_id__in=external_ids).order_by(
            "at", "pk"
        )
    )
    if not waiting:
        return
    messages = {
        message.external_id: message
        for message in Message.objects.filter(
            channel=channel, external_id__in={change.external_id for change in waiting}
        )
    }
    changed: dict[str, set[str]] = {}
    for change in waiting:
        message = messages.get(change.external_id)
        if message is None:
            continue
        fields = changed.setdefault(change.external_id, set())
        if change.kind == PendingChangeKind.REACTION:
            message.reaction = str(change.data.get("emoji", ""))
            fields.add("reaction")
        elif change.kind == PendingChangeKind.DELETION:
            message.is_deleted = True
            fields.add("is_deleted")
        elif _edit(
            message,
            str(change.data.get("text", "")),
            change.data.get("attachments"),
            change.data.get("extra") or {},
            change.at.isoformat(),
        ):
            fields.update({"text", "attachments", "extra"})
    for external_id, fields in changed.items():
        if fields:
            messages[external_id].save(update_fields=sorted(fields))
    PendingChange.objects.filter(pk__in=[change.pk for change in waiting]).delete()
