from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.validators import validate_single_line

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class TenantQuerySet(models.QuerySet):
    """Base queryset for rows owned by an organisation: every read starts from `for_org`."""

    def for_org(self, organization: Organization) -> TenantQuerySet:
        return self.filter(organization=organization)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def with_email(self, email: str) -> models.QuerySet[User]:
        """The account for this address, whatever its case: compared as the unique
        constraint compares (LOWER), so look-alike spellings never reach another account."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=email.strip().lower())

    def get_by_natural_key(self, username: str) -> User:
        return self.with_email(username).get()


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(
        _("full name"), max_length=150, blank=True, validators=[validate_single_line]
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Leave empty to follow your browser."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="UTC"
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("platform staff"),
        default=False,
        help_text=_("Can sign in to the platform administration."),
    )
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    terms_accepted_at = models.DateTimeField(_("terms and privacy policy accepted"), null=True)
    adult_confirmed_at = models.DateTimeField(_("confirmed 18 or older"), null=True)
    # The privacy policy's versions (its dates) the person accepted at sign-up, was
    # e-mailed about, and saw the in-app notice of.
    policy_version_accepted = models.CharField(max_length=20, blank=True)
    policy_version_emailed = models.CharField(max_length=20, blank=True)
    policy_version_seen = models.CharField(max_length=20, blank=True)
    email_confirmed_at = models.DateTimeField(
        _("e-mail address confirmed"),
        null=True,
        blank=True,
        help_text=_("Until then the account opens only the organisations it created."),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=120, validators=[validate_single_line])
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    require_two_factor = models.BooleanField(
        _("two-factor authentication required"),
        default=False,
        help_text=_("Members must pass a second factor before they see anything."),
    )
    bridge_mode = models.BooleanField(
        _("bridge mode"),
        default=False,
        help_text=_("Message contents are removed from Padu once every endpoint has them."),
    )
    is_suspended = models.BooleanField(_("suspended"), default=False)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    deletion_requested_at = models.DateTimeField(
        _("deletion asked for"),
        null=True,
        blank=True,
        help_text=_("Its owner deleted it: nobody opens it while a worker erases it."),
    )
    erasure_claimed_at = models.DateTimeField(
        _("erasure taken up at"),
        null=True,
        blank=True,
        help_text=_("When a worker began erasing it; another waits until this is old."),
    )
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        help_text=_("Empty when platform staff created it."),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    AGENT = "agent", _("Agent")


MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def is_manager(self) -> bool:
        """Owners and admins manage members, channels, retention and data requests."""
        return self.role in MANAGER_ROLES

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


class InvitationQuerySet(TenantQuerySet):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.AGENT)
    # Only a SHA-256 of the link's token is stored: a database leak reveals no usable link.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class AuditAction(models.TextChoices):
    SIGNED_UP = "user.signed_up", _("Signed up")
    SIGNED_IN = "user.signed_in", _("Signed in")
    EMAIL_CONFIRMED = "user.email_confirmed", _("E-mail address confirmed")
    SIGN_IN_LOCKED = "user.sign_in_locked", _("Sign-in locked after failures")
    PROFILE_CHANGED = "user.profile_changed", _("Profile changed")
    PASSWORD_CHANGED = "user.password_changed", _("Password changed")
    TWO_FACTOR_ENABLED = "user.two_factor_enabled", _("Two-factor authentication turned on")
    TWO_FACTOR_DISABLED = "user.two_factor_disabled", _("Two-factor authentication turned off")
    RECOVERY_CODES_REPLACED = "user.recovery_codes_replaced", _("New recovery codes generated")
    RECOVERY_CODE_USED = "user.recovery_code_used", _("Recovery code used")
    TWO_FACTOR_SIGN_IN_STOPPED = (
        "user.two_factor_sign_in_stopped",
        _("Sign-in stopped after wrong codes"),
    )
    ORGANIZATION_CREATED = "organization.created", _("Organisation created")
    ORGANIZATION_RENAMED = "organization.renamed", _("Organisation renamed")
    ORGANIZATION_SUSPENDED = "organization.suspended", _("Organisation suspended")
    ORGANIZATION_UNSUSPENDED = "organization.unsuspended", _("Organisation unsuspended")
    ORGANIZATION_TWO_FACTOR_REQUIRED = (
        "organization.two_factor_required",
        _("Two-factor authentication required of members"),
    )
    ORGANIZATION_TWO_FACTOR_OPTIONAL = (
        "organization.two_factor_optional",
        _("Two-factor authentication no longer required of members"),
    )
    MEMBER_ADDED = "member.added", _("Member added")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Member role changed")
    MEMBER_REMOVED = "member.removed", _("Member removed")
    MEMBER_LEFT = "member.left", _("Member left")
    INVITATION_SENT = "invitation.sent", _("Invitation sent")
    INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
    INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")
    CHANNEL_CONNECTED = "channel.connected", _("Channel connected")
    CHANNEL_RECONNECTED = "channel.reconnected", _("Channel reconnected")
    CHANNEL_DISCONNECTED = "channel.disconnected", _("Channel disconnected")
    CHANNEL_NEEDS_REAUTH = "channel.needs_reauth", _("Channel needs reconnecting")
    CHANNEL_SETTINGS_CHANGED = "channel.settings_changed", _("Channel settings changed")
    CHANNEL_DELETED = "channel.deleted", _("Channel and its data deleted")
    RETENTION_CHANGED = "organization.retention_changed", _("Retention changed")
    RETENTION_PURGED = "retention.purged", _("Data past its retention deleted")
    DATA_REQUEST_RECEIVED = "data_request.received", _("Data request received")
    DATA_REQUEST_VERIFIED = "data_request.verified", _("Data request verified")
    DATA_REQUEST_IN_PROGRESS = "data_request.in_progress", _("Data request being carried out")
    DATA_REQUEST_COMPLETED = "data_request.completed", _("Data request completed")
    DATA_REQUEST_REJECTED = "data_request.rejected", _("Data request rejected")
    DATA_REQUEST_FAILED = "data_request.failed", _("Data request failed")
    CONTACT_RESTRICTION_LIFTED = "contact.restriction_lifted", _("Contact's restriction lifted")
    EXPORT_REQUESTED = "export.requested", _("Export asked for")
    EXPORT_DOWNLOADED = "export.downloaded", _("Export downloaded")
    ACCOUNT_DELETED = "user.deleted", _("Account deleted")
    ORGANIZATION_DELETION_REQUESTED = (
        "organization.deletion_requested",
        _("Organisation's deletion asked for"),
    )
    ORGANIZATION_DELETED = "organization.deleted", _("Organisation and its data deleted")
    API_KEY_CREATED = "api_key.created", _("API key created")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
    ENDPOINT_CREATED = "endpoint.created", _("Event forwarding endpoint added")
    ENDPOINT_CHANGED = "endpoint.changed", _("Event forwarding endpoint changed")
    ENDPOINT_SECRET_ROTATED = "endpoint.secret_rotated", _("Event forwarding secret replaced")
    ENDPOINT_DELETED = "endpoint.deleted", _("Event forwarding endpoint removed")
    BRIDGE_MODE_CHANGED = "organization.bridge_mode", _("Bridge mode turned on or off")


class AuditEvent(models.Model):
    """Who did what, when and from where. Rows are only ever added."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="audit_events",
        help_text=_("Empty for events that concern no one organisation."),
    )
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # No `choices`: a new action needs no migration; `action_label` names it.
    action = models.CharField(_("action"), max_length=40)
    target = models.CharField(_("target"), max_length=255, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["actor", "-created_at"], name="audit_event_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action_label} {self.target}"

    @property
    def action_label(self) -> str:
        try:
            return AuditAction(self.action).label
        except ValueError:
            return self.action


class NoticeQuerySet(TenantQuerySet):
    def unread(self) -> NoticeQuerySet:
        return self.filter(dismissed_at__isnull=True)


class Notice(models.Model):
    """Something an organisation's owners and admins should know, shown in the app until
    one of them dismisses it (and sent to them by e-mail)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(_("message"), max_length=500)
    link = models.CharField(_("link"), max_length=300, blank=True)
    # What the notice is about ("channel:12"): a page showing that thing's state in
    # place leaves the notice out, so one problem is told once per page.
    topic = models.CharField(_("about"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    dismissed_at = models.DateTimeField(_("dismissed"), null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message


class ApiKeyScope(models.TextChoices):
    READ = "read", pgettext_lazy("API key scope", "Read")
    WRITE = "write", _("Read and write")


class ApiKeyQuerySet(TenantQuerySet):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """An organisation's key to the REST API. It acts for the owner or admin who created
    it, within its scope, and stops working when they leave or stop being a manager."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("created by")
    )
    name = models.CharField(_("name"), max_length=100, validators=[validate_single_line])
    scope = models.CharField(_("scope"), max_length=5, choices=ApiKeyScope.choices)
    # The key's first characters, to recognise it; only a SHA-256 of the whole key is kept.
    prefix = models.CharField(max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == ApiKeyScope.WRITE
