"""Customers' attachments fetched from Meta by a worker soon after their messages are
recorded (`inbox.services.media_intake` hands them over), checked by their content, kept
through Django's storage API, swept up when left behind, and erased with their messages.

Meta's links do not last (Messenger's and Instagram's CDN links expire; a WhatsApp media
URL lives minutes and needs the channel's token), so each file is fetched once, soon: a
worker claims a row before downloading, and only the claimant may store it. What is
refused or fails says why in `reason`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_meta.graph.calls import downloads as graph_downloads
from channels_meta.graph.errors import (
    GraphError,
    MediaTooLarge,
    RateLimited,
    TransientError,
    UnsafeRequest,
)
from channels_meta.graph.ids import NODE_ID_PATTERN
from channels_meta.models import Channel, ChannelKind
from channels_meta.services.tokens import channel_token_get, token_refusal_handled
from inbox import filetypes
from inbox.models import Attachment, AttachmentKind, AttachmentStatus, EventType, Message
from inbox.services import downloads, outbox
from inbox.services.media_intake import attachments_create

if TYPE_CHECKING:
    from channels_meta.graph.calls.downloads import Downloaded

DEFAULT_NAMES = {
    AttachmentKind.IMAGE: "image",
    AttachmentKind.VIDEO: "video",
    AttachmentKind.AUDIO: "audio",
    AttachmentKind.VOICE: "voice-note",
    AttachmentKind.DOCUMENT: "document",
    AttachmentKind.STICKER: "sticker",
    AttachmentKind.OTHER: "file",
}
# A claim older than this belongs to a worker that died; another may take the file.
CLAIM_SECONDS = 15 * 60
# Meta failing (5xx, timeouts) this many times fails the attachment.
MAX_ATTEMPTS = 5
# The sweeper takes up what was left alone this long; gives up after GIVE_UP.
SWEEP_AFTER_SECONDS = 5 * 60
GIVE_UP = timedelta(days=2)
SWEEP_BATCH = 50


# Fetching one file.


class _Settled(Exception):
    """The attachment will not be fetched: `status` (failed or refused) and why."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _claim(attachment: Attachment) -> object | None:
    """Take the attachment for this worker: the claim's time, or None when it is not
    pending or another worker has it."""
    now = timezone.now()
    stale = now - timedelta(seconds=CLAIM_SECONDS)
    claimed = (
        Attachment.objects.filter(pk=attachment.pk, status=AttachmentStatus.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .update(claimed_at=now, attempts=F("attempts") + 1, updated_at=now)
    )
    return now if claimed == 1 else None


def _mine(attachment: Attachment, claimed_at: object) -> QuerySet[Attachment]:
    return Attachment.objects.filter(
        pk=attachment.pk, status=AttachmentStatus.PENDING, claimed_at=claimed_at
    )


def _release(attachment: Attachment, claimed_at: object, *, attempt_counts: bool) -> None:
    """Give the attachment back for a later try (a rate limit's wait is no attempt)."""
    _mine(attachment, claimed_at).update(
        claimed_at=None,
        attempts=F("attempts") - (0 if attempt_counts else 1),
        updated_at=timezone.now(),
    )


def _settle(attachment: Attachment, claimed_at: object, status: str, reason: str) -> str:
    _mine(attachment, claimed_at).update(
        status=status, reason=reason[:300], claimed_at=None, updated_at=timezone.now()
    )
    return status


def _settled_for(error: GraphError) -> _Settled:
    """What a refusal from Meta (or from Padu's Graph layer) means for the file: one
    Padu will not keep is refused, one Meta would not give has failed."""
    kept_out = isinstance(error, (MediaTooLarge, UnsafeRequest))
    status = AttachmentStatus.REFUSED if kept_out else AttachmentStatus.FAILED
    return _Settled(status, downloads.refusal_reason(error))


def _download(attachment: Attachment, channel: Channel, spool: BinaryIO) -> Downloaded:
    limit = settings.MEDIA_MAX_BYTES
    if channel.kind != ChannelKind.WHATSAPP:
        # Messenger's and Instagram's links are signed: no token goes with them.
        return graph_downloads.media_download(url=attachment.source, into=spool, max_bytes=limit)
    token = channel_token_get(channel=channel)
    if token is None:
        raise _Settled(
            AttachmentStatus.FAILED,
            _("Padu has no usable token for this channel; reconnect the channel."),
        )
    with token_refusal_handled(channel):
        url = attachment.source
        if NODE_ID_PATTERN.fullmatch(attachment.source):
            media = graph_downloads.whatsapp_media_get(
                media_id=attachment.source, phone_number_id=channel.external_id, token=token
            )
            if media.size is not None and media.size > limit:
                raise MediaTooLarge("The file is too large.", limit=limit)
            url = media.url
        return graph_downloads.media_download(url=url, into=spool, max_bytes=limit, token=token)


def _kind(declared: str, family: str) -> str:
    """The attachment's kind, from what the file is, keeping what Meta said when it fits
    (a sticker is an image, a voice note is audio)."""
    if family == "image":
        return (
            AttachmentKind.STICKER if declared == AttachmentKind.STICKER else AttachmentKind.IMAGE
        )
    if family == "audio":
        return AttachmentKind.VOICE if declared == AttachmentKind.VOICE else AttachmentKind.AUDIO
    if family == "video":
        return AttachmentKind.VIDEO
    return AttachmentKind.DOCUMENT


def _keep(
    attachment: Attachment, claimed_at: object, spool: BinaryIO, downloaded: Downloaded
) -> str:
    """Check the downloaded file, store it (with a thumbnail for images) and mark the
    row stored; if the row is no longer this worker's, nothing is left in storage."""
    try:
        found = filetypes.identify(spool, declared_type=attachment.mime_type)
        preview = filetypes.thumbnail(spool) if found.family == "image" else None
    except filetypes.Refused as refusal:
        raise _Settled(AttachmentStatus.REFUSED, str(refusal)) from None
    kind = _kind(attachment.kind, found.family)
    name = filetypes.display_name(
        attachment.file_name, extension=found.extension, default=DEFAULT_NAMES[kind]
    )
    spool.seek(0)
    files = [(attachment.file, name, File(spool))]
    if preview is not None:
        files.append((attachment.thumbnail, "thumbnail.jpg", ContentFile(preview)))
    stored = downloads.files_store(
        lambda: _mine(attachment, claimed_at).update(
            status=AttachmentStatus.STORED,
            file=attachment.file.name,
            thumbnail=attachment.thumbnail.name or "",
            kind=kind,
            mime_type=found.mime_type,
            size=downloaded.size,
            sha256=downloaded.sha256,
            file_name=name,
            reason="",
            claimed_at=None,
            updated_at=timezone.now(),
        ),
        *files,
    )
    return AttachmentStatus.STORED if stored else "skipped"


def attachment_fetch(*, attachment: Attachment, channel: Channel) -> str:
    """Download one pending attachment from Meta and keep it, or record why not; a file
    is fetched by one worker at a time and stored once. Returns the new status
    ("skipped" when it was not this worker's to fetch). A rate limit, or Meta failing
    fewer than MAX_ATTEMPTS times, gives the file back and is raised for a retry."""
    status = _fetch(attachment, channel)
    if status != "skipped":
        _files_settled_forward(attachment)
    return status


def _files_settled_forward(attachment: Attachment) -> None:
    """Endpoints hear of the message again (`message.updated`, with its files' ids to
    fetch them through the API) once none of its files is still coming."""
    event_type = EventType.MESSAGE_UPDATED
    if outbox.wanted(attachment.organization_id, event_type) and not (
        Attachment.objects.filter(
            message_id=attachment.message_id, status=AttachmentStatus.PENDING
        ).exists()
    ):
        outbox.messages_forward(
            organization_id=attachment.organization_id,
            message_ids=[attachment.message_id],
            event_type=event_type,
        )


def _fetch(attachment: Attachment, channel: Channel) -> str:
    claimed_at = _claim(attachment)
    if claimed_at is None:
        return "skipped"
    attachment.refresh_from_db(fields=["attempts"])
    try:
        with downloads.spool() as spool:
            downloaded = _download(attachment, channel, spool)
            return _keep(attachment, claimed_at, spool, downloaded)
    except _Settled as settled:
        return _settle(attachment, claimed_at, settled.status, settled.reason)
    except RateLimited:
        _release(attachment, claimed_at, attempt_counts=False)
        raise
    except TransientError as error:
        if attachment.attempts >= MAX_ATTEMPTS:
            reason = downloads.unreachable_reason(attachment.attempts, error)
            return _settle(attachment, claimed_at, AttachmentStatus.FAILED, reason)
        _release(attachment, claimed_at, attempt_counts=True)
        raise
    except GraphError as error:
        settled = _settled_for(error)
        return _settle(attachment, claimed_at, settled.status, settled.reason)
    except BaseException:
        _release(attachment, claimed_at, attempt_counts=True)
        raise


def attachments_fetch(*, message_ids: list[int]) -> dict[str, int]:
    """Take these messages' attachments in hand and fetch each pending one, each stored
    once however often this runs; returns how many ended in each status. If Meta asked
    to slow down or failed, that error is raised once the others were tried, so a retry
    fetches what is left."""
    attachments_create(message_ids=message_ids)
    pending = (
        Attachment.objects.filter(message_id__in=message_ids, status=AttachmentStatus.PENDING)
        .select_related("message__channel__organization")
        .order_by("pk")
    )
    return downloads.each_fetched(
        lambda attachment: attachment_fetch(
            attachment=attachment, channel=attachment.message.channel
        ),
        pending,
    )


# Sweeping and erasing.


def attachments_sweep() -> list[list[int]]:
    """Batches of ids of messages whose attachments were left unfetched for a while (the
    task was lost, a worker died, Meta kept failing); attachments pending longer than
    GIVE_UP are failed, with the reason."""
    now = timezone.now()
    Attachment.objects.filter(status=AttachmentStatus.PENDING, created_at__lt=now - GIVE_UP).update(
        status=AttachmentStatus.FAILED,
        reason=_("Padu could not fetch the file from Meta in time."),
        claimed_at=None,
        updated_at=now,
    )
    cutoff = now - timedelta(seconds=SWEEP_AFTER_SECONDS)
    stale_claim = now - timedelta(seconds=CLAIM_SECONDS)
    message_ids = set(
        Message.objects.filter(media_pending=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
    message_ids.update(
        Attachment.objects.filter(
            status=AttachmentStatus.PENDING, created_at__lt=cutoff, updated_at__lt=cutoff
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale_claim))
        .order_by("created_at")
        .values_list("message_id", flat=True)[:1000]
    )
    ordered = sorted(message_ids)
    return [ordered[start : start + SWEEP_BATCH] for start in range(0, len(ordered), SWEEP_BATCH)]


def attachments_erase(*, messages: QuerySet[Message]) -> int:
    """Delete the stored files and thumbnails of these messages' attachments, then their
    rows, so that nothing of them is left when the messages go; returns how many
    attachments there were. A file being downloaded meanwhile is not kept either: its
    worker finds the row gone and deletes what it stored."""
    attachments = Attachment.objects.filter(message__in=messages)
    erased = 0
    for attachment in attachments.only("pk", "file", "thumbnail").iterator(chunk_size=500):
        downloads.files_delete(attachment.file, attachment.thumbnail)
        erased += 1
    attachments.delete()
    return erased
