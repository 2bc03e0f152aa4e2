"""Every kind of WhatsApp content is kept: what staff need to answer in the message's
text, attachments and structured `extra`, the rest of Meta's item in `extra` too."""

from __future__ import annotations

import pytest

from channels_meta.models import WebhookEventStatus
from inbox.models import Contact, Conversation, Message, OrderRecord
from tests.channels_meta.delivery import deliver
from tests.inbox.payloads import whatsapp as wa

pytestmark = pytest.mark.django_db


def received(payload) -> Message:
    event = deliver(payload)
    assert event.status == WebhookEventStatus.PROCESSED, event.error
    return Message.objects.get()


def test_a_voice_note_is_told_apart_from_an_audio_file(channels):
    message = received(wa.voice_note())

    assert message.attachments == [
        {
            "type": "audio",
            "media_id": "1003383421387256",
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "e/2LKBc2QhQV6ivkK4wYEQNJhk4QEZkv4cCT0ZqN2Bo=",
            "voice": True,
        }
    ]


def test_an_animated_sticker_is_marked(channels):
    attachment = received(wa.animated_sticker()).attachments[0]

    assert (attachment["type"], attachment["animated"]) == ("sticker", True)


def test_a_forwarded_image_reply_keeps_its_caption_context_and_flags(channels):
    message = received(wa.forwarded_image_reply())

    assert message.text == "This one, in blue?"
    assert message.reply_to_external_id == "wamid.HBgLbusiness1"
    assert message.extra["forwarded"] is True
    assert message.extra["frequently_forwarded"] is True
    assert message.extra["context"] == {"from": "15550783881"}
    assert message.attachments[0]["media_id"] == "1190325275788166"


def test_a_location_keeps_coordinates_name_address_and_link(channels):
    message = received(wa.location())

    assert message.text == "Meta Headquarters"
    assert message.attachments == [
        {
            "type": "location",
            "latitude": 37.483307,
            "longitude": -122.148981,
            "name": "Meta Headquarters",
            "address": "1 Hacker Way, Menlo Park, CA 94025",
            "url": "https://www.meta.com",
        }
    ]


def test_a_shared_contact_card_is_kept_whole(channels):
    message = received(wa.contact_card())

    assert message.text == "Barbara J. Johnson"
    card = message.attachments[0]["contacts"][0]
    assert card["phones"] == [
        {"phone": "+1 (940) 555-1234", "wa_id": "19405551234", "type": "WORK"}
    ]
    assert card["org"] == {"company": "Lucky Shrub", "title": "Manager"}


def test_a_click_to_whatsapp_ad_is_kept_on_the_message_and_the_conversation(channels):
    message = received(wa.click_to_whatsapp_ad())

    referral = message.extra["referral"]
    assert referral["source_id"] == "120226305854810726"
    assert (referral["source_type"], referral["headline"]) == ("ad", "Chat with us")
    assert referral["ctwa_clid"].startswith("Afe5BaeC")
    assert referral["image_url"] == "https://scontent.xx.fbcdn.net/v/t45.1600-4/ad.jpg"
    assert message.conversation.referral == referral


def test_an_order_keeps_its_catalog_and_items(channels):
    message = received(wa.order())

    assert message.text == "Please deliver before Friday"
    assert message.extra["order"] == {
        "catalog_id": "194836987003835",
        "text": "Please deliver before Friday",
        "product_items": [
            {
                "product_retailer_id": "di9ozbzfi4",
                "quantity": 2,
                "item_price": 30,
                "currency": "USD",
            },
            {
                "product_retailer_id": "nqryix03ez",
                "quantity": 1,
                "item_price": 25.5,
                "currency": "USD",
            },
        ],
    }


def test_an_order_is_written_down_once_for_the_books(channels):
    payload = wa.order()
    message = received(payload)
    deliver(payload)  # Meta delivers it again

    record = OrderRecord.objects.get()
    assert record.organization_id == message.organization_id
    assert record.contact == message.conversation.contact
    assert record.customer_id == message.conversation.contact.external_id
    assert record.message_external_id == message.external_id
    assert record.ordered_at == message.sent_at
    assert (record.catalog_id, record.items) == (
        "194836987003835",
        message.extra["order"]["product_items"],
    )


def test_a_product_enquiry_names_the_product(channels):
    message = received(wa.product_enquiry())

    assert message.text == "Does it come in red?"
    assert message.extra["product"] == {
        "catalog_id": "194836987003835",
        "product_retailer_id": "di9ozbzfi4",
    }


def test_reply_buttons_and_list_rows_keep_id_title_and_description(channels):
    deliver(wa.button_reply())
    deliver(wa.list_reply())

    button = Message.objects.get(external_id="wamid.HBgLbutton")
    row = Message.objects.get(external_id="wamid.HBgLlist")
    assert button.text == "Cancel"
    assert button.extra["interactive"] == {
        "type": "button_reply",
        "id": "cancel-button",
        "title": "Cancel",
    }
    assert row.extra["interactive"] == {
        "type": "list_reply",
        "id": "priority_express",
        "title": "Priority Mail Express",
        "description": "Next Day to 2 Days",
    }
    assert row.reply_to_external_id == "wamid.HBgLmenu"


def test_a_completed_flow_keeps_its_answers_parsed(channels):
    message = received(wa.flow_completion())

    assert message.extra["flow_reply"] == {
        "name": "flow",
        "body": "Sent",
        "response": {
            "flow_token": "AQAAAAACS5FpgQ_cAAAAAD0QI3s.",
            "appointment_date": "2026-12-01",
            "party_size": "4",
        },
    }


def test_a_template_quick_reply_keeps_payload_and_text(channels):
    message = received(wa.template_quick_reply())

    assert message.text == "Stop promotions"
    assert message.extra["button_payload"] == "STOP_PROMOTIONS"
    assert message.reply_to_external_id == "wamid.HBgLtemplate"


def test_an_unsupported_message_keeps_metas_errors(channels):
    message = received(wa.unsupported())

    assert message.extra["unsupported"] == "unsupported"
    assert message.extra["errors"] == [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "details": "Message type is currently not supported.",
        }
    ]
    assert message.extra["unsupported_content"] == {"type": "poll"}


def test_an_identity_change_is_a_system_line(channels):
    message = received(wa.identity_changed())

    assert (message.kind, message.text) == ("system", "User's identity changed")
    assert message.extra["system"]["identity"] == "Sjvjlx8G6Z0="
    assert Conversation.objects.get().unread_count == 0


def test_an_identity_change_is_noted_on_the_contact(channels):
    deliver(wa.text_with_phone_and_bsuid("wamid.before"))
    assert Contact.objects.get().identity_changed_at is None

    deliver(wa.identity_changed())

    contact = Contact.objects.get()
    line = Message.objects.get(external_id="wamid.HBgLidentity")
    assert contact.identity_changed_at == line.sent_at
    assert contact.external_id == wa.PHONE


def outbound(world, channels, wamid="wamid.out") -> Message:
    deliver(wa.text_with_phone_and_bsuid("wamid.in"))
    return Message.objects.create(
        organization=world.org,
        channel=channels["whatsapp"],
        conversation=Conversation.objects.get(),
        direction="out",
        external_id=wamid,
        text="Voice note for you",
        status="sent",
    )


def test_a_status_keeps_pricing_conversation_and_callback_data(channels, world):
    sent = outbound(world, channels)

    deliver(wa.delivered_with_pricing("wamid.out"))

    sent.refresh_from_db()
    assert sent.status == "delivered"
    assert sent.extra["pricing"] == {
        "billable": True,
        "pricing_model": "PMP",
        "category": "service",
        "type": "free_customer_service",
    }
    assert sent.extra["conversation"] == {
        "id": "2e6e4f5b0a2e2b7d9c4c9d1d0e4e0a33",
        "expiration_timestamp": "1739407430",
        "origin": {"type": "service"},
    }
    assert sent.extra["biz_opaque_callback_data"] == "order-1234"


def test_a_status_padu_does_not_track_is_kept_in_the_history(channels, world):
    sent = outbound(world, channels)

    deliver(wa.played("wamid.out"))
    deliver(wa.played("wamid.out"))

    sent.refresh_from_db()
    assert sent.status == "sent"
    assert sent.extra["statuses"] == [{"status": "played", "at": "2025-02-12T00:43:50+00:00"}]


def test_pricing_reported_before_the_message_is_recorded_waits_for_it(channels):
    deliver(wa.text_with_phone_and_bsuid("wamid.in"))
    deliver(wa.delivered_with_pricing("wamid.echo"))

    deliver(wa.business_app_echo("wamid.echo"))

    sent = Message.objects.get(external_id="wamid.echo")
    assert sent.status == "delivered"
    assert sent.extra["pricing"]["category"] == "service"


def test_what_the_business_sends_from_the_whatsapp_business_app_is_outbound(channels):
    deliver(wa.text_with_phone_and_bsuid("wamid.in"))

    deliver(wa.business_app_echo())

    echo = Message.objects.get(external_id="wamid.HBgLecho")
    assert (echo.direction, echo.status, echo.text) == ("out", "sent", "Your order has shipped")
    assert echo.conversation == Message.objects.get(external_id="wamid.in").conversation
    assert Conversation.objects.get().unread_count == 1


def test_a_marketing_opt_out_and_back_in_is_recorded_on_the_contact(channels):
    deliver(wa.marketing_preference("stop", timestamp=1739321024))
    contact = Contact.objects.get()
    assert contact.marketing_opt_out is True
    assert contact.marketing_opt_out_at.timestamp() == 1739321024

    deliver(wa.marketing_preference("resume", timestamp=1739321100))
    deliver(wa.marketing_preference("stop", timestamp=1739321050))  # older, arriving late

    contact.refresh_from_db()
    assert contact.marketing_opt_out is False
    assert contact.marketing_opt_out_at.timestamp() == 1739321100
    assert (contact.external_id, contact.other_id, contact.name) == (wa.PHONE, wa.BSUID, wa.NAME)


def test_a_marketing_opt_out_sent_as_a_system_message_is_recorded_too(channels):
    payload = wa.delivery(
        wa.message(
            "wamid.pref",
            "system",
            system={
                "body": "User requested to stop marketing messages",
                "marketing": "stop",
                "type": "user_preference_changed",
            },
        )
    )

    deliver(payload)

    assert Contact.objects.get().marketing_opt_out is True
    assert Message.objects.get().kind == "system"
