"""Files in messages, as kept in storage."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TenantQuerySet
from inbox.models.messages import Message


class AttachmentKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio")
    VOICE = "voice", _("Voice note")
    DOCUMENT = "document", _("Document")
    STICKER = "sticker", _("Sticker")
    OTHER = "other", _("Other file")


class AttachmentStatus(models.TextChoices):
    PENDING = "pending", _("Being fetched from Meta")
    STORED = "stored", _("Stored")
    FAILED = "failed", _("Could not be fetched")
    REFUSED = "refused", _("Not kept")


def _storage_name(name: str, default: str) -> str:
    """A file name safe in any storage: ASCII letters, digits and dashes, and the
    extension's letters."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem = slugify(stem)[:60] or default
    extension = "".join(char for char in extension.lower() if char.isascii() and char.isalnum())
    return f"{stem}.{extension[:10]}" if extension else stem


def attachment_upload_to(instance: Attachment, filename: str) -> str:
    """`<organisation id>/<random>/<file name made safe>`: nobody can guess another
    file's name, and no name a customer or Meta chose reaches the storage unchanged."""
    return (
        f"{instance.organization_id}/{secrets.token_urlsafe(18)}/{_storage_name(filename, 'file')}"
    )


def thumbnail_upload_to(instance: Attachment, filename: str) -> str:
    return f"{instance.organization_id}/{secrets.token_urlsafe(18)}/thumbnail.jpg"


class Attachment(models.Model):
    """A file a message carried, fetched from Meta by a worker and kept in Padu's storage
    (Meta's links expire); served only to the organisation's members."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveSmallIntegerField(
        _("position in the message"), help_text=_("Its index in the message's attachments.")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AttachmentKind.choices)
    mime_type = models.CharField(_("type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=300, blank=True)
    thumbnail = models.FileField(
        _("thumbnail"), upload_to=thumbnail_upload_to, max_length=300, blank=True
    )
    # A WhatsApp media id (digits) or a link on Meta's media hosts; checked before it is
    # stored, and again before anything is downloaded.
    source = models.CharField(_("where Meta keeps it"), max_length=2000, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=AttachmentStatus.choices, default="pending"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set while a worker fetches it, so two workers never both download the same file.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["message_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "position"], name="attachment_unique_position"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(status="pending"), name="attachment_pending"
            )
        ]

    def __str__(self) -> str:
        return self.file_name or f"{self.get_kind_display()} {self.pk}"
