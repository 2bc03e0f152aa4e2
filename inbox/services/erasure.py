"""Erasing customers: their contacts and everything the inbox keeps about them —
conversations, messages, files in storage, notes, search words and profile fields —
in transactions small enough that the inbox never waits long on them. A run cut off
midway leaves whole batches, and running it again finishes the work."""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.db.models import QuerySet

from inbox.models import Contact, Conversation, ConversationWord, Message, Note
from inbox.services.downloads import files_delete
from inbox.services.media import attachments_erase

# Rows a transaction deletes at most.
MESSAGES_AT_ONCE = 10_000
CONVERSATIONS_AT_ONCE = 500


def _conversations_erase(conversations: QuerySet[Conversation]) -> tuple[Counter[str], set[int]]:
    """Erase what `conversations` selects (asked again at each step); returns the counts
    and the contacts whose conversations these were."""
    erased: Counter[str] = Counter()
    contact_ids: set[int] = set()
    while chunk := list(conversations.values_list("pk", flat=True)[:CONVERSATIONS_AT_ONCE]):
        still = conversations.filter(pk__in=chunk)
        while ids := list(
            Message.objects.filter(conversation__in=still).values_list("pk", flat=True)[
                :MESSAGES_AT_ONCE
            ]
        ):
            with transaction.atomic():
                messages = Message.objects.filter(pk__in=ids)
                erased["attachments"] += attachments_erase(messages=messages)
                erased["messages"] += messages.only("pk").delete()[1].get("inbox.Message", 0)
        with transaction.atomic():
            # Locked and asked again: a message recorded meanwhile keeps its conversation.
            gone = list(still.select_for_update().values_list("pk", "contact_id"))
            ids = [conversation_id for conversation_id, _contact in gone]
            contact_ids.update(contact_id for _conversation, contact_id in gone)
            ConversationWord.objects.filter(conversation_id__in=ids).delete()
            erased["notes"] += Note.objects.filter(conversation_id__in=ids).delete()[0]
            deleted = Conversation.objects.filter(pk__in=ids).delete()[1]
            erased["conversations"] += deleted.get("inbox.Conversation", 0)
    return erased, contact_ids


def _contacts_delete(contact_ids: set[int] | list[int]) -> Counter[str]:
    """Delete these contacts that have no conversation left, with their pictures."""
    erased: Counter[str] = Counter()
    alone = Contact.objects.filter(pk__in=list(contact_ids), conversations__isnull=True)
    with transaction.atomic():
        for contact in alone.exclude(avatar="").only("pk", "avatar"):
            files_delete(contact.avatar)
            erased["pictures"] += 1
        erased["contacts"] += alone.delete()[1].get("inbox.Contact", 0)
    return erased


def contacts_erase(*, contacts: QuerySet[Contact]) -> dict[str, int]:
    """Delete these contacts with their pictures, conversations, messages and their
    files, the notes written in those conversations and their search words; returns
    how many of each were erased."""
    contact_ids = list(contacts.values_list("pk", flat=True))
    erased, _contacts = _conversations_erase(
        Conversation.objects.filter(contact_id__in=contact_ids)
    )
    erased.update(_contacts_delete(contact_ids))
    return dict(+erased)


def conversations_erase(*, conversations: QuerySet[Conversation]) -> dict[str, int]:
    """Delete the conversations `conversations` selects, with their messages and their
    files, notes and search words, and the contacts left with no conversation; returns
    how many of each were erased. `conversations` is asked again at each step, so a
    conversation that no longer matches (a customer wrote meanwhile) is left alone."""
    erased, contact_ids = _conversations_erase(conversations)
    erased.update(_contacts_delete(contact_ids))
    return dict(+erased)
