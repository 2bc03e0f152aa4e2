from __future__ import annotations

from django.db import models

from accounts.models import Organization
from inbox.models.conversations import Conversation


class ConversationWord(models.Model):
    """A word written in a conversation, by either side, as PostgreSQL's `simple`
    full-text configuration reads it (lower case): where the list's search looks words
    up, once per conversation and word, with no need to read the messages. PostgreSQL
    keeps the rows itself (triggers on messages, migration 0015); on SQLite the table
    stays empty and the search reads the messages."""

    pk = models.CompositePrimaryKey("conversation", "word")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    word = models.TextField()
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )

    class Meta:
        indexes = [
            # Words starting with a search term (LIKE 'term%' whatever the collation), and
            # their conversations, read from the index alone.
            models.Index(
                fields=["organization", "word", "conversation"],
                opclasses=["int8_ops", "text_pattern_ops", "int8_ops"],
                name="conversation_word_search",
            )
        ]

    def __str__(self) -> str:
        return self.word
