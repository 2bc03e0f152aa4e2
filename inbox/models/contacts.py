"""Customers as Meta identifies them on a channel, with what the business keeps about them."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TenantQuerySet
from channels_meta.models import Channel


def avatar_upload_to(instance: Contact, filename: str) -> str:
    """`<organisation id>/<random>/avatar.jpg`, as attachments are kept."""
    return f"{instance.organization_id}/{secrets.token_urlsafe(18)}/avatar.jpg"


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
    # The picture kept from `profile_picture_url` (Meta's links expire, and Padu's pages
    # show images from Padu alone): a small square, served to the organisation's members.
    avatar = models.FileField(_("picture"), upload_to=avatar_upload_to, max_length=300, blank=True)
    avatar_source = models.URLField(
        _("picture link settled"),
        max_length=1000,
        blank=True,
        help_text=_("The picture link Padu last finished with: kept, or given up on."),
    )
    avatar_reason = models.CharField(_("why no picture is kept"), max_length=300, blank=True)
    avatar_attempts = models.PositiveSmallIntegerField(default=0)
    # Set while a worker fetches the picture, so two workers never both keep it.
    avatar_claimed_at = models.DateTimeField(null=True, blank=True)
    # Set while a data request restricts what may be done with the customer's data.
    processing_restricted_at = models.DateTimeField(
        _("processing restricted"), null=True, blank=True
    )
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
    # Fields the business keeps for itself; Meta never changes them.
    custom_name = models.CharField(
        _("name used by your team"),
        max_length=200,
        blank=True,
        help_text=_("Shown instead of the name the customer gave Meta."),
    )
    email = models.EmailField(_("e-mail"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    profile_checked_at = models.DateTimeField(
        _("profile last fetched"),
        null=True,
        blank=True,
        help_text=_("When Padu last asked Meta for the customer's name and picture."),
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
            ),
            # The contacts whose profile Meta was not asked for yet, for the sweep.
            models.Index(
                fields=["channel", "created_at"],
                condition=Q(profile_checked_at__isnull=True),
                name="contact_profile_unchecked_idx",
            ),
            # The contacts whose picture link Padu has not finished with, for the sweep.
            models.Index(
                fields=["profile_checked_at"],
                condition=~Q(profile_picture_url=F("avatar_source")),
                name="contact_avatar_unsettled_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def avatar_version(self) -> str:
        """Changes when the kept picture does (each is stored under a new random name), so
        that its address may be kept by browsers."""
        return self.avatar.name.split("/")[-2] if self.avatar else ""

    @property
    def display_name(self) -> str:
        return (
            self.custom_name
            or self.name
            or (f"@{self.username}" if self.username else self.phone or self.external_id)
        )

    @property
    def handle(self) -> str:
        """How the customer is reached on their channel: @username or phone number."""
        return f"@{self.username}" if self.username else self.phone
