"""Data requests: someone asks Padu to export, erase, correct, restrict or stop using
their data, and the request is tracked from receipt to its outcome within the legal
month (GDPR's and KVKK's)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TenantQuerySet

ANSWER_WITHIN = timedelta(days=30)
DISCONNECTED_CHANNEL_DAYS = 30


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access and export")
    ERASURE = "erasure", _("Erasure")
    RECTIFICATION = "rectification", _("Rectification")
    RESTRICTION = "restriction", _("Restriction")
    OBJECTION = "objection", _("Objection")


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    VERIFIED = "verified", _("Verified")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")


class RequestSource(models.TextChoices):
    META_DATA_DELETION = "meta_data_deletion", _("Meta's data deletion callback")


def confirmation_code() -> str:
    """What the person keeps to follow the request; unguessable (80 random bits)."""
    return secrets.token_hex(10)


def _due() -> datetime:
    return timezone.now() + ANSWER_WITHIN


class DataRequest(models.Model):
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the request concerns no one organisation (Meta's callbacks)."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=RequestKind.choices)
    source = models.CharField(_("came from"), max_length=24, choices=RequestSource.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Padu user"),
    )
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    # The channels a Meta callback named (their person connected them); erased ones drop out.
    channels = models.ManyToManyField(
        "channels_meta.Channel", blank=True, related_name="+", verbose_name=_("channels")
    )
    # When a worker took the request in hand; one taken long ago was cut off.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The app-scoped id Meta's callback named; kept only until the request is carried out.
    meta_user_id = models.CharField(_("Meta user id"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), default=_due)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    confirmation_code = models.CharField(
        _("confirmation code"), max_length=32, unique=True, default=confirmation_code
    )
    reason = models.TextField(_("reason"), blank=True)
    # What was done, in numbers (rows and files erased by kind): the proof kept afterwards.
    outcome = models.JSONField(_("outcome"), default=dict, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("data request")
        verbose_name_plural = _("data requests")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"], name="data_request_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request #{self.pk}"


class RetentionPolicy(models.Model):
    """How long an organisation keeps its customers' data; its owners choose. Without a
    row, conversations are kept while the organisation uses Padu, and a disconnected
    channel's data for DISCONNECTED_CHANNEL_DAYS."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="+")
    conversation_days = models.PositiveIntegerField(
        _("delete conversations after (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_(
            "Days after a conversation's last message. Empty: keep conversations while "
            "the organisation uses Padu."
        ),
    )
    disconnected_channel_days = models.PositiveSmallIntegerField(
        _("delete a disconnected channel's data after (days)"),
        default=DISCONNECTED_CHANNEL_DAYS,
        validators=[MaxValueValidator(DISCONNECTED_CHANNEL_DAYS)],
        help_text=_("At most 30: its customers' conversations, messages and files."),
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")

    def __str__(self) -> str:
        return f"Retention of {self.organization_id}"
