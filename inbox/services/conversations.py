"""What staff do to a conversation besides answering: assign it, change its status, label
it, mark it read or unread, write internal notes, and keep their own fields on the
contact. Each change is published to open inbox pages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import RuleError
from accounts.models import Membership, User
from inbox import live
from inbox.models import Contact, Conversation, ConversationStatus, EventType, Label, Note
from inbox.services import outbox

MENTION = re.compile(r"@([\w.+-]+)")


class ConversationRuleError(RuleError):
    """A change the inbox does not allow, said in words."""


def _changed(conversation: Conversation, *, forwarded: bool = True) -> None:
    """Open pages refresh; endpoints hear of what they subscribe to (not notes or
    what is read)."""
    live.changed(organization_id=conversation.organization_id, conversation_ids=[conversation.pk])
    if forwarded:
        outbox.conversations_forward(
            organization_id=conversation.organization_id,
            conversation_ids=[conversation.pk],
            event_type=EventType.CONVERSATION_UPDATED,
        )


@transaction.atomic
def conversation_assign(
    *, membership: Membership, conversation: Conversation, assignee: User | None
) -> None:
    """Give the conversation to a member of its organisation, or to nobody."""
    if (
        assignee is not None
        and not assignee.memberships.filter(organization_id=conversation.organization_id).exists()
    ):
        raise ConversationRuleError(_("Conversations can only go to members of the organisation."))
    conversation.assignee = assignee
    conversation.save(update_fields=["assignee"])
    _changed(conversation)


@transaction.atomic
def conversation_status_set(
    *,
    membership: Membership,
    conversation: Conversation,
    status: str,
    snoozed_until: datetime | None = None,
) -> None:
    """Open, set pending, resolve, or snooze the conversation until a later time."""
    if status not in ConversationStatus.values:
        raise ConversationRuleError(_("That is not a conversation status."))
    if status == ConversationStatus.SNOOZED:
        if snoozed_until is None or snoozed_until <= timezone.now():
            raise ConversationRuleError(_("Snooze until a time in the future."))
    else:
        snoozed_until = None
    conversation.status = status
    conversation.snoozed_until = snoozed_until
    conversation.save(update_fields=["status", "snoozed_until"])
    _changed(conversation)


def conversations_unsnooze_due(*, now: datetime | None = None) -> int:
    """Reopen every snoozed conversation whose time has come."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Conversation.objects.filter(
                status=ConversationStatus.SNOOZED, snoozed_until__lte=now
            ).values_list("pk", "organization_id")
        )
        Conversation.objects.filter(
            pk__in=[pk for pk, _org in due], status=ConversationStatus.SNOOZED
        ).update(status=ConversationStatus.OPEN, snoozed_until=None)
        for pk, organization_id in due:
            live.changed(organization_id=organization_id, conversation_ids=[pk])
            outbox.conversations_forward(
                organization_id=organization_id,
                conversation_ids=[pk],
                event_type=EventType.CONVERSATION_UPDATED,
            )
    return len(due)


@transaction.atomic
def conversation_labels_set(
    *, membership: Membership, conversation: Conversation, labels: Iterable[Label]
) -> None:
    """Put exactly these labels of the organisation on the conversation."""
    labels = list(labels)
    if any(label.organization_id != conversation.organization_id for label in labels):
        raise ConversationRuleError(_("Use the organisation's own labels."))
    conversation.labels.set(labels)
    _changed(conversation)


def conversation_mark_read(*, conversation: Conversation) -> None:
    """A member opened the conversation: nothing in it is unread any more."""
    if not conversation.unread_count:
        return  # one arriving since it was loaded is marked by the refresh it causes
    if Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(unread_count=0):
        conversation.unread_count = 0
        _changed(conversation, forwarded=False)


def conversation_mark_unread(*, membership: Membership, conversation: Conversation) -> None:
    """Show the conversation as unread again, to come back to it."""
    Conversation.objects.filter(pk=conversation.pk, unread_count=0).update(
        unread_count=F("unread_count") + 1
    )
    _changed(conversation, forwarded=False)


def _mentioned(organization_id: int, text: str, author: User) -> list[User]:
    """Members named in `text` as @ followed by the start of their e-mail address or
    their first name."""
    # "@agent." ends a sentence: the full stop is not part of the name.
    names = {name.rstrip(".-+").lower() for name in MENTION.findall(text)}
    if not names:
        return []
    members = User.objects.filter(memberships__organization_id=organization_id).exclude(
        pk=author.pk
    )
    return [
        user
        for user in members
        if user.email.split("@")[0].lower() in names or user.get_short_name().lower() in names
    ]


def _notify_mentions(note: Note, users: list[User]) -> None:
    link = settings.SITE_URL + reverse(
        "conversation", args=[note.conversation.organization.slug, note.conversation_id]
    )
    author = note.author.get_full_name()
    subject = _("%(author)s mentioned you in a note on Padu") % {"author": " ".join(author.split())}
    body = render_to_string("inbox/email/mention.txt", {"note": note, "link": link})
    send_mass_mail([(subject, body, None, [user.email]) for user in users])


@transaction.atomic
def note_add(*, membership: Membership, conversation: Conversation, text: str) -> Note:
    """An internal note in the conversation, never sent to Meta; members @mentioned in it
    are told by e-mail."""
    text = text.strip()
    if not text:
        raise ConversationRuleError(_("Write the note first."))
    note = Note.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        author=membership.user,
        text=text,
    )
    mentioned = _mentioned(conversation.organization_id, text, membership.user)
    if mentioned:
        note.mentions.set(mentioned)
        transaction.on_commit(lambda: _notify_mentions(note, mentioned))
    _changed(conversation, forwarded=False)
    return note


@transaction.atomic
def contact_update(
    *, membership: Membership, contact: Contact, custom_name: str, email: str, notes: str
) -> None:
    """Keep the business's own name, e-mail and notes for a customer."""
    contact.custom_name = custom_name.strip()
    contact.email = email.strip()
    contact.notes = notes.strip()
    contact.save(update_fields=["custom_name", "email", "notes", "updated_at"])
    live.contact_changed(contact)
    outbox.contacts_forward(organization_id=contact.organization_id, contact_ids=[contact.pk])
