"""Erasing customers: their contacts and everything the inbox keeps about them —
conversations, messages, files in storage, notes, search words and profile fields."""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.db.models import QuerySet

from inbox.models import Contact, Conversation, ConversationWord, Message, Note
from inbox.services.downloads import files_delete
from inbox.services.media import attachments_erase

# Rows a transaction deletes at most, so that purges never hold the inbox up for long.
MESSAGES_AT_ONCE = 10_000
CONVERSATIONS_AT_ONCE = 500


@transaction.atomic
def contacts_erase(*, contacts: QuerySet[Contact]) -> dict[str, int]:
    """Delete these contacts with their pictures, conversations, messages and their
    files, the notes written in those conversations and their search words; returns
    how many of each were erased. Files go first: should the rows' deletion fail, it is
    tried again and nothing it had already erased comes back."""
    contacts = Contact.objects.filter(pk__in=list(contacts.values_list("pk", flat=True)))
    conversations = Conversation.objects.filter(contact__in=contacts)
    messages = Message.objects.filter(conversation__in=conversations)
    notes = Note.objects.filter(conversation__in=conversations)
    pictures = 0
    for contact in contacts.exclude(avatar="").only("pk", "avatar"):
        files_delete(contact.avatar)
        pictures += 1
    outcome = {
        "contacts": contacts.count(),
        "conversations": conversations.count(),
        "messages": messages.count(),
        "attachments": attachments_erase(messages=messages),
        "pictures": pictures,
        "notes": notes.count(),
    }
    # The leaves in one DELETE each, before the cascade reads what is left.
    ConversationWord.objects.filter(conversation__in=conversations).delete()
    notes.delete()
    contacts.delete()
    return outcome


def conversations_erase(*, conversations: QuerySet[Conversation]) -> dict[str, int]:
    """Delete the conversations `conversations` selects, with their messages and their
    files, notes and search words, in transactions of at most MESSAGES_AT_ONCE
    messages; returns how many of each were erased and the contacts left with no
    conversation. `conversations` is asked again at each step, so a conversation that
    no longer matches (a customer wrote meanwhile) is left alone, and a run cut off
    midway is finished by the next."""
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
    alone = contacts_erase(
        contacts=Contact.objects.filter(pk__in=contact_ids, conversations__isnull=True)
    )
    erased.update(contacts=alone["contacts"], pictures=alone["pictures"])
    return dict(erased)
