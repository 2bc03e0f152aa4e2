"""Messenger content is kept: stickers (the thumbs-up "like" told apart), locations,
fallbacks, replies, referrals from ads and links, echoes with the app that sent them."""

from __future__ import annotations

import pytest

from channels_meta.models import WebhookEventStatus
from inbox.models import Conversation, Message
from tests.channels_meta.delivery import deliver
from tests.inbox.payloads import messenger as ms

pytestmark = pytest.mark.django_db


def received(*items) -> Message:
    event = deliver(ms.delivery(*items))
    assert event.status == WebhookEventStatus.PROCESSED, event.error
    return Message.objects.order_by("id").last()


def test_the_like_sticker_is_a_like_not_an_ordinary_image(channels):
    attachment = received(ms.like_sticker()).attachments[0]

    assert attachment["type"] == "sticker"
    assert attachment["sticker_id"] == "369239263222822"
    assert attachment["like"] is True
    assert attachment["url"].startswith("https://scontent.xx.fbcdn.net/")


def test_a_location_keeps_its_coordinates_and_name(channels):
    attachment = received(ms.location()).attachments[0]

    assert attachment["type"] == "location"
    assert (attachment["latitude"], attachment["longitude"]) == (41.0256, 28.9741)
    assert attachment["name"] == attachment["title"] == "Galata Tower"
    assert attachment["url"].startswith("https://l.facebook.com/")


def test_a_fallback_keeps_its_title_and_link(channels):
    attachment = received(ms.fallback()).attachments[0]

    assert attachment == {
        "type": "fallback",
        "url": "https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example%2Fsummer",
        "title": "Our summer collection",
    }


def test_a_reply_names_the_message_replied_to(channels):
    received(ms.text("m_1", "Which colours?"))

    assert received(ms.reply("m_2", "m_1")).reply_to_external_id == "m_1"


def test_an_ad_referral_is_a_line_in_the_conversation_that_remembers_the_ad(channels):
    received(ms.text("m_1", "Hi"))

    line = received(ms.ad_referral_event())

    assert (line.kind, line.text) == ("system", "Summer sale: 30% off")
    conversation = Conversation.objects.get()
    assert conversation.referral["ad_id"] == "23851234567890123"
    assert conversation.referral["ads_context_data"]["photo_url"].startswith("https://")
    assert conversation.unread_count == 1


def test_a_get_started_from_a_link_keeps_its_referral(channels):
    message = received(ms.get_started_from_a_link())

    assert message.text == "Get Started"
    assert message.extra["postback_payload"] == "GET_STARTED"
    assert message.extra["referral"]["ref"] == "instagram-bio"
    assert message.conversation.referral == message.extra["referral"]


def test_an_echo_keeps_the_app_that_sent_it_and_its_metadata(channels):
    received(ms.text("m_1", "Hi"))

    echo = received(ms.echo("m_echo", "Hello from the Page inbox", app_id="263902037430900"))

    assert (echo.direction, echo.extra["app_id"]) == ("out", "263902037430900")
    assert echo.extra["other_fields"] == {"metadata": "note"}
