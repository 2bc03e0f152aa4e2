from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.text import slugify
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
            # Covering what the tabs count (whose, unread), so counting the open
            # conversations reads this index alone (PostgreSQL; elsewhere a plain index).
            models.Index(
                fields=["organization", "status", "-last_message_at"],
                include=["assignee", "unread_count"],
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


class AttachmentKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio")
    VOICE = "voice", _("Voice note")
    DOCUMENT = "document", _("Document")
    STICKER = "sticker", _("Sticker")
    OTHER = "other", _("Other file")


class AttachmentStatus(models.TextChoices):
    PENDING = "pending", _("Being fetched from Meta")
    STORED = "stored", _("Stored")
    FAILED = "failed", _("Could not be fetched")
    REFUSED = "refused", _("Not kept")


def _storage_name(name: str, default: str) -> str:
    """A file name safe in any storage: ASCII letters, digits and dashes, and the
    extension's letters."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem = slugify(stem)[:60] or default
    extension = "".join(char for char in extension.lower() if char.isascii() and char.isalnum())
    return f"{stem}.{extension[:10]}" if extension else stem


def attachment_upload_to(instance: Attachment, filename: str) -> str:
    """`<organisation id>/<random>/<file name made safe>`: nobody can guess another
    file's name, and no name a customer or Meta chose reaches the storage unchanged."""
    return (
        f"{instance.organization_id}/{secrets.token_urlsafe(18)}/{_storage_name(filename, 'file')}"
    )


def thumbnail_upload_to(instance: Attachment, filename: str) -> str:
    return f"{instance.organization_id}/{secrets.token_urlsafe(18)}/thumbnail.jpg"


class Attachment(models.Model):
    """A file a message carried, fetched from Meta by a worker and kept in Padu's storage
    (Meta's links expire); served only to the organisation's members."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveSmallIntegerField(
        _("position in the message"), help_text=_("Its index in the message's attachments.")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AttachmentKind.choices)
    mime_type = models.CharField(_("type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=300, blank=True)
    thumbnail = models.FileField(
        _("thumbnail"), upload_to=thumbnail_upload_to, max_length=300, blank=True
    )
    # A WhatsApp media id (digits) or a link on Meta's media hosts; checked before it is
    # stored, and again before anything is downloaded.
    source = models.CharField(_("where Meta keeps it"), max_length=2000, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=AttachmentStatus.choices, default="pending"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set while a worker fetches it, so two workers never both download the same file.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["message_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "position"], name="attachment_unique_position"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(status="pending"), name="attachment_pending"
            )
        ]

    def __str__(self) -> str:
        return self.file_name or f"{self.get_kind_display()} {self.pk}"


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
