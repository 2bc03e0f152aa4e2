"""The inbox's list and conversation pages as members see them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from channels_meta.models import ChannelKind
from inbox.models import Direction
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation, make_message


@pytest.fixture
def whatsapp(world):
    return make_channel(
        world.org, kind=ChannelKind.WHATSAPP, external_id="106540352242922", name="Kahve Evi"
    )


def test_the_list_shows_each_conversation_with_its_window_and_preview(client, world, whatsapp):
    conversation = make_conversation(
        whatsapp, name="Ayşe Yılmaz", last_inbound_at=timezone.now() - timedelta(hours=6)
    )
    make_message(conversation, text="Is the shop open today?")
    client.force_login(world.agent.user)

    page = client.get(reverse("inbox", args=[world.org.slug]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Ayşe Yılmaz" in html
    assert "Is the shop open today?" in html
    assert "17 h left" in html
    assert reverse("conversation", args=[world.org.slug, conversation.pk]) in html


def test_a_conversation_page_shows_messages_and_the_composer(client, world, whatsapp):
    conversation = make_conversation(whatsapp)
    make_message(conversation, text="Merhaba!")
    make_message(
        conversation,
        text="Hello, how can we help?",
        direction=Direction.OUTBOUND,
        author=world.agent.user,
    )
    client.force_login(world.agent.user)

    page = client.get(reverse("conversation", args=[world.org.slug, conversation.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Merhaba!" in html
    assert "Hello, how can we help?" in html
    assert 'name="text"' in html
