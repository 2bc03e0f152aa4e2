"""Conversations, and what members work them with: labels, internal notes, saved replies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TenantQuerySet
from channels_meta.models import Channel
from inbox.models.contacts import Contact


class Label(models.Model):
    """An organisation's own tag for conversations, with a colour."""

    class Colour(models.TextChoices):
        GREY = "grey", _("Grey")
        RED = "red", _("Red")
        ORANGE = "orange", _("Orange")
        YELLOW = "yellow", _("Yellow")
        GREEN = "green", _("Green")
        TEAL = "teal", _("Teal")
        BLUE = "blue", _("Blue")
        PURPLE = "purple", _("Purple")
        PINK = "pink", _("Pink")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=50)
    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices, default="blue")

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="label_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


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
    snoozed_until = models.DateTimeField(_("snoozed until"), null=True, blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="conversations")
    # A comment thread: the Instagram media and the top-level comment it hangs from, when
    # that comment was written, and when the one private reply Meta allows was sent.
    media_id = models.CharField(max_length=64, blank=True)
    comment_id = models.CharField(max_length=64, blank=True)
    comment_at = models.DateTimeField(null=True, blank=True)
    private_reply_at = models.DateTimeField(null=True, blank=True)
    post = models.JSONField(
        _("post commented on"),
        default=dict,
        blank=True,
        help_text=_("The Instagram post's caption, kind and link, as Meta gave them."),
    )
    # The ad or link that brought the customer (Meta's referral, links made safe).
    referral = models.JSONField(_("came from"), default=dict, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_inbound_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Starts the messaging window.")
    )
    unread_count = models.PositiveIntegerField(default=0)
    # Messenger's newest receipts (Meta's watermarks): every message the business sent up
    # to then had reached the customer, or been read. Kept for a reply whose send is
    # recorded after the receipt came.
    delivered_watermark = models.DateTimeField(null=True, blank=True)
    read_watermark = models.DateTimeField(null=True, blank=True)
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
        indexes = [
            # Covering what the tabs count (whose, unread) and what a search tests (the
            # conversation, its contact), so both walk this index alone, newest first
            # (PostgreSQL; elsewhere a plain index).
            models.Index(
                fields=["organization", "status", "-last_message_at"],
                include=["assignee", "unread_count", "id", "contact"],
                name="conv_org_status_recent",
            ),
            models.Index(
                fields=["organization", "-last_message_at", "-id"], name="conv_org_recent"
            ),
            models.Index(
                fields=["snoozed_until"],
                condition=Q(status="snoozed"),
                name="conversation_snoozed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_kind_display()})"


class Note(models.Model):
    """An internal note in a conversation: seen by the organisation's members only,
    never sent to Meta."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("note"))
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self) -> str:
        return self.text[:40]


class SavedReply(models.Model):
    """An organisation-wide snippet inserted in the composer by typing `/` and its
    shortcut; `{first_name}` becomes the contact's first name."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    shortcut = models.SlugField(_("shortcut"), max_length=40)
    text = models.TextField(_("text"), max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        ordering = ["shortcut"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "shortcut"], name="saved_reply_unique_shortcut"
            )
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"
