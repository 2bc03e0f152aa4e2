"""Erasing customers: their contacts and everything the inbox keeps about them —
conversations, messages, files in storage, notes, search words and profile fields —
in transactions small enough that the inbox never waits long on them. A run cut off
midway leaves whole batches, and running it again finishes the work."""

from __future__ import annotations

from collections import Counter

from django.db import connection
from django.db.models import QuerySet

from inbox.models import Contact, Conversation, ConversationWord, Message, Note
from inbox.services import outbox
from inbox.services.downloads import files_delete
from inbox.services.media import attachments_erase
from padu.transactions import redoable_transaction

# Rows a transaction deletes at most.
MESSAGES_AT_ONCE = 10_000
CONVERSATIONS_AT_ONCE = 500


def _messages_delete(conversations: QuerySet[Conversation]) -> int:
    """Delete at most `MESSAGES_AT_ONCE` messages without attachments (those went first)
    of the conversations `conversations` still selects, in one transaction; returns how
    many."""
    batch = Message.objects.filter(conversation__in=conversations, files__isnull=True)
    select, params = batch.values("pk")[:MESSAGES_AT_ONCE].query.sql_with_params()
    # One statement rather than the ORM's delete, which would load every message to look
    # for attachments to cascade to.
    with redoable_transaction(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Message._meta.db_table} WHERE id IN ({select})", params)  # noqa: S608
        return cursor.rowcount


def _contacts_delete(contacts: QuerySet[Contact]) -> Counter[str]:
    """Delete these contacts that have no conversation left, with their pictures."""
    erased: Counter[str] = Counter()
    alone = contacts.filter(conversations__isnull=True)
    while ids := list(alone.values_list("pk", flat=True)[:CONVERSATIONS_AT_ONCE]):
        with redoable_transaction():
            batch = Contact.objects.filter(pk__in=ids, conversations__isnull=True)
            for contact in batch.exclude(avatar="").only("pk", "avatar"):
                files_delete(contact.avatar)
                erased["pictures"] += 1
            erased["contacts"] += batch.only("pk").delete()[1].get("inbox.Contact", 0)
    return erased


def _conversations_erase(conversations: QuerySet[Conversation]) -> Counter[str]:
    """Erase what `conversations` selects (asked again at each step), and the contacts
    they leave with no conversation; returns the counts."""
    erased: Counter[str] = Counter()
    while chunk := list(conversations.values_list("pk", flat=True)[:CONVERSATIONS_AT_ONCE]):
        # Asked again at each step: a message recorded meanwhile keeps its conversation.
        still = conversations.filter(pk__in=chunk)
        erased["attachments"] += attachments_erase(
            messages=Message.objects.filter(conversation__in=still)
        )
        while deleted := _messages_delete(still):
            erased["messages"] += deleted
        with redoable_transaction():
            gone = list(still.select_for_update().values_list("pk", "contact_id"))
            ids = [conversation_id for conversation_id, _contact in gone]
            ConversationWord.objects.filter(conversation_id__in=ids).delete()
            erased["notes"] += Note.objects.filter(conversation_id__in=ids).delete()[0]
            deleted = Conversation.objects.filter(pk__in=ids).only("pk").delete()[1]
            erased["conversations"] += deleted.get("inbox.Conversation", 0)
            erased["messages"] += deleted.get("inbox.Message", 0)
        contact_ids = {contact_id for _conversation, contact_id in gone}
        erased["forwarded events"] += outbox.events_erase(
            conversation_ids=ids, contact_ids=contact_ids
        )
        erased.update(_contacts_delete(Contact.objects.filter(pk__in=contact_ids)))
    return erased


def contacts_erase(*, contacts: QuerySet[Contact]) -> dict[str, int]:
    """Delete these contacts with their pictures, conversations, messages and their
    files, the notes written in those conversations and their search words; returns
    how many of each were erased."""
    erased = _conversations_erase(Conversation.objects.filter(contact__in=contacts))
    erased["forwarded events"] += outbox.events_erase(
        contact_ids=list(contacts.values_list("pk", flat=True))
    )
    erased.update(_contacts_delete(contacts))
    return dict(+erased)


def conversations_erase(*, conversations: QuerySet[Conversation]) -> dict[str, int]:
    """Delete the conversations `conversations` selects, with their messages and their
    files, notes and search words, and the contacts left with no conversation; returns
    how many of each were erased. `conversations` is asked again at each step, so a
    conversation that no longer matches (a customer wrote meanwhile) is left alone."""
    return dict(+_conversations_erase(conversations))
