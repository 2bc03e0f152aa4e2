"""Customers' attachments taken in hand: recording only marks the messages that carry
files to fetch (`Message.media_pending`), and the messages one transaction recorded are
handed to one task when it commits; the task first makes an Attachment row per file,
with where Padu may fetch it from, or refused at once when Meta's link is not one Padu
follows. Fetching them is `inbox.services.media`.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from django.db import transaction
from django.utils.translation import gettext as _

from channels_meta.graph.calls import downloads
from channels_meta.graph.ids import NODE_ID_PATTERN
from channels_meta.models import ChannelKind
from inbox.models import Attachment, AttachmentKind, AttachmentStatus, Message

# Meta's attachment types that are files to fetch, and the kind each is.
KINDS = {
    "image": AttachmentKind.IMAGE,
    "video": AttachmentKind.VIDEO,
    "audio": AttachmentKind.AUDIO,
    "file": AttachmentKind.DOCUMENT,
    "document": AttachmentKind.DOCUMENT,
    "sticker": AttachmentKind.STICKER,
}
# Connection attribute holding the transaction's batch of messages to fetch for.
_BATCH = "padu_attachment_batch"


def downloadable(attachment: object) -> bool:
    """Whether a recorded attachment (Message.attachments item) is a file to fetch."""
    return (
        isinstance(attachment, dict)
        and attachment.get("type") in KINDS
        and bool(attachment.get("media_id") or attachment.get("url"))
    )


# After recording: one task per transaction.


class _Batch:
    """The messages with attachments one transaction recorded: handed to `enqueue` (one
    task) when it commits."""

    def __init__(self, connection, enqueue: Callable[[list[int]], object]) -> None:
        self.connection = connection
        self.enqueue = enqueue
        self.message_ids: list[int] = []

    def hand_over(self) -> None:
        if getattr(self.connection, _BATCH, None) is self:
            delattr(self.connection, _BATCH)
        self.enqueue(sorted(set(self.message_ids)))


def attachments_fetch_soon(
    *, message_ids: list[int], enqueue: Callable[[list[int]], object]
) -> None:
    """Have these messages' attachments fetched once the transaction commits: every
    call in one transaction joins the same batch, handed to `enqueue` (one task). If the
    broker is down then, the sweeper finds the messages later (they stay
    `media_pending`)."""
    if not message_ids:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        enqueue(sorted(set(message_ids)))
        return
    batch = getattr(connection, _BATCH, None)
    # A batch whose transaction was rolled back lost its callback: start another.
    waiting = (getattr(entry[1], "__self__", None) for entry in connection.run_on_commit)
    if batch is None or batch not in waiting:
        batch = _Batch(connection, enqueue)
        setattr(connection, _BATCH, batch)
        transaction.on_commit(batch.hand_over, robust=True)
    batch.message_ids.extend(message_ids)


# Taking the files in hand.


def _source(channel_kind: str, item: dict) -> tuple[str, str]:
    """(source, "") where Padu may fetch the file from, or ("", why not)."""
    media_id = str(item.get("media_id") or "")
    if channel_kind == ChannelKind.WHATSAPP and media_id:
        if NODE_ID_PATTERN.fullmatch(media_id):
            return media_id, ""
        return "", _("Meta's media id for this file is not one Padu can use.")
    url = str(item.get("url") or "")
    if downloads.media_url_allowed(url):
        return url, ""
    return "", _("The file's link is not on Meta's media hosts, so Padu did not follow it.")


def _given_name(item: dict) -> str:
    """What Meta or the customer called the file: its name, its title, or the last part
    of its link."""
    name = str(item.get("filename") or item.get("title") or "")
    if not name and item.get("url"):
        name = unquote(urlsplit(str(item["url"])).path.rsplit("/", 1)[-1])
    return name[:200]


def _row(message: Message, channel_kind: str, position: int, item: dict) -> Attachment:
    kind = KINDS[item["type"]]
    if kind == AttachmentKind.AUDIO and item.get("voice"):
        kind = AttachmentKind.VOICE
    source, refusal = _source(channel_kind, item)
    return Attachment(
        organization_id=message.organization_id,
        message=message,
        position=position,
        kind=kind,
        mime_type=str(item.get("mime_type") or "")[:100],
        file_name=_given_name(item),
        source=source,
        status=AttachmentStatus.REFUSED if refusal else AttachmentStatus.PENDING,
        reason=refusal,
    )


def attachments_create(*, message_ids: list[int]) -> int:
    """Make the Attachment rows of these messages' files, once however often it runs
    (a link Padu will not follow is refused at once); returns how many messages were
    taken in hand."""
    messages = list(
        Message.objects.filter(pk__in=message_ids, media_pending=True).select_related("channel")
    )
    rows = [
        _row(message, message.channel.kind, position, item)
        for message in messages
        for position, item in enumerate(message.attachments or [])
        if downloadable(item)
    ]
    with transaction.atomic():
        Attachment.objects.bulk_create(rows, ignore_conflicts=True)
        Message.objects.filter(pk__in=[m.pk for m in messages]).update(media_pending=False)
    return len(messages)
