from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.translation import gettext_lazy as _

from inbox.models import Message, MessageStatus

register = template.Library()

STATUS_WORDS = {
    MessageStatus.QUEUED: _("Queued"),
    MessageStatus.SENT: _("Sent"),
    MessageStatus.DELIVERED: _("Delivered"),
    MessageStatus.READ: _("Read"),
    MessageStatus.FAILED: _("Failed"),
}
STATUS_SIGNS = {
    MessageStatus.QUEUED: "◷",
    MessageStatus.SENT: "✓",
    MessageStatus.DELIVERED: "✓✓",
    MessageStatus.READ: "✓✓",
    MessageStatus.FAILED: "!",
}


@register.filter
def short_time(moment: datetime | None) -> str:
    """ "14:05" today, "3 Nov" this year, "3 Nov 2025" before (as Django's `date` filter
    would write them, without its cost on every row and message)."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    today = timezone.localdate()
    if local.date() == today:
        return f"{local:%H:%M}"
    month = str(MONTHS_3[local.month]).title()
    if local.year == today.year:
        return f"{local.day} {month}"
    return f"{local.day} {month} {local.year}"


@register.filter
def iso(moment: datetime | None) -> str:
    """ISO 8601 in the reader's time zone, for `<time datetime>` (Django's `date:'c'`)."""
    return timezone.localtime(moment).isoformat() if moment else ""


@register.filter
def status_words(message: Message) -> str:
    words = STATUS_WORDS.get(message.status)
    return str(words) if words is not None else message.get_status_display()


@register.filter
def status_sign(message: Message) -> str:
    return STATUS_SIGNS.get(message.status, "")


@register.filter
def lookup(mapping: dict, key: object) -> object:
    return mapping.get(key) if mapping else None


@register.filter
def initials(name: str) -> str:
    """One or two letters for an avatar."""
    words = [word for word in str(name).lstrip("@+").split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "?"


@register.filter
def is_note(item: object) -> bool:
    return not isinstance(item, Message)


CHANNEL_SHORT_NAMES = {
    "messenger": _("Messenger"),
    "instagram": _("Instagram"),
    "whatsapp": _("WhatsApp"),
}


@register.filter
def channel_short(kind: str) -> str:
    """The channel's kind in one word, for badges."""
    return str(CHANNEL_SHORT_NAMES.get(kind, kind))
