"""Bridge mode: an organisation that uses Padu to pass Meta's messages on to its own
systems keeps no message contents once they have them. A message's text, files and
content details (and the text in its forwarded events) are removed when every delivery
of every event about it has been acknowledged and nothing more is to happen to it: it is
not waiting to be sent and no file of it is being fetched. Its metadata stays (who, when,
which channel, its status), so later statuses still apply."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.models import (
    Attachment,
    AttachmentStatus,
    ConversationWord,
    DeliveryStatus,
    EventDelivery,
    Message,
    MessageStatus,
    OutboxEvent,
)
from inbox.services import downloads

# What of `Message.extra` is metadata, kept: statuses, and where a comment was made.
KEPT_DETAILS = {"statuses", "comment", "mention", "live", "media_product_type", "follows"}
SWEPT_AT_ONCE = 500


def _not_emptied(prefix: str = "") -> Q:
    """Never emptied, or given contents again since (an edit arrived)."""
    return (
        Q(**{f"{prefix}contents_dropped_at__isnull": True})
        | ~Q(**{f"{prefix}text": ""})
        | ~Q(**{f"{prefix}attachments": []})
    )


def _droppable(message_ids: Iterable[int]) -> QuerySet[Message]:
    events = OutboxEvent.objects.filter(message_id=OuterRef("pk"))
    unacknowledged = EventDelivery.objects.filter(
        event__message_id=OuterRef("pk"), status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
    )
    files_coming = Attachment.objects.filter(
        message_id=OuterRef("pk"), status=AttachmentStatus.PENDING
    )
    return (
        Message.objects.filter(
            pk__in=list(message_ids),
            organization__bridge_mode=True,
            media_pending=False,
        )
        .filter(_not_emptied())
        .exclude(status=MessageStatus.QUEUED)
        .filter(Exists(events))
        .exclude(Exists(unacknowledged))
        .exclude(Exists(files_coming))
    )


def _files_drop(message_ids: list[int]) -> None:
    files = Attachment.objects.filter(message_id__in=message_ids)
    for attachment in files.only("pk", "file", "thumbnail"):
        downloads.files_delete(attachment.file, attachment.thumbnail)
    files.update(
        file="",
        thumbnail="",
        file_name="",
        source="",
        sha256="",
        status=AttachmentStatus.REFUSED,
        reason=_("Forwarded, and not kept in bridge mode."),
        updated_at=timezone.now(),
    )


def _events_blank(message_ids: list[int]) -> None:
    for event in OutboxEvent.objects.filter(message_id__in=message_ids).only("pk", "payload"):
        event.payload["message"].update(text="", attachments=[])
        event.save(update_fields=["payload"])


def _words_rebuild(conversation_ids: set[int]) -> None:
    """The conversations' search words, again from the text their messages still have
    (PostgreSQL only adds words as messages come; SQLite keeps none)."""
    if connection.vendor != "postgresql":
        return
    ConversationWord.objects.filter(conversation_id__in=conversation_ids).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inbox_conversationword (conversation_id, word, organization_id) "
            "SELECT DISTINCT m.conversation_id, w.lexeme, m.organization_id "
            "FROM inbox_message m CROSS JOIN LATERAL unnest(to_tsvector('simple', m.text)) w "
            "WHERE m.conversation_id = ANY(%s) AND m.text <> '' ORDER BY 1, 2 "
            "ON CONFLICT DO NOTHING",
            [sorted(conversation_ids)],
        )


@transaction.atomic
def contents_drop(*, message_ids: Iterable[int]) -> int:
    """Remove the contents of those of these messages whose every event every endpoint
    has acknowledged, in organisations in bridge mode; returns how many were emptied.
    The messages are locked, so an edit or a status arriving meanwhile waits."""
    locked = _droppable(message_ids).select_for_update(of=("self",))
    messages = list(locked.only("pk", "conversation_id", "extra").order_by("pk"))
    if not messages:
        return 0
    now = timezone.now()
    for message in messages:
        message.text, message.attachments, message.contents_dropped_at = "", [], now
        message.extra = {key: value for key, value in message.extra.items() if key in KEPT_DETAILS}
    Message.objects.bulk_update(messages, ["text", "attachments", "extra", "contents_dropped_at"])
    emptied = [message.pk for message in messages]
    _files_drop(emptied)
    _events_blank(emptied)
    _words_rebuild({message.conversation_id for message in messages})
    return len(emptied)


def contents_sweep() -> int:
    """Empty the messages whose events were all acknowledged before the last thing
    they waited for happened (a reply sent, a file fetched); returns how many."""
    waiting = (
        OutboxEvent.objects.filter(organization__bridge_mode=True, message__isnull=False)
        .filter(_not_emptied("message__"))
        .values_list("message_id", flat=True)
        .distinct()
    )
    emptied, after = 0, 0
    waiting = waiting.order_by("message_id")
    while batch := list(waiting.filter(message_id__gt=after)[:SWEPT_AT_ONCE]):
        emptied += contents_drop(message_ids=batch)
        after = batch[-1]
    return emptied
