"""What Meta reported before Padu knew the message it is about, kept until it does."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TenantQuerySet
from channels_meta.models import Channel
from inbox.models.messages import MessageStatus


class PendingReceipt(models.Model):
    """A delivery, read or failure that Meta reported before Padu knew the message; it is
    applied when the message is recorded."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    at = models.DateTimeField()
    error_code = models.IntegerField(null=True, blank=True)
    error_reason = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id", "status"], name="pending_receipt_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.status} for {self.external_id}"


class PendingChangeKind(models.TextChoices):
    REACTION = "reaction", _("Reaction")
    EDIT = "edit", _("Edit")
    DELETION = "deletion", _("Deletion")


class PendingChange(models.Model):
    """A reaction, edit or deletion that Meta reported before the message it is about;
    it is applied when the message is recorded."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=PendingChangeKind.choices)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["channel", "external_id"], name="pending_change_target_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.external_id}"
