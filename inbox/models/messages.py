"""Messages in a conversation, either way, and how far each outbound one has got."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TenantQuerySet
from channels_meta.models import Channel
from inbox.models.conversations import Conversation


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


class SendMode(models.TextChoices):
    """How an outbound message goes to Meta; empty for what Padu did not send."""

    RESPONSE = "response", _("Reply")
    HUMAN_AGENT = "human_agent", _("Reply by a person (human agent tag)")
    TEMPLATE = "template", _("Message template")
    PUBLIC_REPLY = "public", _("Public reply to a comment")
    PRIVATE_REPLY = "private", _("Private reply to a comment")


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
    send_mode = models.CharField(max_length=12, choices=SendMode.choices, blank=True)
    # Set when a worker takes the message to send it, so two deliveries never both call Meta.
    send_claimed_at = models.DateTimeField(null=True, blank=True)
    # Recorded with attachments to fetch from Meta, until a worker has taken them in hand
    # (made their Attachment rows); the sweeper finds those whose task was lost.
    media_pending = models.BooleanField(default=False)
    # The API caller's Idempotency-Key for a message it sent: a retry returns this message.
    idempotency_key = models.CharField(max_length=100, blank=True, editable=False)
    # Bridge mode: when its text, files and content details were removed, every
    # endpoint having acknowledged them.
    contents_dropped_at = models.DateTimeField(null=True, blank=True)
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
            ),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="message_unique_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "sent_at"]),
            models.Index(
                fields=["created_at"], condition=Q(media_pending=True), name="message_media_pending"
            ),
            # What was recorded lately in an organisation: the live poll's notifications.
            models.Index(fields=["organization", "created_at"], name="message_org_recorded"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.text[:40]}"
