"""Erasing customers: their contacts and everything the inbox keeps about them —
conversations, messages, files in storage, notes, search words and profile fields."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from inbox.models import Contact, Conversation, ConversationWord, Message, Note
from inbox.services.downloads import files_delete
from inbox.services.media import attachments_erase


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
