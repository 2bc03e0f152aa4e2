"""What the inbox makes of Meta's events: contacts, conversations and messages, each
once; outbound statuses only move forward; a channel's events recorded in the order
they arrived."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from channels_meta.webhooks.events import (
    CommentEvent,
    MessageEvent,
    ReactionEvent,
    Route,
    StatusEvent,
    TemplateStatusEvent,
)
from inbox.models import Contact, Conversation, ConversationStatus, Message, PendingReceipt
from inbox.services import recording
from tests.channels_meta import payloads as p
from tests.channels_meta.delivery import deliver, deliver_and_get_conversation

pytestmark = pytest.mark.django_db

T = datetime.fromtimestamp(p.T_MS / 1000, tz=UTC)
PAGE = Route(kind="messenger", external_id=p.PAGE_ID)
INSTAGRAM = Route(kind="instagram", external_id=p.IG_ID)


def outbound(world, channel, conversation, external_id, status="sent"):
    return Message.objects.create(
        organization=world.org,
        channel=channel,
        conversation=conversation,
        direction="out",
        external_id=external_id,
        text="reply",
        status=status,
        sent_at=conversation.last_inbound_at,
    )


def test_the_same_message_delivered_again_adds_nothing(channels):
    payload = p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, "psid-1", "m_dup"))

    deliver(payload)
    deliver(payload)

    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


def test_an_echo_of_a_message_padu_sent_updates_it_instead_of_adding_a_copy(channels, world):
    conversation = deliver_and_get_conversation(p.PAGE_ID, "psid-1")
    sent = Message.objects.create(
        organization=world.org,
        channel=channels["messenger"],
        conversation=conversation,
        direction="out",
        external_id="m_ours",
        text="hi",
        status="queued",
    )

    deliver(p.messaging("page", p.PAGE_ID, p.echo(p.PAGE_ID, "psid-1", "m_ours", app_id="1")))

    sent.refresh_from_db()
    assert sent.status == "sent"
    assert Message.objects.filter(direction="out").count() == 1


def test_an_echo_from_metas_own_apps_is_recorded_as_outbound(channels):
    deliver_and_get_conversation(p.PAGE_ID, "psid-1")

    deliver(p.messaging("page", p.PAGE_ID, p.echo(p.PAGE_ID, "psid-1", "m_from_inbox_app")))

    message = Message.objects.get(external_id="m_from_inbox_app")
    assert (message.direction, message.status, message.author) == ("out", "sent", None)
    assert Conversation.objects.get().unread_count == 1


STATUSES = ["sent", "delivered", "read"]


@pytest.mark.parametrize("order", list(itertools.permutations([*STATUSES, "delivered"])))
def test_whatsapp_statuses_in_any_order_end_at_the_furthest(channels, world, order):
    deliver(p.whatsapp_message("15550002222", "wamid.in"))
    message = outbound(
        world, channels["whatsapp"], Conversation.objects.get(), "wamid.out", status="queued"
    )

    for status in order:
        deliver(p.whatsapp_status("wamid.out", status))

    message.refresh_from_db()
    assert message.status == "read"
    assert message.delivered_at is not None
    assert message.read_at is not None


def test_a_failed_status_keeps_metas_code_and_reason_and_never_undoes_a_read(channels, world):
    deliver(p.whatsapp_message("15550002222", "wamid.in"))
    conversation = Conversation.objects.get()
    failed = outbound(world, channels["whatsapp"], conversation, "wamid.fail")
    read = outbound(world, channels["whatsapp"], conversation, "wamid.read", status="read")
    error = [
        {
            "code": 131047,
            "title": "Re-engagement message",
            "message": "...",
            "error_data": {"details": "More than 24 hours have passed."},
        }
    ]

    deliver(p.whatsapp_status("wamid.fail", "failed", errors=error))
    deliver(p.whatsapp_status("wamid.read", "failed", errors=error))

    failed.refresh_from_db()
    read.refresh_from_db()
    assert (failed.status, failed.error_code) == ("failed", 131047)
    assert failed.error_reason == "Re-engagement message — More than 24 hours have passed."
    assert read.status == "read"


def test_a_status_for_a_message_not_recorded_yet_is_applied_when_it_appears(channels):
    deliver_and_get_conversation(p.PAGE_ID, "psid-1")
    deliver(
        p.messaging(
            "page",
            p.PAGE_ID,
            {
                "sender": {"id": "psid-1"},
                "recipient": {"id": p.PAGE_ID},
                "timestamp": p.T_MS + 5,
                "read": {"mid": "m_later"},
            },
        )
    )
    assert PendingReceipt.objects.count() == 1

    deliver(p.messaging("page", p.PAGE_ID, p.echo(p.PAGE_ID, "psid-1", "m_later")))

    assert Message.objects.get(external_id="m_later").status == "read"
    assert not PendingReceipt.objects.exists()


def test_messenger_delivery_and_read_watermarks_cover_earlier_messages(channels, world):
    conversation = deliver_and_get_conversation(p.PAGE_ID, "psid-1")
    first = outbound(world, channels["messenger"], conversation, "m_o1")
    second = outbound(world, channels["messenger"], conversation, "m_o2")
    receipt = {"sender": {"id": "psid-1"}, "recipient": {"id": p.PAGE_ID}, "timestamp": p.T_MS + 10}

    deliver(
        p.messaging(
            "page",
            p.PAGE_ID,
            {**receipt, "delivery": {"mids": ["m_o1"], "watermark": p.T_MS + 10}},
            {**receipt, "read": {"watermark": p.T_MS + 10}},
        )
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("read", "read")


def test_reactions_are_set_and_taken_back(channels):
    deliver_and_get_conversation(p.PAGE_ID, "psid-1")
    react = {
        "sender": {"id": "psid-1"},
        "recipient": {"id": p.PAGE_ID},
        "timestamp": p.T_MS,
        "reaction": {"mid": "m_first_psid-1", "action": "react", "reaction": "love", "emoji": "❤️"},
    }

    deliver(p.messaging("page", p.PAGE_ID, react))
    assert Message.objects.get().reaction == "❤️"
    deliver(
        p.messaging(
            "page", p.PAGE_ID, {**react, "reaction": {"mid": "m_first_psid-1", "action": "unreact"}}
        )
    )
    assert Message.objects.get().reaction == ""


def test_instagram_comments_become_threads_and_replies_join_them(channels):
    deliver(p.comment("c1", "Price?"))
    deliver(p.comment("c2", "How much?", parent_id="c1", from_id="5550002"))
    deliver(p.comment("c3", "Replied in DM", parent_id="c1", from_id=p.IG_ID, username="shop"))

    thread = Conversation.objects.get(kind="comment")
    assert thread.comment_id == "c1"
    assert thread.media_id == "18000000000000001"
    assert [(m.external_id, m.direction) for m in thread.messages.order_by("id")] == [
        ("c1", "in"),
        ("c2", "in"),
        ("c3", "out"),
    ]


def test_a_whatsapp_reaction_marks_the_message(channels):
    deliver(p.whatsapp_message("905550001122", "wamid.a"))

    deliver(
        p.whatsapp_message(
            "905550001122",
            "wamid.r",
            kind="reaction",
            reaction={"message_id": "wamid.a", "emoji": "👍"},
        )
    )

    assert Message.objects.get().reaction == "👍"


def test_a_new_message_reopens_a_resolved_conversation(channels):
    conversation = deliver_and_get_conversation(p.PAGE_ID, "psid-1")
    Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.RESOLVED)

    deliver(
        p.messaging(
            "page",
            p.PAGE_ID,
            p.customer_message(p.PAGE_ID, "psid-1", "m_again", at=p.T_MS + 60_000),
        )
    )

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.last_inbound_at.timestamp() == (p.T_MS + 60_000) / 1000


def message(external_id, customer="psid-1", at=T, route=PAGE, **fields):
    return MessageEvent(route=route, customer_id=customer, external_id=external_id, at=at, **fields)


def comment(comment_id, at=T):
    return CommentEvent(
        route=INSTAGRAM,
        comment_id=comment_id,
        media_id="18000000000000001",
        customer_id="5550001",
        username="a_customer",
        text="Price?",
        at=at,
    )


def test_a_status_for_a_message_earlier_in_the_list_is_applied_after_it_is_recorded(channels):
    sent_at = T + timedelta(seconds=1)
    read = StatusEvent(
        route=PAGE,
        customer_id="psid-1",
        status="read",
        at=T + timedelta(seconds=2),
        watermark=T + timedelta(seconds=2),
    )

    recording.events_record(
        channel=channels["messenger"],
        events=[message("m_hi"), message("m_ours", at=sent_at, is_echo=True), read],
    )

    assert Message.objects.get(external_id="m_ours").status == "read"
    assert not PendingReceipt.objects.exists()


def test_a_reaction_to_a_message_earlier_in_the_list_lands_on_it(channels):
    recording.events_record(
        channel=channels["messenger"],
        events=[
            message("m_hi"),
            ReactionEvent(
                route=PAGE, customer_id="psid-1", target_external_id="m_hi", emoji="❤️", at=T
            ),
        ],
    )

    assert Message.objects.get().reaction == "❤️"


def test_a_comment_between_messages_is_recorded_between_them(channels):
    instagram = channels["instagram"]

    recording.events_record(
        channel=instagram,
        events=[
            message("aWd_1", customer="igsid-1", route=INSTAGRAM),
            comment("c1"),
            message("aWd_2", customer="igsid-1", route=INSTAGRAM),
        ],
    )

    in_order = Message.objects.order_by("id").values_list("external_id", flat=True)
    assert list(in_order) == ["aWd_1", "c1", "aWd_2"]


def test_consecutive_messages_are_one_batch_and_anything_else_closes_it(channels, monkeypatch):
    calls = []
    record_messages = recording.messages_record
    record_comment = recording.comment_record

    def messages_record(*, channel, events):
        calls.append([e.external_id for e in events])
        return record_messages(channel=channel, events=events)

    def comment_record(*, channel, event):
        calls.append(event.comment_id)
        return record_comment(channel=channel, event=event)

    monkeypatch.setattr(recording, "messages_record", messages_record)
    monkeypatch.setattr(recording, "comment_record", comment_record)

    recording.events_record(
        channel=channels["instagram"],
        events=[
            message("aWd_1", customer="igsid-1", route=INSTAGRAM),
            message("aWd_2", customer="igsid-2", route=INSTAGRAM),
            comment("c1"),
            comment("c2"),
            message("aWd_3", customer="igsid-1", route=INSTAGRAM),
        ],
    )

    assert calls == [["aWd_1", "aWd_2"], "c1", "c2", ["aWd_3"]]
    assert Message.objects.count() == 5


def test_events_that_are_not_the_inboxs_are_refused(channels):
    template = TemplateStatusEvent(
        route=Route(kind="whatsapp", external_id=p.WABA_ID, by_waba=True),
        name="order_update",
        language="en_US",
        status="APPROVED",
    )

    with pytest.raises(TypeError):
        recording.events_record(channel=channels["whatsapp"], events=[template])


def test_names_meta_sends_later_fill_in_or_correct_a_contact(channels):
    whatsapp = channels["whatsapp"]
    first = recording.contact_upsert(channel=whatsapp, external_id="905550001122", name="Ali")

    again = recording.contact_upsert(
        channel=whatsapp, external_id="905550001122", name="Ali Veli", phone="905550001122"
    )
    recording.contact_upsert(channel=whatsapp, external_id="905550001122", name="")

    contact = Contact.objects.get()
    assert again.pk == first.pk
    assert (contact.name, contact.phone) == ("Ali Veli", "905550001122")


def test_a_batch_fills_in_a_known_contacts_name(channels):
    whatsapp = channels["whatsapp"]
    route = Route(kind="whatsapp", external_id=p.PHONE_ID)
    recording.contact_upsert(channel=whatsapp, external_id="905550001122")

    recording.messages_record(
        channel=whatsapp,
        events=[
            message("wamid.1", customer="905550001122", route=route),
            message("wamid.2", customer="905550001122", route=route, customer_name="Ali"),
        ],
    )

    assert Contact.objects.get().name == "Ali"
    assert Conversation.objects.get().unread_count == 2


def test_a_receipt_that_waits_for_its_message_belongs_to_the_channels_organisation(channels):
    whatsapp = channels["whatsapp"]

    recording.events_record(
        channel=whatsapp,
        events=[
            StatusEvent(
                route=Route(kind="whatsapp", external_id=p.PHONE_ID),
                customer_id="15550002222",
                status="delivered",
                at=T,
                external_ids=("wamid.later",),
            )
        ],
    )

    assert PendingReceipt.objects.for_org(whatsapp.organization).count() == 1
