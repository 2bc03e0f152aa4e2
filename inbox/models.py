from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TenantQuerySet
from channels_meta.models import Channel


class Contact(models.Model):
    """A customer as one channel knows them (Page-scoped id, Instagram-scoped id or
    WhatsApp id). A customer Meta identifies only by a WhatsApp business-scoped user id
    or a Messenger user_ref is kept under that id until Meta gives the other; `other_id`
    keeps the second kind of id, so either finds the same contact."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(_("customer id at Meta"), max_length=160)
    other_id = models.CharField(
        _("other customer id at Meta"),
        max_length=160,
        blank=True,
        help_text=_("WhatsApp business-scoped user id or Messenger user_ref."),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    username = models.CharField(_("username"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    profile_picture_url = models.URLField(_("profile picture"), max_length=1000, blank=True)
    marketing_opt_out = models.BooleanField(_("stopped marketing messages"), default=False)
    marketing_opt_out_at = models.DateTimeField(
        _("marketing preference changed"), null=True, blank=True
    )
    identity_changed_at = models.DateTimeField(
        _("security code changed"),
        null=True,
        blank=True,
        help_text=_("When WhatsApp last said the customer's identity (security code) changed."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="contact_unique")
        ]
        indexes = [
            models.Index(
                fields=["channel", "other_id"],
                condition=~Q(other_id=""),
                name="contact_other_id_idx",
            )
        ]

    def __str__(self) -> str:
        return self.name or (
            f"@{self.username}" if self.username else self.phone or self.external_id
        )


class ConversationKind(models.TextChoices):
    DM = "dm", _("Direct messages")
    COMMENT = "comment", _("Comment thread")


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")
    SNOOZED = "snoozed", _("Snoozed")


class Conversation(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    kind = models.CharField(max_length=8, choices=ConversationKind.choices, default="dm")
    status = models.CharField(
        _("status"), max_length=10, choices=ConversationStatus.choices, default="open"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A comment thread: the Instagram media and the top-level comment it hangs from.
    media_id = models.CharField(max_length=64, blank=True)
    comment_id = models.CharField(max_length=64, blank=True)
    # The ad or link that brought the customer (Meta's referral, links made safe).
    referral = models.JSONField(_("came from"), default=dict, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_inbound_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Starts the messaging window.")
    )
    unread_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(
                fields=["contact"], condition=Q(kind="dm"), name="conversation_one_dm_per_contact"
            ),
            models.UniqueConstraint(
                fields=["channel", "comment_id"],
                condition=Q(kind="comment"),
                name="conversation_one_thread_per_comment",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "-last_message_at"])]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_kind_display()})"


class Direction(models.TextChoices):
    INBOUND = "in", _("From the customer")
    OUTBOUND = "out", _("From the business")


class MessageStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


# Outbound statuses only move forward along this order; `failed` may replace a status
# that has not reached the customer yet.
STATUS_ORDER = ["queued", "sent", "delivered", "read"]


class MessageKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    SYSTEM = "system", _("System line")  # e.g. "the customer changed their number"


class Message(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=8, choices=MessageKind.choices, default="message")
    external_id = models.CharField(_("message id at Meta"), max_length=200, blank=True)
    text = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    reply_to_external_id = models.CharField(max_length=200, blank=True)
    extra = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("What else Meta sent: replies, referrals, orders, edits, statuses."),
    )
    reaction = models.CharField(_("customer's reaction"), max_length=32, blank=True)
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    error_code = models.IntegerField(null=True, blank=True)
    error_reason = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    is_deleted = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="message_unique_external_id",
            )
        ]
        indexes = [models.Index(fields=["conversation", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.text[:40]}"


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
