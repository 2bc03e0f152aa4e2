from __future__ import annotations

import re
import weakref

import psycopg
from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from psycopg import pq

from accounts.models import Organization, TenantQuerySet
from channels_meta import vault
from channels_meta.graph.errors import TOKEN_REASON_WORDS


class ChannelKind(models.TextChoices):
    MESSENGER = "messenger", _("Facebook Page (Messenger)")
    INSTAGRAM = "instagram", _("Instagram")
    WHATSAPP = "whatsapp", _("WhatsApp")


class ChannelStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    NEEDS_REAUTH = "needs_reauth", _("Needs reconnecting")
    DISCONNECTED = "disconnected", _("Disconnected")


class AccountStatus(models.TextChoices):
    """A WhatsApp Business Account's standing with Meta, from its account_update webhooks."""

    UNKNOWN = "", _("Not reported")
    GOOD = "good", _("In good standing")
    VIOLATION = "violation", _("Policy violation reported")
    RESTRICTED = "restricted", _("Restricted")
    SCHEDULED_FOR_DISABLE = "scheduled_for_disable", _("Scheduled to be disabled")
    DISABLED = "disabled", _("Disabled by Meta")
    DELETED = "deleted", _("Deleted")
    REMOVED = "removed", _("No longer shared with Padu")
    OFFBOARDED = "offboarded", _("Disconnected after a device change")


class QualityRating(models.TextChoices):
    """Meta's quality rating of a phone number or a template."""

    UNKNOWN = "", _("Not rated yet")
    GREEN = "GREEN", _("High")
    YELLOW = "YELLOW", _("Medium")
    RED = "RED", _("Low")


class DisplayNameStatus(models.TextChoices):
    """Meta's review of a WhatsApp number's display name."""

    UNKNOWN = "", _("Not reported")
    APPROVED = "APPROVED", _("Approved")
    PENDING = "PENDING", _("Pending review")
    DEFERRED = "DEFERRED", _("Review deferred")
    REJECTED = "REJECTED", _("Rejected")


# Messaging limits (business-initiated conversations with different customers in 24
# hours) as Meta names their tiers.
MESSAGING_LIMITS = {
    "TIER_50": _("50 new customers a day"),
    "TIER_250": _("250 new customers a day"),
    "TIER_1K": _("1,000 new customers a day"),
    "TIER_2K": _("2,000 new customers a day"),
    "TIER_10K": _("10,000 new customers a day"),
    "TIER_100K": _("100,000 new customers a day"),
    "TIER_UNLIMITED": _("Unlimited"),
    "TIER_NOT_SET": _("Not set yet (no message sent)"),
}


# A channel in these states holds its (kind, external id): webhooks route to it.
HOLDING_STATUSES = [ChannelStatus.ACTIVE, ChannelStatus.NEEDS_REAUTH]

# Why a channel needs reconnecting, by the key it keeps (`Channel.reauth_reason`): Meta's
# refusals of its token, and what Padu itself finds.
REAUTH_REASONS = {
    **TOKEN_REASON_WORDS,
    "account_unshared": _("The WhatsApp Business Account is no longer shared with Padu."),
    "no_token": _("Padu holds no access to this channel."),
}
# Meta's reason codes (template rejections, violations, display names) that people meet,
# in words; other codes are spelled out ("NAME_FORMAT_UNACCEPTABLE": "name format
# unacceptable").
META_REASON_WORDS = {
    "INVALID_FORMAT": _("the format is not valid"),
    "INCORRECT_CATEGORY": _("the category does not fit the content"),
    "TAG_CONTENT_MISMATCH": _("the content does not fit the category"),
    "ABUSIVE_CONTENT": _("the content breaks Meta's policies"),
    "SCAM": _("Meta takes it for a scam"),
    "PROMOTIONAL": _("it promotes something, in a category that may not"),
    "NONE": "",
}
META_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*\b")


def meta_reason_words(text: str) -> str:
    """`text` with Meta's reason codes in it (INVALID_FORMAT) as words."""

    def words(found: re.Match) -> str:
        code = found.group(0)
        if code in META_REASON_WORDS:
            return str(META_REASON_WORDS[code])
        return code.replace("_", " ").lower() if "_" in code or len(code) > 3 else code

    return META_CODE.sub(words, text).strip()


# A WhatsApp Business Account standing that someone must act on.
ACCOUNT_PROBLEMS = {
    AccountStatus.VIOLATION: _("Meta reports a policy violation on the WhatsApp Business Account."),
    AccountStatus.RESTRICTED: _("Meta restricted the WhatsApp Business Account."),
    AccountStatus.SCHEDULED_FOR_DISABLE: _(
        "Meta will disable the WhatsApp Business Account: appeal in WhatsApp Manager."
    ),
    AccountStatus.DISABLED: _(
        "Meta disabled the WhatsApp Business Account: it can no longer send messages."
    ),
    AccountStatus.DELETED: _("The WhatsApp Business Account was deleted."),
    AccountStatus.OFFBOARDED: _(
        "The number was disconnected from WhatsApp's Cloud API after a device change."
    ),
}


class ChannelQuerySet(TenantQuerySet):
    def connected(self) -> ChannelQuerySet:
        return self.filter(status__in=HOLDING_STATUSES)


class Channel(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="channels"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ChannelKind.choices)
    external_id = models.CharField(
        _("external id"),
        max_length=64,
        help_text=_("Page id, Instagram account id or WhatsApp phone number id."),
    )
    waba_id = models.CharField(_("WhatsApp Business Account id"), max_length=64, blank=True)
    page_id = models.CharField(
        _("Facebook Page id"),
        max_length=64,
        blank=True,
        help_text=_(
            "The Page an Instagram account is linked to: its webhooks come through the "
            "Page's subscription."
        ),
    )
    name = models.CharField(_("name"), max_length=200)
    handle = models.CharField(
        _("username or phone"), max_length=200, blank=True, help_text=_("@username or +phone.")
    )
    status = models.CharField(
        _("status"), max_length=14, choices=ChannelStatus.choices, default=ChannelStatus.ACTIVE
    )
    token_ciphertext = models.TextField(editable=False, blank=True)
    token_expires_at = models.DateTimeField(_("token expires"), null=True, blank=True)
    token_issued_at = models.DateTimeField(_("token issued"), null=True, blank=True)
    token_checked_at = models.DateTimeField(_("token last checked"), null=True, blank=True)
    uses_instagram_login = models.BooleanField(
        default=False,
        help_text=_("Connected with Instagram Login (graph.instagram.com) rather than a Page."),
    )
    scopes = models.JSONField(_("granted permissions"), default=list, blank=True)
    meta_user_id = models.CharField(
        _("Meta user (app-scoped id)"), max_length=64, blank=True, db_index=True
    )
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connected_at = models.DateTimeField(_("connected"), null=True, blank=True)
    disconnected_at = models.DateTimeField(_("disconnected"), null=True, blank=True)
    last_event_at = models.DateTimeField(_("last event received"), null=True, blank=True)
    human_agent_enabled = models.BooleanField(
        _("human agent replies allowed"),
        default=False,
        help_text=_(
            "Allow staff to answer Messenger and Instagram conversations 24 hours to 7 days "
            "after the customer's last message (Meta's HUMAN_AGENT tag; needs Meta's approval)."
        ),
    )

    # WhatsApp health, as Meta's webhooks last reported it.
    account_status = models.CharField(
        _("account standing"), max_length=24, choices=AccountStatus.choices, blank=True
    )
    account_restrictions = models.JSONField(
        _("account restrictions"),
        default=list,
        blank=True,
        help_text=_("Meta's restriction_info: type, expiry and remediation of each."),
    )
    account_status_detail = models.CharField(
        _("account standing detail"), max_length=300, blank=True
    )
    quality_rating = models.CharField(
        _("quality rating"), max_length=8, choices=QualityRating.choices, blank=True
    )
    messaging_limit = models.CharField(_("messaging limit"), max_length=32, blank=True)
    display_name_status = models.CharField(
        _("display name review"), max_length=10, choices=DisplayNameStatus.choices, blank=True
    )
    display_name_requested = models.CharField(
        _("requested display name"), max_length=200, blank=True
    )
    display_name_rejection = models.CharField(
        _("display name rejection reason"), max_length=64, blank=True
    )
    health_updated_at = models.DateTimeField(_("health last reported"), null=True, blank=True)
    sending_blocked_until = models.DateTimeField(
        _("sending blocked by Meta until"),
        null=True,
        blank=True,
        help_text=_("Meta temporarily blocked this account for a policy reason (error 368)."),
    )
    # Why the channel needs reconnecting: a key of REAUTH_REASONS, and the permission
    # Meta named when one is missing.
    reauth_reason = models.CharField(_("why it needs reconnecting"), max_length=32, blank=True)
    reauth_permission = models.CharField(_("missing permission"), max_length=100, blank=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "external_id"],
                condition=Q(status__in=HOLDING_STATUSES),
                name="channel_connected_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    def __repr__(self) -> str:
        return f"<Channel {self.pk} {self.kind}:{self.external_id} {self.status}>"

    @property
    def messaging_limit_display(self) -> str:
        return str(MESSAGING_LIMITS.get(self.messaging_limit, self.messaging_limit))

    @property
    def sending_blocked(self) -> bool:
        until = self.sending_blocked_until
        return until is not None and until > timezone.now()

    @property
    def notice_topic(self) -> str:
        """What notices about this channel are filed under (`Notice.topic`)."""
        return f"channel:{self.pk}"

    @property
    def reauth_reason_display(self) -> str:
        """Why the channel needs reconnecting, in a sentence for the business."""
        if self.reauth_reason == "permission_missing" and self.reauth_permission:
            return gettext(
                "Meta says the %(permission)s permission was not granted or was removed."
            ) % {"permission": self.reauth_permission}
        return str(REAUTH_REASONS.get(self.reauth_reason, REAUTH_REASONS["token_invalid"]))

    @property
    def problems(self) -> list[str]:
        """What someone must act on for this connected channel, a sentence each: its
        connection, a block on sending, and the WhatsApp health Meta reported."""
        if self.status == ChannelStatus.DISCONNECTED:
            return []
        problems = []
        if self.status == ChannelStatus.NEEDS_REAUTH:
            problems.append(
                gettext("%(reason)s Replies cannot be sent until it is reconnected.")
                % {"reason": self.reauth_reason_display}
            )
        if self.sending_blocked:
            until = formats.date_format(
                timezone.localtime(self.sending_blocked_until), "SHORT_DATETIME_FORMAT"
            )
            problems.append(
                gettext("Meta blocked sending for a policy reason until about %(date)s.")
                % {"date": until}
            )
        if self.account_status in ACCOUNT_PROBLEMS:
            problems.append(str(ACCOUNT_PROBLEMS[self.account_status]))
        if self.quality_rating == QualityRating.RED:
            problems.append(
                gettext(
                    "Meta rates the number's quality low: customers have been blocking or "
                    "reporting its messages."
                )
            )
        if self.display_name_status == DisplayNameStatus.REJECTED:
            problems.append(gettext("Meta rejected the number's display name."))
        return problems

    @property
    def display_name_rejection_display(self) -> str:
        """Meta's rejection reason (NAME_FORMAT_UNACCEPTABLE) as words."""
        return meta_reason_words(self.display_name_rejection)

    @property
    def account_status_detail_display(self) -> str:
        """What Meta said of the account's standing, its codes as words."""
        return meta_reason_words(self.account_status_detail)

    @property
    def has_token(self) -> bool:
        return bool(self.token_ciphertext)

    @sensitive_variables("token")
    def set_token(self, token: str) -> None:
        """Encrypt `token` onto this (saved) channel; the caller saves `token_ciphertext`."""
        self.token_ciphertext = vault.encrypt(token, channel_id=self.pk)

    @sensitive_variables()
    def get_token(self) -> str:
        if not self.token_ciphertext:
            raise vault.VaultError("This channel has no token.")
        return vault.decrypt(self.token_ciphertext, channel_id=self.pk)


class TemplateStatus(models.TextChoices):
    APPROVED = "APPROVED", _("Approved")
    PENDING = "PENDING", _("Pending review")
    REJECTED = "REJECTED", _("Rejected")
    PAUSED = "PAUSED", _("Paused")
    DISABLED = "DISABLED", _("Disabled")
    FLAGGED = "FLAGGED", _("Flagged: at risk of being disabled")
    IN_APPEAL = "IN_APPEAL", _("In appeal")
    ARCHIVED = "ARCHIVED", _("Archived")
    PENDING_DELETION = "PENDING_DELETION", _("Being deleted")
    DELETED = "DELETED", _("Deleted")
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED", _("Over the account's template limit")


class TemplateCategory(models.TextChoices):
    MARKETING = "MARKETING", _("Marketing")
    UTILITY = "UTILITY", _("Utility")
    AUTHENTICATION = "AUTHENTICATION", _("Authentication")


class MessageTemplate(models.Model):
    """A WhatsApp message template of a channel's WhatsApp Business Account, as Meta
    last described it."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="message_templates"
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="templates")
    meta_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=512)
    language = models.CharField(_("language"), max_length=16)
    status = models.CharField(_("status"), max_length=20, choices=TemplateStatus.choices)
    category = models.CharField(_("category"), max_length=32, blank=True)
    status_reason = models.CharField(
        _("Meta's reason"),
        max_length=500,
        blank=True,
        help_text=_("Why Meta gave the template its status (rejection, pause, disabling)."),
    )
    quality_score = models.CharField(
        _("quality"), max_length=8, choices=QualityRating.choices, blank=True
    )
    category_change_to = models.CharField(
        _("category Meta will change it to"), max_length=32, blank=True
    )
    category_change_at = models.DateTimeField(_("category changes on"), null=True, blank=True)
    components = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("WhatsApp template")
        verbose_name_plural = _("WhatsApp templates")
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "name", "language"], name="template_unique_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def category_display(self) -> str:
        return _category_words(self.category)

    @property
    def status_reason_display(self) -> str:
        """Meta's reason for the template's status, its codes as words."""
        return meta_reason_words(self.status_reason)

    @property
    def category_change_display(self) -> str:
        return _category_words(self.category_change_to)

    @property
    def body_text(self) -> str:
        for component in self.components:
            if isinstance(component, dict) and component.get("type") == "BODY":
                return str(component.get("text", ""))
        return ""


def _category_words(category: str) -> str:
    try:
        return str(TemplateCategory(category).label)
    except ValueError:
        return category.capitalize()


class WebhookEventStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")
    IGNORED = "ignored", _("Ignored")
    UNROUTABLE = "unroutable", _("No channel yet")


# The other columns start as the model's defaults say.
STORE_WEBHOOK_EVENT = b"""
    INSERT INTO channels_meta_webhookevent
        (body, received_at, status, attempts, error, object_type, unroutable_keys)
    VALUES ($1, $2, 'pending', 0, '', '', '')
    RETURNING id
"""
STORE_STATEMENT_NAME = b"padu_webhook_event_store"
STORE_PARAMETER_FORMATS = [pq.Format.BINARY, pq.Format.TEXT]
# libpq connections on which the statement is prepared (a statement outlives transactions
# and rollbacks, not its connection).
_store_prepared_on: weakref.WeakSet = weakref.WeakSet()


def _checked(result: pq.abc.PGresult, success: pq.ExecStatus) -> pq.abc.PGresult:
    """`result` if its status is `success`; otherwise the error it reports, raised as
    psycopg's exception for its SQLSTATE."""
    if result.status == success:
        return result
    message = result.error_message.decode(errors="replace").strip()
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    try:
        error_class = psycopg.errors.lookup(sqlstate.decode()) if sqlstate else None
    except KeyError:
        error_class = None
    raise (error_class or psycopg.OperationalError)(message)


class WebhookEventQuerySet(models.QuerySet):
    def store(self, body: bytes) -> int:
        """Insert a delivery as pending; returns its id. This is the webhook endpoint's one
        statement, so on PostgreSQL it runs as a prepared statement through libpq's own
        blocking call, which releases the GIL while it waits: psycopg's cursor drives libpq
        from Python and spends four times the CPU on the same round trip. There is no
        connection health check either: a broken connection fails the delivery, which Meta
        sends again, and is replaced after the request. Elsewhere, and inside a
        transaction (which psycopg opens only for what runs through it), it is `create`."""
        connection = connections[self.db]
        if connection.vendor != "postgresql" or not connection.get_autocommit():
            return self.create(body=body).pk
        pgconn = connection.connection.pgconn
        received_at = timezone.now().isoformat().encode()
        with connection.wrap_database_errors:
            if pgconn not in _store_prepared_on:
                prepared = pgconn.prepare(STORE_STATEMENT_NAME, STORE_WEBHOOK_EVENT)
                _checked(prepared, pq.ExecStatus.COMMAND_OK)
                _store_prepared_on.add(pgconn)
            result = pgconn.exec_prepared(
                STORE_STATEMENT_NAME, [body, received_at], STORE_PARAMETER_FORMATS
            )
            return int(_checked(result, pq.ExecStatus.TUPLES_OK).get_value(0, 0))


class WebhookEvent(models.Model):
    """One delivery from Meta, stored exactly as received before anything else happens."""

    body = models.BinaryField()
    object_type = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(
        max_length=12, choices=WebhookEventStatus.choices, default=WebhookEventStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # For unroutable events: " kind:id kind:id " of the accounts that had no channel.
    unroutable_keys = models.CharField(max_length=1000, blank=True)

    objects = WebhookEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=Q(status="pending"),
                name="webhook_event_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type or 'webhook'} {self.pk} ({self.status})"
