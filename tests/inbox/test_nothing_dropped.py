"""Nothing a customer sends is lost quietly: a delivery is `processed` only when all of
it was recorded or deliberately left out with a reason; what cannot be stored fails the
delivery, with the reason, so staff see it and can replay it."""

from __future__ import annotations

import pytest

from channels_meta.models import WebhookEventStatus
from inbox.models import Contact, Message
from tests.channels_meta import payloads as p
from tests.channels_meta.delivery import deliver
from tests.inbox.payloads import whatsapp as wa

pytestmark = pytest.mark.django_db


def test_a_whatsapp_message_from_a_username_customer_is_recorded(channels):
    event = deliver(wa.username_only_text())

    assert event.status == WebhookEventStatus.PROCESSED
    message = Message.objects.get()
    assert message.text == "Is this still available?"
    contact = message.conversation.contact
    assert (contact.external_id, contact.other_id, contact.phone) == (wa.BSUID, wa.BSUID, "")
    assert (contact.name, contact.username) == (wa.NAME, "@sheena")


def test_a_whatsapp_message_naming_no_customer_fails_the_event_with_the_reason(channels):
    payload = wa.delivery(
        {
            "messages": [
                {"id": "wamid.nobody", "timestamp": wa.TS, "type": "text", "text": {"body": "?"}}
            ]
        }
    )

    event = deliver(payload)

    assert event.status == WebhookEventStatus.FAILED
    assert "without a customer id" in event.error
    assert "wamid.nobody" in event.error
    assert not Message.objects.exists()


def test_a_message_without_an_id_fails_the_event_and_the_rest_is_still_recorded(channels):
    payload = p.messaging(
        "page",
        p.PAGE_ID,
        p.customer_message(p.PAGE_ID, "psid-1", "m_ok"),
        {
            "sender": {"id": "psid-1"},
            "recipient": {"id": p.PAGE_ID},
            "timestamp": p.T_MS,
            "message": {"text": "no mid"},
        },
    )

    event = deliver(payload)

    assert event.status == WebhookEventStatus.FAILED
    assert "without a message id" in event.error
    assert list(Message.objects.values_list("external_id", flat=True)) == ["m_ok"]


def test_a_messenger_message_without_a_sender_is_not_stored_under_an_empty_contact(channels):
    event = deliver(
        p.messaging(
            "page",
            p.PAGE_ID,
            {
                "recipient": {"id": p.PAGE_ID},
                "timestamp": p.T_MS,
                "message": {"mid": "m_x", "text": "hi"},
            },
        )
    )

    assert event.status == WebhookEventStatus.FAILED
    assert not Contact.objects.filter(external_id="").exists()


def test_events_padu_leaves_out_on_purpose_are_noted_and_the_event_is_processed(channels):
    base = {"sender": {"id": "psid-1"}, "recipient": {"id": p.PAGE_ID}, "timestamp": p.T_MS}
    event = deliver(
        p.messaging(
            "page",
            p.PAGE_ID,
            p.customer_message(p.PAGE_ID, "psid-1", "m_1"),
            {**base, "pass_thread_control": {"new_owner_app_id": "123", "metadata": "x"}},
        )
    )

    assert event.status == WebhookEventStatus.PROCESSED
    assert "Not recorded: a thread handover" in event.error


def test_an_unknown_whatsapp_field_is_noted(channels):
    event = deliver(wa.delivery({"history": [{"threads": []}]}, field="history"))

    assert event.status == WebhookEventStatus.IGNORED
    assert "Unhandled WhatsApp field 'history'" in event.error


def test_every_whatsapp_message_of_a_mixed_batch_is_recorded(channels):
    value = wa.message("wamid.a", "text", text={"body": "with phone"})
    value["messages"].append(
        {
            "from_user_id": "US.99",
            "id": "wamid.b",
            "timestamp": wa.TS,
            "type": "text",
            "text": {"body": "bsuid"},
        }
    )
    value["contacts"].append({"profile": {"name": "Other"}, "user_id": "US.99"})

    event = deliver(wa.delivery(value))

    assert event.status == WebhookEventStatus.PROCESSED
    assert Message.objects.count() == 2
    assert Contact.objects.get(external_id="US.99").name == "Other"


def test_an_edit_or_reaction_naming_no_message_fails_the_event_with_the_reason(channels):
    edit = wa.edit("")
    reaction = {
        "sender": {"id": "psid-1"},
        "recipient": {"id": p.PAGE_ID},
        "timestamp": p.T_MS,
        "reaction": {"action": "react", "emoji": "x"},
    }

    events = [deliver(edit), deliver(p.messaging("page", p.PAGE_ID, reaction))]

    assert [event.status for event in events] == [WebhookEventStatus.FAILED] * 2
    assert "edit without the id of its message" in events[0].error
    assert "reaction without the id of its message" in events[1].error
