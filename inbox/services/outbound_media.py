"""Files staff send to customers: checked by their content against what the channel
takes (`policy.ATTACHMENT_LIMITS`, `inbox.filetypes`), kept as the outbound message's
Attachment through Django's storage API under a name nobody can guess, and handed to
Meta when the message is delivered: uploaded to WhatsApp or Messenger (once: a retry
reuses Meta's id), or, for Instagram, fetched by Meta from a signed link that lasts an
hour and names that one file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.errors import RuleError
from channels_meta.graph.calls import sending, uploads
from channels_meta.models import Channel, ChannelKind
from inbox import filetypes, policy
from inbox.models import Attachment, AttachmentKind, AttachmentStatus, Direction, Message, SendMode
from inbox.services.downloads import files_delete

# Signed links to outbound files: their own salt, so no other signed value of Padu's
# opens a file, and an hour for Meta to fetch the file.
SIGNED_LINK_SALT = "padu.inbox.outbound-file"
SIGNED_LINK_SECONDS = 60 * 60
# Messenger's and Instagram's attachment type for each kind of file Padu sends.
ATTACHMENT_TYPES = {AttachmentKind.IMAGE: "image", AttachmentKind.DOCUMENT: "file"}


class FileRefused(RuleError):
    """The channel does not take the file; the message says why, in words."""


@dataclass(frozen=True)
class CheckedFile:
    """A file a member chose, checked: what it is and the name it is sent under."""

    upload: UploadedFile
    kind: str  # AttachmentKind: image | document
    mime_type: str
    name: str
    thumbnail: bytes | None = field(default=None, repr=False)

    def item(self) -> dict[str, str]:
        """The file as `Message.attachments` lists it (the shape customers' files have)."""
        return {"type": self.kind, "filename": self.name, "mime_type": self.mime_type}


def file_check(*, upload: UploadedFile, channel_kind: str) -> CheckedFile:
    """What the file is, judged by its content, when the channel takes it; FileRefused
    with the reason otherwise (a program, a web page, a type or size Meta refuses)."""
    try:
        found = filetypes.identify(upload, declared_type=upload.content_type or "")
        refusal = policy.attachment_refusal(
            channel_kind, family=found.family, mime_type=found.mime_type, size=upload.size or 0
        )
        if refusal:
            raise FileRefused(refusal)
        preview = filetypes.thumbnail(upload) if found.family == "image" else None
    except filetypes.Refused as refusal:
        raise FileRefused(str(refusal)) from None
    kind = AttachmentKind.IMAGE if found.family == "image" else AttachmentKind.DOCUMENT
    name = filetypes.display_name(upload.name or "", extension=found.extension, default=kind)
    return CheckedFile(upload, kind, found.mime_type, name, preview)


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def attachment_store(*, message: Message, checked: CheckedFile) -> Attachment:
    """Keep a checked file as the message's attachment (position 0), stored under an
    unguessable name with a thumbnail for images; nothing is left in storage if this
    fails."""
    attachment = Attachment(
        organization_id=message.organization_id,
        message=message,
        position=0,
        kind=checked.kind,
        mime_type=checked.mime_type,
        size=checked.upload.size,
        file_name=checked.name,
        status=AttachmentStatus.STORED,
        sha256=_sha256(checked.upload),
    )
    try:
        checked.upload.seek(0)
        attachment.file.save(checked.name, File(checked.upload), save=False)
        if checked.thumbnail is not None:
            attachment.thumbnail.save("thumbnail.jpg", ContentFile(checked.thumbnail), save=False)
        attachment.save()
    except BaseException:
        files_delete(attachment.file, attachment.thumbnail)
        raise
    return attachment


def outbound_attachment(message: Message) -> Attachment | None:
    """The file a queued outbound message carries, if any."""
    if message.direction != Direction.OUTBOUND or not message.attachments:
        return None
    return message.files.filter(status=AttachmentStatus.STORED).order_by("position").first()


# Signed links, for Meta to fetch a file (Instagram).


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SIGNED_LINK_SALT)


def signed_url(attachment: Attachment) -> str:
    """An absolute link (on SITE_URL) to one outbound file, for anyone holding it during
    the next SIGNED_LINK_SECONDS."""
    token = _signer().sign(str(attachment.pk))
    return settings.SITE_URL + reverse("outbound_file", args=[token])


def signed_attachment(*, token: str) -> Attachment | None:
    """The outbound file a signed link names while it lasts; None for a link that was
    altered or has expired, and for anything but a stored file staff sent (a customer's
    file is never served this way)."""
    try:
        value = _signer().unsign(token, max_age=SIGNED_LINK_SECONDS)
    except signing.BadSignature:  # expired links included
        return None
    if not value.isdigit():
        return None
    return (
        Attachment.objects.filter(
            pk=int(value), status=AttachmentStatus.STORED, message__direction=Direction.OUTBOUND
        )
        .exclude(file="")
        .first()
    )


# Delivering.


def _upload(attachment: Attachment, channel: Channel, token: str) -> str:
    """Meta's id for the file: the one it gave before, or a new upload's."""
    if attachment.source:
        return attachment.source
    with attachment.file.open("rb") as handle:
        if channel.kind == ChannelKind.WHATSAPP:
            media_id = uploads.whatsapp_media_upload(
                phone_number_id=channel.external_id,
                token=token,
                file=handle,
                filename=attachment.file_name,
                mime_type=attachment.mime_type,
            )
        else:
            media_id = uploads.message_attachment_upload(
                page_id=channel.external_id,
                token=token,
                attachment_type=ATTACHMENT_TYPES[attachment.kind],
                file=handle,
                filename=attachment.file_name,
                mime_type=attachment.mime_type,
            )
    # Kept so that a retry (a rate limit on the send) does not upload the file again.
    Attachment.objects.filter(pk=attachment.pk).update(source=media_id, updated_at=timezone.now())
    return media_id


def attachment_send(
    *, message: Message, attachment: Attachment, channel: Channel, token: str, recipient_id: str
) -> sending.Sent:
    """Send a message's file to the customer: WhatsApp with its caption (the message's
    text) and a document's name; Messenger and Instagram take the file alone, with the
    human agent tag when the message has it."""
    if channel.kind == ChannelKind.WHATSAPP:
        return uploads.whatsapp_media_send(
            phone_number_id=channel.external_id,
            token=token,
            to=recipient_id,
            media_type=attachment.kind,
            media_id=_upload(attachment, channel, token),
            caption=message.text,
            filename=attachment.file_name,
        )
    # Instagram takes files only by link; Messenger takes an upload.
    if channel.kind == ChannelKind.INSTAGRAM:
        source = {"url": signed_url(attachment)}
    else:
        source = {"attachment_id": _upload(attachment, channel, token)}
    return uploads.message_attachment_send(
        kind=channel.kind,
        account_id=channel.external_id,
        token=token,
        recipient_id=recipient_id,
        attachment_type=ATTACHMENT_TYPES[attachment.kind],
        instagram_login=channel.uses_instagram_login,
        tag="HUMAN_AGENT" if message.send_mode == SendMode.HUMAN_AGENT else "",
        **source,
    )
