"""Event forwarding: an organisation's endpoints (its own systems' URLs), the events Padu
records for them in the same transaction as each change (the outbox), and each event's
delivery to each endpoint."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TenantQuerySet
from inbox.models.messages import Message


class EventType(models.TextChoices):
    MESSAGE_CREATED = "message.created", _("A message is received or sent")
    MESSAGE_UPDATED = "message.updated", _("A message's status changes, or it is edited or deleted")
    CONVERSATION_CREATED = "conversation.created", _("A conversation starts")
    CONVERSATION_UPDATED = (
        "conversation.updated",
        _("A conversation is assigned, changes status or labels"),
    )
    CONTACT_UPDATED = "contact.updated", _("A contact's details change")
    CHANNEL_UPDATED = "channel.updated", _("A channel needs reconnecting or its quality changes")
    TEMPLATE_UPDATED = "template.updated", _("A message template's status changes")


class WebhookEndpoint(models.Model):
    """A URL of the business's own that receives the events it chose, signed."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=100, blank=True)
    events = models.JSONField(_("events"), default=list)
    secret_ciphertext = models.TextField(editable=False, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why it was turned off"), max_length=300, blank=True)
    # Since when every delivery has failed: after FORWARDING_GIVE_UP_DAYS it is turned off.
    failing_since = models.DateTimeField(null=True, blank=True)
    # One worker at a time delivers an endpoint's events, so they leave in order.
    leased_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("event forwarding endpoint")
        verbose_name_plural = _("event forwarding endpoints")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class OutboxEvent(models.Model):
    """Something that happened, as the endpoints receive it; written in the transaction
    of the change itself, so that no change is forwarded unless it was committed."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    # Events with the same key (a conversation's) reach each endpoint in the order made.
    ordering_key = models.CharField(max_length=40, blank=True)
    payload = models.JSONField()
    # For bridge mode: the message whose text goes once every endpoint has it.
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("forwarded event")
        verbose_name_plural = _("forwarded events")

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Given up")


class EventDelivery(models.Model):
    """One event on its way to one endpoint, and how its last attempt went."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    ordering_key = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        max_length=9, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("event delivery")
        verbose_name_plural = _("event deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_unique")
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "next_attempt_at", "id"],
                condition=Q(status="pending"),
                name="delivery_due",
            ),
            models.Index(
                fields=["endpoint", "ordering_key", "id"],
                condition=Q(status="pending"),
                name="delivery_pending_by_key",
            ),
            models.Index(fields=["endpoint", "-id"], name="delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"
