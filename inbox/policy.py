"""Meta's messaging rules, decided in one place: what may be sent in a conversation now,
until when, and why not. Pure functions of a conversation's facts; the reply service
enforces the decision and the inbox only shows it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from channels_meta.models import ChannelStatus
from inbox.models import Conversation, SendMode

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)

# The longest text each way of sending takes (Send API and comment limits).
MAX_LENGTH = {
    "messenger": 2000,
    "instagram": 1000,
    "whatsapp": 4096,
    "instagram_comment": 2200,
    # WhatsApp sends a file's caption with it; Messenger and Instagram take none, so
    # there it goes as a text message of its own.
    "whatsapp_caption": 1024,
}

MB = 1024 * 1024
IMAGES = frozenset({"image/jpeg", "image/png"})
DOCUMENTS = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "text/plain",
    }
)
OTHER_DOCUMENTS = frozenset(
    {
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "text/csv",
    }
)


@dataclass(frozen=True)
class FileLimit:
    """What a channel takes of one kind of file: its types, and its size at most."""

    max_bytes: int
    mime_types: frozenset[str]


# The files staff may send from the composer (images and documents), by channel and by
# what the file is (`inbox.filetypes` family), as Meta takes them: WhatsApp Cloud API's
# supported media (images: JPEG and PNG up to 5 MB; documents: PDF, office files and
# text up to 100 MB); Messenger's attachments (up to 25 MB, any file as `file`);
# Instagram's Send API (images: PNG and JPEG up to 8 MB; no documents).
ATTACHMENT_LIMITS: dict[str, dict[str, FileLimit]] = {
    "whatsapp": {
        "image": FileLimit(5 * MB, IMAGES),
        "document": FileLimit(100 * MB, DOCUMENTS),
    },
    "messenger": {
        "image": FileLimit(25 * MB, IMAGES | {"image/gif"}),
        "document": FileLimit(25 * MB, DOCUMENTS | OTHER_DOCUMENTS),
    },
    "instagram": {
        "image": FileLimit(8 * MB, IMAGES),
    },
}
# How people call each type, and the extensions a file picker offers for it.
FILE_FORMATS = {
    "image/jpeg": ("JPEG", ".jpg,.jpeg"),
    "image/png": ("PNG", ".png"),
    "image/gif": ("GIF", ".gif"),
    "application/pdf": ("PDF", ".pdf"),
    "application/msword": ("Word", ".doc"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("Word", ".docx"),
    "application/vnd.ms-excel": ("Excel", ".xls"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("Excel", ".xlsx"),
    "application/vnd.ms-powerpoint": ("PowerPoint", ".ppt"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "PowerPoint",
        ".pptx",
    ),
    "application/vnd.oasis.opendocument.text": ("OpenDocument", ".odt"),
    "application/vnd.oasis.opendocument.spreadsheet": ("OpenDocument", ".ods"),
    "application/vnd.oasis.opendocument.presentation": ("OpenDocument", ".odp"),
    "text/plain": (gettext_lazy("plain text"), ".txt"),
    "text/csv": ("CSV", ".csv"),
}
CHANNEL_NAMES = {
    "messenger": gettext_lazy("Messenger"),
    "instagram": gettext_lazy("Instagram"),
    "whatsapp": gettext_lazy("WhatsApp"),
}


@dataclass(frozen=True)
class Facts:
    """What the rules look at in a conversation."""

    channel_kind: str  # messenger | instagram | whatsapp
    conversation_kind: str  # dm | comment
    channel_active: bool = True
    human_agent_enabled: bool = False
    last_inbound_at: datetime | None = None  # the customer's last message
    comment_at: datetime | None = None  # when the thread's top-level comment was written
    private_reply_sent: bool = False
    restricted: bool = False  # a data request restricts what may be done with their data


@dataclass(frozen=True)
class ReplyOptions:
    """What may be sent now: `modes` (SendMode values, the first is the default), until
    when the first one stays possible, and in words why anything is refused."""

    modes: tuple[str, ...]
    until: datetime | None = None
    reason: str = ""
    private_reply_until: datetime | None = None

    @property
    def closed(self) -> bool:
        return not self.modes

    def allows(self, mode: str) -> bool:
        return mode in self.modes


def reply_options(facts: Facts, now: datetime) -> ReplyOptions:
    """Meta's windows: Messenger and Instagram answer within 24 hours of the customer's
    last message, a person up to 7 days with the human agent tag where the channel may;
    WhatsApp sends free text within 24 hours and approved templates at any time;
    Instagram comments take public replies and one private reply within 7 days."""
    if not facts.channel_active:
        return ReplyOptions(
            (), reason=_("This channel is not connected to Meta: reconnect it to reply.")
        )
    if facts.restricted:
        return ReplyOptions(
            (),
            reason=_(
                "The customer asked that their data no longer be processed: no replies "
                "until an owner or admin lifts the restriction."
            ),
        )
    if facts.conversation_kind == "comment":
        return _comment_options(facts, now)
    last = facts.last_inbound_at
    standard_until = last + STANDARD_WINDOW if last else None
    if facts.channel_kind == "whatsapp":
        if standard_until and now < standard_until:
            return ReplyOptions((SendMode.RESPONSE, SendMode.TEMPLATE), until=standard_until)
        return ReplyOptions(
            (SendMode.TEMPLATE,),
            reason=_(
                "The customer last wrote more than 24 hours ago: WhatsApp allows only an "
                "approved template until they write again."
            ),
        )
    if standard_until and now < standard_until:
        return ReplyOptions((SendMode.RESPONSE,), until=standard_until)
    human_until = last + HUMAN_AGENT_WINDOW if last else None
    if facts.human_agent_enabled and human_until and now < human_until:
        return ReplyOptions((SendMode.HUMAN_AGENT,), until=human_until)
    if facts.human_agent_enabled or not last:
        reason = _("The customer has not written in the last 7 days: Meta allows no reply.")
    else:
        reason = _(
            "The customer last wrote more than 24 hours ago. This channel may not send "
            "human agent replies, so Meta allows no reply until they write again."
        )
    return ReplyOptions((), reason=reason)


def _comment_options(facts: Facts, now: datetime) -> ReplyOptions:
    private_until = facts.comment_at + PRIVATE_REPLY_WINDOW if facts.comment_at else None
    if facts.private_reply_sent or not private_until or now >= private_until:
        return ReplyOptions((SendMode.PUBLIC_REPLY,))
    return ReplyOptions(
        (SendMode.PUBLIC_REPLY, SendMode.PRIVATE_REPLY), private_reply_until=private_until
    )


def max_length(channel_kind: str, mode: str) -> int:
    if mode == SendMode.PUBLIC_REPLY:
        return MAX_LENGTH["instagram_comment"]
    return MAX_LENGTH[channel_kind]


def caption_max_length(channel_kind: str) -> int:
    """The longest text that may go with a file."""
    return MAX_LENGTH["whatsapp_caption" if channel_kind == "whatsapp" else channel_kind]


def _megabytes(size: int, *, round_up: bool = False) -> str:
    value = size / MB
    if round_up:
        value = math.ceil(value * 10) / 10
    decimals = 0 if value == int(value) else 1
    return _("%(size)s MB") % {"size": formats.number_format(value, decimal_pos=decimals)}


def _format_name(mime_type: str) -> str:
    known = FILE_FORMATS.get(mime_type)
    return str(known[0]) if known else mime_type.rpartition("/")[2].upper()


def _format_names(mime_types: frozenset[str]) -> str:
    return ", ".join(
        dict.fromkeys(_format_name(t) for t in sorted(mime_types, key=list(FILE_FORMATS).index))
    )


def attachment_limits_text(channel_kind: str) -> str:
    """What files a channel takes, in words: "images (JPEG, PNG) up to 5 MB; …"."""
    parts = []
    for family, limit in ATTACHMENT_LIMITS.get(channel_kind, {}).items():
        words = {"formats": _format_names(limit.mime_types), "size": _megabytes(limit.max_bytes)}
        if family == "image":
            parts.append(_("images (%(formats)s) up to %(size)s") % words)
        else:
            parts.append(_("documents (%(formats)s) up to %(size)s") % words)
    return "; ".join(parts)


def attachment_accept(channel_kind: str) -> str:
    """The `accept` list of a file input for the channel: its types and extensions."""
    accepted: list[str] = []
    for limit in ATTACHMENT_LIMITS.get(channel_kind, {}).values():
        for mime_type in sorted(limit.mime_types, key=list(FILE_FORMATS).index):
            accepted += [mime_type, *FILE_FORMATS[mime_type][1].split(",")]
    return ",".join(dict.fromkeys(accepted))


def attachment_refusal(channel_kind: str, *, family: str, mime_type: str, size: int) -> str:
    """Why the channel does not take this file (what it is, found by its content, and
    its size in bytes), in words; "" when it does."""
    limit = ATTACHMENT_LIMITS.get(channel_kind, {}).get(family)
    channel = CHANNEL_NAMES.get(channel_kind, channel_kind)
    if limit is None or mime_type not in limit.mime_types:
        return _("%(channel)s does not take %(format)s files from Padu. It takes %(limits)s.") % {
            "channel": channel,
            "format": _format_name(mime_type),
            "limits": attachment_limits_text(channel_kind),
        }
    if size > limit.max_bytes:
        words = {
            "channel": channel,
            "limit": _megabytes(limit.max_bytes),
            "size": _megabytes(size, round_up=True),
        }
        if family == "image":
            return _("%(channel)s takes images up to %(limit)s; this one is %(size)s.") % words
        return _("%(channel)s takes documents up to %(limit)s; this one is %(size)s.") % words
    return ""


def _time_left(until: datetime, now: datetime) -> str:
    seconds = (until - now).total_seconds()
    if seconds >= 48 * 3600:
        days = math.floor(seconds / 86400)
        return ngettext("%(n)d d left", "%(n)d d left", days) % {"n": days}
    if seconds >= 3600:
        hours = math.floor(seconds / 3600)
        return ngettext("%(n)d h left", "%(n)d h left", hours) % {"n": hours}
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("%(n)d min left", "%(n)d min left", minutes) % {"n": minutes}


def window_label(options: ReplyOptions, now: datetime) -> str:
    """The reply window in a few words, as the conversation list shows it."""
    if options.closed:
        return _("closed")
    first = options.modes[0]
    if first == SendMode.TEMPLATE:
        return _("template only")
    if first == SendMode.PUBLIC_REPLY:
        if options.private_reply_until:
            return _("private reply: %(left)s") % {
                "left": _time_left(options.private_reply_until, now)
            }
        return _("public reply")
    left = _time_left(options.until, now) if options.until else ""
    if first == SendMode.HUMAN_AGENT:
        return _("human agent: %(left)s") % {"left": left}
    return left


def conversation_reply_options(conversation: Conversation, now: datetime) -> ReplyOptions:
    """The options of a conversation loaded with its channel."""
    channel = conversation.channel
    return reply_options(
        Facts(
            channel_kind=channel.kind,
            conversation_kind=conversation.kind,
            channel_active=channel.status == ChannelStatus.ACTIVE,
            human_agent_enabled=channel.human_agent_enabled,
            last_inbound_at=conversation.last_inbound_at,
            comment_at=conversation.comment_at,
            private_reply_sent=conversation.private_reply_at is not None,
            restricted=conversation.contact.processing_restricted_at is not None,
        ),
        now,
    )
