"""Data requests: someone asks Padu to export, erase, correct, restrict or stop using
their data, and the request is tracked from receipt to its outcome within the legal
month (GDPR's and KVKK's)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TenantQuerySet

ANSWER_WITHIN = timedelta(days=30)
DISCONNECTED_CHANNEL_DAYS = 30
ORDER_RECORD_YEARS = 10


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
    PUBLIC_FORM = "public_form", _("The organisation's public request page")
    STAFF = "staff", _("Recorded by staff")
    ACCOUNT = "account", _("A Padu user deleting their account")


# What a customer of a business may ask for on its public page, and staff record for them.
CUSTOMER_KINDS = (
    RequestKind.ACCESS,
    RequestKind.ERASURE,
    RequestKind.RESTRICTION,
    RequestKind.OBJECTION,
)
OPEN_STATUSES = (RequestStatus.VERIFIED, RequestStatus.IN_PROGRESS, RequestStatus.FAILED)
# How each count of an outcome is named to people.
OUTCOME_LABELS = {
    "messages": _("Messages erased"),
    "attachments": _("Files erased"),
    "notes": _("Notes erased"),
    "conversations": _("Conversations erased"),
    "contacts": _("Contacts erased"),
    "pictures": _("Profile pictures erased"),
    "webhook_events": _("Meta's deliveries erased"),
    "channels": _("Channels deleted"),
    "contacts_restricted": _("Contacts restricted"),
    "contacts_opted_out": _("Contacts opted out of marketing"),
    "exports": _("Copies of data deleted"),
    "records_exported": _("Records exported"),
    "files_exported": _("Files exported"),
}


def confirmation_code() -> str:
    """What the person keeps to follow the request; unguessable (80 random bits)."""
    return secrets.token_hex(10)


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
    # How the person named themselves to a business (a handle, a phone number or an
    # e-mail address), and the contacts its admins matched to them.
    subject_identifier = models.CharField(_("handle, phone or e-mail"), max_length=200, blank=True)
    contacts = models.ManyToManyField(
        "inbox.Contact", blank=True, related_name="+", verbose_name=_("contacts")
    )
    requester_email = models.EmailField(_("the person's e-mail address"), blank=True)
    details = models.TextField(_("details"), max_length=2000, blank=True)
    # The language the person wrote in, for the e-mails they get back.
    language = models.CharField(_("language"), max_length=16, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved or rejected by"),
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
    due_at = models.DateTimeField(_("due"), blank=True)
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
        indexes = [
            models.Index(fields=["status", "due_at"], name="data_request_open"),
            models.Index(fields=["organization", "due_at"], name="data_request_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request #{self.pk}"

    def save(self, *args, **kwargs) -> None:
        if self.due_at is None:
            self.due_at = self.received_at + ANSWER_WITHIN
        super().save(*args, **kwargs)

    @property
    def outcome_rows(self) -> list[tuple[str, int]]:
        return [(OUTCOME_LABELS.get(name, name), count) for name, count in self.outcome.items()]

    @property
    def found_nothing(self) -> bool:
        """Completed with nothing done: the organisation held nothing on the person."""
        return not any(self.outcome.values())

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()


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
    order_record_years = models.PositiveSmallIntegerField(
        _("anonymize order records after (years)"),
        default=ORDER_RECORD_YEARS,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_(
            "Orders customers placed are kept for the books after their conversations go; "
            "after these years, who placed each is forgotten."
        ),
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")

    def __str__(self) -> str:
        return f"Retention of {self.organization_id}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class Export(models.Model):
    """A ZIP of data someone asked to download: everything an organisation holds (asked
    by an owner), or, with no organisation, everything Padu keeps about the person who
    asked, or what an organisation holds about a customer (for their data request).
    Built by a worker; the file is deleted once it expires."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    data_request = models.ForeignKey(
        DataRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("percent done"), default=0)
    file = models.FileField(_("file"), max_length=300, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    reason = models.CharField(_("why it failed"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    # When a worker took it in hand; one taken long ago was cut off.
    claimed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Export #{self.pk}"

    @property
    def is_pending(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)


class AccessLogEntry(models.Model):
    """One request a signed-in person made: kept 90 days, and part of their own export."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The person's record, not the organisation's: it outlives the organisation.
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("address (without its query)"), max_length=500)
    status = models.PositiveSmallIntegerField(_("answer"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="access_log_user_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"
