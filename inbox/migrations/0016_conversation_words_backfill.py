"""The words of the messages stored before conversations kept their words, read in
slices of conversations, each committed on its own: messages go on being recorded
meanwhile (the triggers add the words of new ones), and a batch waits at most for one
slice. Then the full-text index on messages, which the words replace, goes. Running it
again is harmless. PostgreSQL only."""

import importlib

from django.db import migrations

SLICE = 20_000  # conversations
words = importlib.import_module("inbox.migrations.0015_conversation_words")


def words_backfill(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM inbox_conversation")
        first, last = cursor.fetchone()
        if first is None:
            return
        for start in range(first, last + 1, SLICE):
            cursor.execute(
                words.WORDS_INSERT.format(
                    messages="inbox_message", condition="AND m.conversation_id BETWEEN %s AND %s"
                ),
                [start, start + SLICE - 1],
            )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        words_backfill(schema_editor.connection)
        schema_editor.execute("DROP INDEX IF EXISTS message_text_search", params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS message_text_search ON inbox_message USING gin "
            "(to_tsvector('simple', text))",
            params=None,
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inbox", "0015_conversation_words")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
