"""Searching conversations by what was written in them: PostgreSQL keeps each
conversation's words (`ConversationWord`) whichever way a message is written, and the
list's search reads them instead of the messages."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.urls import reverse

from channels_meta.models import ChannelKind
from inbox.models import Conversation, ConversationWord, Direction, Message
from tests.channels_meta import payloads as p
from tests.channels_meta.delivery import deliver, make_channels
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation, make_message

pytestmark = pytest.mark.django_db
backfill = importlib.import_module("inbox.migrations.0016_conversation_words_backfill")


@pytest.fixture
def whatsapp(world):
    return make_channel(world.org, kind=ChannelKind.WHATSAPP, external_id="1065403522")


def found(client, world, q: str) -> list[str]:
    client.force_login(world.agent.user)
    page = client.get(reverse("inbox", args=[world.org.slug]), {"q": q, "status": "all"})
    assert page.status_code == 200
    return sorted(c.contact.display_name for c in page.context["page"].conversations)


def words_of(conversation: Conversation) -> set[str]:
    return set(
        ConversationWord.objects.filter(conversation=conversation).values_list("word", flat=True)
    )


def test_a_webhook_batchs_messages_are_searchable_at_once(client, world):
    make_channels(world.org)
    deliver(
        p.messaging(
            "page",
            p.PAGE_ID,
            p.customer_message(p.PAGE_ID, "4242", "m_1", text="Where is my Refund?"),
            p.customer_message(p.PAGE_ID, "4343", "m_2", text="Kargom gelmedi"),
        )
    )

    assert len(found(client, world, "refund")) == 1
    assert len(found(client, world, "kargo")) == 1  # the start of a word is enough
    assert found(client, world, "refunds") == []


def test_every_word_must_be_written_somewhere_in_the_conversation(client, world, whatsapp):
    both = make_conversation(whatsapp, name="Both")
    make_message(both, text="The package arrived damaged")
    make_message(both, text="We will send a refund", direction=Direction.OUTBOUND)
    one = make_conversation(whatsapp, name="One")
    make_message(one, text="My package is late")

    assert found(client, world, "package refund") == ["Both"]
    assert found(client, world, "package") == ["Both", "One"]


def test_an_edited_messages_new_words_are_found(client, world, whatsapp):
    conversation = make_conversation(whatsapp, name="Edited")
    message = make_message(conversation, text="Hello")

    Message.objects.filter(pk=message.pk).update(text="Hello, I need an invoice")

    assert found(client, world, "invoice") == ["Edited"]


def test_words_follow_messages_moved_to_another_conversation(world, whatsapp):
    kept = make_conversation(whatsapp, name="Kept")
    gone = make_conversation(whatsapp, name="Gone")
    make_message(gone, text="Cancel my order")

    Message.objects.filter(conversation=gone).update(conversation=kept)
    gone_id = gone.pk
    gone.delete()

    assert {"cancel", "order"} <= words_of(kept)
    assert not ConversationWord.objects.filter(conversation_id=gone_id).exists()


def test_another_organisations_words_are_never_found(client, world, whatsapp):
    foreign = make_channel(world.other_org, kind=ChannelKind.WHATSAPP, external_id="99")
    make_message(make_conversation(foreign, name="Not yours"), text="secret refund")

    assert found(client, world, "refund") == []
    assert ConversationWord.objects.filter(organization=world.other_org).exists()


def test_messages_stored_before_the_words_are_backfilled(world, whatsapp):
    conversation = make_conversation(whatsapp)
    make_message(conversation, text="Siparişim nerede?")
    ConversationWord.objects.all().delete()

    backfill.words_backfill(connection)

    assert words_of(conversation) == {"siparişim", "nerede"}


def test_a_conversation_matching_by_name_and_by_words_shows_once(client, world, whatsapp):
    conversation = make_conversation(whatsapp, name="Refund Desk")
    make_message(conversation, text="About my refund")
    make_message(make_conversation(whatsapp, name="Ayla"), text="Refunded, thanks")

    assert found(client, world, "refund") == ["Ayla", "Refund Desk"]


@pytest.mark.parametrize(
    ("written", "searched"),
    [
        ("İade talebim var", "İADE"),
        ("ŞİKAYET etmek istiyorum", "şikayet"),
        ("order_number 4411", "order_number"),
        ("kargo ne zaman gelir, bugün mü yarın mı acaba", "kargo ne zaman gelir bugün yarın acaba"),
    ],
)
def test_a_search_reads_words_as_the_messages_were_read(client, world, whatsapp, written, searched):
    make_message(make_conversation(whatsapp, name="Found"), text=written)
    make_message(make_conversation(whatsapp, name="Other"), text="Merhaba")

    assert found(client, world, searched) == ["Found"]
