"""Customers as Meta identifies them: WhatsApp customers by phone id and/or
business-scoped user id (BSUID), Messenger chat-plugin users by user_ref until their
Page-scoped id arrives; one contact and one conversation whichever ids come, merged when
Meta shows two are the same customer."""

from __future__ import annotations

import json

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_meta.graph import client as graph_client
from channels_meta.graph.calls import sending
from inbox.models import Contact, Conversation, Message
from tests.channels_meta import payloads as p
from tests.channels_meta.delivery import deliver
from tests.inbox.payloads import messenger as ms
from tests.inbox.payloads import whatsapp as wa

pytestmark = pytest.mark.django_db


def test_a_username_customer_who_later_shares_their_number_stays_one_contact(channels):
    deliver(wa.username_only_text("wamid.1"))
    deliver(wa.text_with_phone_and_bsuid("wamid.2"))

    contact = Contact.objects.get()
    assert (contact.external_id, contact.other_id, contact.phone) == (wa.PHONE, wa.BSUID, wa.PHONE)
    conversation = Conversation.objects.get()
    assert conversation.messages.count() == 2
    assert conversation.unread_count == 2


def test_a_known_number_that_then_writes_with_only_its_bsuid_finds_the_same_contact(channels):
    deliver(wa.text_with_phone_and_bsuid("wamid.1"))
    deliver(wa.username_only_text("wamid.2"))

    contact = Contact.objects.get()
    assert (contact.external_id, contact.other_id) == (wa.PHONE, wa.BSUID)
    assert Conversation.objects.get().messages.count() == 2


def test_a_number_known_before_bsuids_gets_its_bsuid_when_both_arrive(channels):
    deliver(wa.text_phone_only("wamid.1"))
    deliver(wa.text_with_phone_and_bsuid("wamid.2"))

    contact = Contact.objects.get()
    assert (contact.external_id, contact.other_id) == (wa.PHONE, wa.BSUID)


def test_two_contacts_meta_shows_to_be_one_customer_are_merged(channels):
    deliver(wa.text_phone_only("wamid.1", body="from the number"))
    deliver(wa.username_only_text("wamid.2"))
    assert Contact.objects.count() == 2

    deliver(wa.text_with_phone_and_bsuid("wamid.3", body="both ids"))

    contact = Contact.objects.get()
    assert (contact.external_id, contact.other_id) == (wa.PHONE, wa.BSUID)
    conversation = Conversation.objects.get()
    assert sorted(conversation.messages.values_list("external_id", flat=True)) == [
        "wamid.1",
        "wamid.2",
        "wamid.3",
    ]
    assert conversation.unread_count == 3


def test_a_status_for_a_message_sent_to_a_bsuid_reaches_it(channels, world):
    deliver(wa.username_only_text("wamid.in"))
    conversation = Conversation.objects.get()
    sent = Message.objects.create(
        organization=world.org,
        channel=channels["whatsapp"],
        conversation=conversation,
        direction="out",
        external_id="wamid.out",
        text="Yes, it is",
        status="sent",
    )
    payload = wa.status("wamid.out", "read")
    del payload["entry"][0]["changes"][0]["value"]["statuses"][0]["recipient_id"]

    deliver(payload)

    sent.refresh_from_db()
    assert sent.status == "read"


def test_a_customer_who_changed_their_number_keeps_their_conversation(channels):
    deliver(wa.text_with_phone_and_bsuid("wamid.1"))

    deliver(wa.changed_number(new_phone="16505559999"))
    deliver(
        wa.delivery(
            wa.message(
                "wamid.3", "text", phone="16505559999", user_id="US.777", text={"body": "new"}
            )
        )
    )

    contact = Contact.objects.get()
    assert (contact.external_id, contact.phone, contact.other_id) == (
        "16505559999",
        "16505559999",
        "US.777",
    )
    conversation = Conversation.objects.get()
    line = conversation.messages.get(external_id="wamid.HBgLsystem")
    assert (line.kind, line.direction) == ("system", "in")
    assert line.text == f"User {wa.NAME} changed from {wa.PHONE} to 16505559999"
    assert line.extra["system"]["type"] == "user_changed_number"
    assert conversation.unread_count == 2  # the system line is not a message to answer


def test_a_chat_plugin_user_known_by_user_ref_continues_once_their_psid_arrives(channels):
    deliver(ms.delivery(ms.from_user_ref("m_plugin_1", "Hello from the website")))
    contact = Contact.objects.get()
    assert (contact.external_id, contact.other_id) == (ms.USER_REF, ms.USER_REF)

    deliver(ms.delivery(ms.first_message_after_user_ref("m_plugin_2")))

    contact = Contact.objects.get()
    assert (contact.external_id, contact.other_id) == (ms.PSID, ms.USER_REF)
    assert Conversation.objects.get().messages.count() == 2


def test_a_comment_without_an_author_gets_no_contact_with_an_empty_id(channels):
    payload = p.comment("17900000000000001", text="Nice!")
    del payload["entry"][0]["changes"][0]["value"]["from"]

    deliver(payload)

    assert not Contact.objects.filter(external_id="").exists()
    message = Message.objects.get()
    assert (message.text, message.direction) == ("Nice!", "in")
    assert message.conversation.contact.external_id == "comment-17900000000000001"


def test_a_reply_without_an_author_joins_its_thread_without_a_new_contact(channels):
    deliver(p.comment("c1", "Price?"))
    payload = p.comment("c2", "Me too", parent_id="c1")
    del payload["entry"][0]["changes"][0]["value"]["from"]

    deliver(payload)

    assert Contact.objects.count() == 1
    assert Conversation.objects.get().messages.count() == 2


@pytest.fixture
def graph(settings):
    settings.META_GRAPH_URL = "https://graph.facebook.com"
    requests = []

    def answer(request):
        body = json.loads(request.content)
        requests.append(body)
        if "recipient" in body:
            contact = {"input": body["recipient"], "user_id": body["recipient"]}
        else:
            contact = {"input": body["to"], "wa_id": body["to"]}
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [contact],
                "messages": [{"id": "wamid.sent"}],
            },
        )

    graph_client.use_transport(httpx.MockTransport(answer))
    yield requests
    graph_client.use_transport(None)


def test_a_reply_to_a_username_customer_is_addressed_to_their_bsuid(graph):
    sent = sending.whatsapp_text_send(
        phone_number_id=p.PHONE_ID, token="EAAGtoken", to=wa.BSUID, text="Hello!"
    )

    assert graph[-1]["recipient"] == wa.BSUID
    assert "to" not in graph[-1]
    assert sent.recipient_id == wa.BSUID


def test_a_reply_to_a_phone_number_still_uses_to(graph):
    sent = sending.whatsapp_template_send(
        phone_number_id=p.PHONE_ID, token="EAAGtoken", to=wa.PHONE, name="hello", language="en"
    )

    assert graph[-1]["to"] == wa.PHONE
    assert "recipient" not in graph[-1]
    assert sent.recipient_id == wa.PHONE


def whatsapp_batch(first: int, count: int) -> dict:
    """One delivery with `count` messages from as many customers, half of them known only
    by their business-scoped user id."""
    value: dict = {"contacts": [], "messages": []}
    for n in range(first, first + count):
        phone = f"1650555{n:04d}" if n % 2 else None
        value["contacts"].append(wa.contact(phone, f"US.{n}"))
        value["messages"].append(
            {
                **({"from": phone} if phone else {}),
                "from_user_id": f"US.{n}",
                "id": f"wamid.batch{n}",
                "timestamp": wa.TS,
                "type": "text",
                "text": {"body": "Hi"},
            }
        )
    return wa.delivery(value)


def test_recording_a_batch_takes_as_many_queries_for_many_customers_as_for_few(channels):
    with CaptureQueriesContext(connection) as few:
        deliver(whatsapp_batch(0, 2))
    with CaptureQueriesContext(connection) as many:
        deliver(whatsapp_batch(100, 40))

    assert Message.objects.count() == 42
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_captured_delivery_with_both_ids_keeps_everything_meta_sent(channels):
    deliver(wa.captured_text_with_bsuid())

    message = Message.objects.get()
    assert message.text == "Hey"
    assert message.extra == {
        "other_fields": {"from_logical_id": "95000398405635"},
        "contact": {"country_code": "IN"},
    }
    contact = message.conversation.contact
    assert (contact.external_id, contact.other_id, contact.phone, contact.name) == (
        "919810218674",
        "IN.1410018717833190",
        "919810218674",
        "Krish Thakur",
    )


def test_a_checkbox_opt_in_starts_a_conversation_its_psid_continues(channels):
    optin = {
        "recipient": {"id": p.PAGE_ID},
        "timestamp": ms.T_MS,
        "optin": {"ref": "order-updates", "user_ref": ms.USER_REF},
    }
    deliver(ms.delivery(optin))
    line = Message.objects.get()
    assert (line.kind, line.text, line.conversation.contact.external_id) == (
        "system",
        "order-updates",
        ms.USER_REF,
    )

    deliver(ms.delivery(ms.first_message_after_user_ref("m_reply")))

    assert Contact.objects.get().external_id == ms.PSID
    assert Conversation.objects.get().messages.count() == 2


def test_a_username_customer_sharing_their_number_on_request_fills_in_the_phone(channels):
    # Meta's business-scoped user ids guide: the answer to a REQUEST_CONTACT_INFO button.
    deliver(wa.username_only_text("wamid.1"))
    value = {
        "contacts": [{"profile": {"name": wa.NAME, "username": "@sheena"}, "user_id": wa.BSUID}],
        "messages": [
            {
                "id": "wamid.2",
                "timestamp": wa.TS,
                "type": "contacts",
                "origin": "contact_request",
                "contacts": [{"vcard": "BEGIN:VCARD...", "phones": [{"phone": "+1 650-555-1234"}]}],
            }
        ],
    }

    deliver(wa.delivery(value))

    contact = Contact.objects.get()
    assert (contact.external_id, contact.phone) == (wa.BSUID, "+1 650-555-1234")
    assert Conversation.objects.get().messages.count() == 2
