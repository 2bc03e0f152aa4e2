"""The organisation's own vocabulary for the inbox: coloured labels and saved replies."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.errors import RuleError
from accounts.models import Membership
from inbox import live
from inbox.models import Label, SavedReply


class LibraryRuleError(RuleError):
    """A label or saved reply the organisation cannot have, said in words."""


def label_create(*, membership: Membership, name: str, colour: str) -> Label:
    """A new label, its name unique in the organisation."""
    try:
        with transaction.atomic():
            return Label.objects.create(
                organization=membership.organization, name=name.strip(), colour=colour
            )
    except IntegrityError:
        raise LibraryRuleError(_("There is already a label with that name.")) from None


def label_delete(*, membership: Membership, label: Label) -> None:
    """Remove the label, and with it from every conversation (open lists reload)."""
    label.delete()
    live.changed(organization_id=label.organization_id)


def saved_reply_create(*, membership: Membership, shortcut: str, text: str) -> SavedReply:
    """A new saved reply, its shortcut unique in the organisation."""
    try:
        with transaction.atomic():
            return SavedReply.objects.create(
                organization=membership.organization,
                shortcut=shortcut,
                text=text.strip(),
                created_by=membership.user,
            )
    except IntegrityError:
        raise LibraryRuleError(_("There is already a saved reply with that shortcut.")) from None


def saved_reply_delete(*, membership: Membership, saved_reply: SavedReply) -> None:
    saved_reply.delete()
