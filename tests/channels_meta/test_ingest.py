"""Every payload kind from META.md lands in the inbox once, statuses only move forward,
and odd input is recorded, never fatal."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.db import connection
from django.urls import reverse

from channels_meta import tasks
from channels_meta.connected import ConnectedAccount
from channels_meta.models import ChannelKind, MessageTemplate, WebhookEvent, WebhookEventStatus
from channels_meta.services.channels import channel_connect
from channels_meta.webhooks import processing
from inbox import services as inbox_services
from inbox.models import Contact, Conversation, ConversationStatus, Message, PendingReceipt
from tests.channels_meta import payloads as p
from tests.channels_meta.factories import make_channel
from tests.otp import sign_in_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def channels(world):
    return {
        "messenger": make_channel(world.org, kind=ChannelKind.MESSENGER, external_id=p.PAGE_ID),
        "instagram": make_channel(world.org, kind=ChannelKind.INSTAGRAM, external_id=p.IG_ID),
        "whatsapp": make_channel(
            world.org, kind=ChannelKind.WHATSAPP, external_id=p.PHONE_ID, waba_id=p.WABA_ID
        ),
    }


def deliver(payload) -> WebhookEvent:
    body = payload if isinstance(payload, bytes) else p.encode(payload)
    event = WebhookEvent.objects.create(body=body)
    processing.webhook_event_process(event_id=event.pk)
    event.refresh_from_db()
    return event


def test_a_messenger_text_with_an_attachment_creates_contact_conversation_and_message(channels):
    event = deliver(
        p.messaging(
            "page",
            p.PAGE_ID,
            p.customer_message(
                p.PAGE_ID,
                "psid-1",
                "m_AbC1",
                text="hello",
                attachments=[{"type": "image", "payload": {"url": "https://cdn.example/1.jpg"}}],
            ),
        )
    )

    assert event.status == WebhookEventStatus.PROCESSED
    message = Message.objects.get()
    assert (message.direction, message.text, message.external_id) == ("in", "hello", "m_AbC1")
    assert message.attachments == [{"type": "image", "url": "https://cdn.example/1.jpg"}]
    assert message.sent_at.timestamp() == p.T_MS / 1000
    conversation = message.conversation
    assert conversation.contact.external_id == "psid-1"
    assert (conversation.unread_count, conversation.last_inbound_at) == (1, message.sent_at)
    assert channels["messenger"].__class__.objects.get(pk=channels["messenger"].pk).last_event_at


def test_instagram_quick_replies_story_replies_and_shares_are_kept(channels):
    deliver(
        p.messaging(
            "instagram",
            p.IG_ID,
            p.customer_message(
                p.IG_ID, "igsid-1", "aWdf1", text="Yes", quick_reply={"payload": "YES"}
            ),
            p.customer_message(
                p.IG_ID,
                "igsid-1",
                "aWdf2",
                text="😍",
                reply_to={"story": {"id": "9", "url": "https://s/9"}},
            ),
            p.customer_message(
                p.IG_ID,
                "igsid-1",
                "aWdf3",
                text="",
                attachments=[{"type": "share", "payload": {"url": "https://p/1"}}],
            ),
        )
    )

    messages = {m.external_id: m for m in Message.objects.all()}
    assert messages["aWdf1"].extra == {"quick_reply": "YES"}
    assert messages["aWdf2"].extra["story_reply"] == {"id": "9", "url": "https://s/9"}
    assert messages["aWdf3"].attachments[0]["type"] == "share"
    assert Conversation.objects.count() == 1


def test_a_batch_with_several_entries_is_read_whole(channels):
    payload = {
        "object": "page",
        "entry": [
            {
                "id": p.PAGE_ID,
                "time": p.T_MS,
                "messaging": [
                    p.customer_message(p.PAGE_ID, "a", "m_1"),
                    p.customer_message(p.PAGE_ID, "b", "m_2"),
                ],
            },
            {
                "id": p.PAGE_ID,
                "time": p.T_MS,
                "messaging": [p.customer_message(p.PAGE_ID, "c", "m_3")],
            },
        ],
    }

    deliver(payload)

    assert Message.objects.count() == 3
    assert Contact.objects.count() == 3


def test_the_same_message_delivered_again_adds_nothing(channels):
    payload = p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, "psid-1", "m_dup"))

    deliver(payload)
    deliver(payload)

    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_message_delivered_three_times_at_once_is_one_row(channels):
    payload = p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, "psid-9", "m_race"))
    events = [WebhookEvent.objects.create(body=p.encode(payload)) for _ in range(3)]
    start = threading.Barrier(3)

    def process(event_id):
        start.wait()
        try:
            processing.webhook_event_process(event_id=event_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=process, args=(e.pk,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Message.objects.filter(external_id="m_race").count() == 1
    assert Contact.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


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


def deliver_and_get_conversation(business_id, customer):
    deliver(
        p.messaging(
            "page", business_id, p.customer_message(business_id, customer, f"m_first_{customer}")
        )
    )
    return Conversation.objects.get(contact__external_id=customer)


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


def test_postbacks_deleted_unsupported_and_standby_items_are_recorded(channels):
    base = {"sender": {"id": "psid-2"}, "recipient": {"id": p.PAGE_ID}, "timestamp": p.T_MS}
    deliver(
        {
            "object": "page",
            "entry": [
                {
                    "id": p.PAGE_ID,
                    "time": p.T_MS,
                    "messaging": [
                        {
                            **base,
                            "postback": {"mid": "m_pb", "title": "Get Started", "payload": "START"},
                        },
                        {**base, "message": {"mid": "m_uns", "is_unsupported": True}},
                    ],
                    "standby": [
                        p.customer_message(p.PAGE_ID, "psid-2", "m_standby", text="via standby")
                    ],
                }
            ],
        }
    )
    deliver(
        p.messaging("page", p.PAGE_ID, {**base, "message": {"mid": "m_pb", "is_deleted": True}})
    )

    messages = {m.external_id: m for m in Message.objects.all()}
    assert messages["m_pb"].extra == {"postback_payload": "START"}
    assert messages["m_pb"].is_deleted
    assert messages["m_uns"].extra == {"unsupported": True}
    assert messages["m_standby"].text == "via standby"


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


def test_comment_variants_with_the_change_on_the_entry_or_comment_id_are_read(channels):
    variant = {
        "object": "instagram",
        "entry": [
            {
                "id": p.IG_ID,
                "time": 1700000000,
                "field": "comments",
                "value": {
                    "comment_id": "c9",
                    "text": "Hi",
                    "from": {"id": "77", "username": "u"},
                    "media": {"id": "m"},
                },
            }
        ],
    }

    deliver(variant)

    assert Message.objects.get().external_id == "c9"


@pytest.mark.parametrize(
    ("kind", "content", "text", "attachment_type"),
    [
        ("text", {"text": {"body": "Merhaba"}}, "Merhaba", None),
        (
            "image",
            {"image": {"id": "1", "mime_type": "image/jpeg", "sha256": "x", "caption": "Bu renk?"}},
            "Bu renk?",
            "image",
        ),
        ("audio", {"audio": {"id": "2", "mime_type": "audio/ogg"}}, "", "audio"),
        ("video", {"video": {"id": "3", "mime_type": "video/mp4"}}, "", "video"),
        (
            "document",
            {"document": {"id": "4", "mime_type": "application/pdf", "filename": "menu.pdf"}},
            "",
            "document",
        ),
        ("sticker", {"sticker": {"id": "5", "mime_type": "image/webp"}}, "", "sticker"),
        (
            "location",
            {"location": {"latitude": 41.0, "longitude": 29.0, "name": "Galata"}},
            "Galata",
            "location",
        ),
        (
            "contacts",
            {"contacts": [{"name": {"formatted_name": "Ali Veli"}}]},
            "Ali Veli",
            "contacts",
        ),
        (
            "interactive",
            {
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "yes", "title": "Evet"},
                }
            },
            "Evet",
            None,
        ),
        ("button", {"button": {"text": "Stop", "payload": "STOP"}}, "Stop", None),
        ("unsupported", {"errors": [{"code": 131051}]}, "", None),
    ],
)
def test_whatsapp_messages_of_every_type(channels, kind, content, text, attachment_type):
    deliver(p.whatsapp_message("905550001122", f"wamid.{kind}", kind=kind, **content))

    message = Message.objects.get()
    assert message.text == text
    if attachment_type:
        assert message.attachments[0]["type"] == attachment_type
    contact = message.conversation.contact
    assert (contact.name, contact.phone) == ("A Customer", "905550001122")


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


def test_template_status_updates_reach_the_stored_template(channels):
    MessageTemplate.objects.create(
        organization=channels["whatsapp"].organization,
        channel=channels["whatsapp"],
        name="order_update",
        language="en_US",
        status="PENDING",
    )
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": p.WABA_ID,
                "time": 1,
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {
                            "event": "APPROVED",
                            "message_template_id": 1,
                            "message_template_name": "order_update",
                            "message_template_language": "en_US",
                            "reason": "NONE",
                        },
                    }
                ],
            }
        ],
    }

    deliver(payload)

    assert MessageTemplate.objects.get().status == "APPROVED"


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


def test_an_event_for_an_unknown_channel_waits_and_is_processed_once_it_is_connected(
    world, celery_eager, django_capture_on_commit_callbacks
):
    event = deliver(p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, "x", "m_wait")))
    assert event.status == WebhookEventStatus.UNROUTABLE
    assert not Message.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        channel = channel_connect(
            organization=world.org,
            account=ConnectedAccount(
                kind="messenger", external_id=p.PAGE_ID, name="Page", token="EAAGtoken"
            ),
            connected_by=None,
        )
        tasks.webhook_events_reopen_for_channel.delay(channel.pk)

    event.refresh_from_db()
    assert event.status == WebhookEventStatus.PROCESSED
    assert Message.objects.get().external_id == "m_wait"


def test_a_needs_reauth_channel_keeps_receiving(channels):
    channels["messenger"].__class__.objects.filter(pk=channels["messenger"].pk).update(
        status="needs_reauth"
    )

    deliver(p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, "psid-1", "m_ok")))

    assert Message.objects.filter(external_id="m_ok").exists()


def test_an_event_for_another_tenants_channel_lands_only_there(channels, world):
    other = make_channel(world.other_org, kind=ChannelKind.MESSENGER, external_id="999")

    deliver(p.messaging("page", "999", p.customer_message("999", "psid-1", "m_other")))

    assert Message.objects.get().organization == world.other_org
    assert Message.objects.get().channel == other


def test_a_poison_event_stops_after_five_attempts_and_keeps_its_error(channels, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(inbox_services, "messages_record", explode)
    event = WebhookEvent.objects.create(
        body=p.encode(
            p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, "x", "m_poison"))
        )
    )

    outcomes = [processing.webhook_event_process(event_id=event.pk) for _ in range(6)]

    event.refresh_from_db()
    assert outcomes == ["error"] * 5 + ["skipped"]
    assert (event.status, event.attempts) == ("failed", 5)
    assert "RuntimeError: boom" in event.error


def test_staff_retry_a_failed_event_from_the_admin(
    client, channels, celery_eager, django_capture_on_commit_callbacks
):
    event = WebhookEvent.objects.create(
        body=p.encode(p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, "x", "m_r"))),
        status=WebhookEventStatus.FAILED,
        attempts=5,
        error="RuntimeError: boom",
    )
    sign_in_staff(client)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:channels_meta_webhookevent_changelist"),
            {"action": "retry", "_selected_action": [event.pk]},
        )

    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 1)
    assert Message.objects.filter(external_id="m_r").exists()


def test_one_bad_delivery_in_a_batch_does_not_hold_back_the_others(channels, monkeypatch):
    record = inbox_services.messages_record

    def fussy(*, channel, events):
        if any(event.external_id == "m_bad" for event in events):
            raise RuntimeError("cannot record this one")
        return record(channel=channel, events=events)

    monkeypatch.setattr(inbox_services, "messages_record", fussy)
    ids = [
        WebhookEvent.objects.create(
            body=p.encode(p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, "x", mid)))
        ).pk
        for mid in ("m_good_1", "m_bad", "m_good_2")
    ]

    outcomes = processing.webhook_events_process(event_ids=ids)

    assert [outcomes[pk] for pk in ids] == ["processed", "error", "processed"]
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["m_good_1", "m_good_2"]
    assert WebhookEvent.objects.get(pk=ids[1]).attempts == 1


def test_messaging_events_sent_as_changes_are_read_too(channels):
    # The shape of the Instagram "messages" test event in Meta's app dashboard.
    deliver(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": p.IG_ID,
                    "time": 1700000000,
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "sender": {"id": "12334"},
                                "recipient": {"id": p.IG_ID},
                                "timestamp": "1527459824",
                                "message": {"mid": "random_mid", "text": "random_text"},
                            },
                        }
                    ],
                }
            ],
        }
    )

    message = Message.objects.get()
    assert (message.external_id, message.text) == ("random_mid", "random_text")
    assert message.sent_at.year == 2018


@pytest.mark.parametrize(
    ("url", "kept", "dropped_scheme"),
    [
        ("javascript:alert(1)", "", "javascript"),
        ("JavaScript:alert(document.cookie)//https://x", "", "javascript"),
        ("data:text/html,<script>alert(1)</script>", "", "data"),
        ("http://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1", "", "http"),
        ("https:///no-host", "", "https"),
        ("//lookaside.fbsbx.com/x", "", "unknown"),
        ("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&hash=a", None, None),
    ],
)
def test_only_https_links_are_kept_from_attachments_and_story_replies(
    channels, url, kept, dropped_scheme
):
    deliver(
        p.messaging(
            "instagram",
            p.IG_ID,
            p.customer_message(
                p.IG_ID,
                "igsid-1",
                "aWdfLink",
                text="look",
                attachments=[{"type": "image", "payload": {"url": url}}],
                reply_to={"story": {"id": "9", "url": url}},
            ),
        )
    )

    message = Message.objects.get()
    expected = {"url": url} if kept is None else {"url": kept, "dropped_url_scheme": dropped_scheme}
    assert message.attachments == [{"type": "image", **expected}]
    assert message.extra["story_reply"] == {"id": "9", **expected}


def test_links_in_referrals_and_shared_whatsapp_contacts_are_made_safe_too(channels):
    deliver(
        p.messaging(
            "page",
            p.PAGE_ID,
            p.customer_message(
                p.PAGE_ID,
                "psid-1",
                "m_ref",
                referral={
                    "source": "ADS",
                    "ads_context_data": {
                        "photo_url": "javascript:alert(1)",
                        "video_url": "https://video.xx.fbcdn.net/v.mp4",
                    },
                },
            ),
        )
    )
    deliver(
        p.whatsapp_message(
            "905550001122",
            "wamid.card",
            kind="contacts",
            contacts=[
                {
                    "name": {"formatted_name": "Ali Veli"},
                    "urls": [{"url": "data:text/html,hi", "type": "WORK"}],
                }
            ],
        )
    )

    referral = Message.objects.get(external_id="m_ref").extra["referral"]["ads_context_data"]
    assert referral == {
        "photo_url": "",
        "dropped_photo_url_scheme": "javascript",
        "video_url": "https://video.xx.fbcdn.net/v.mp4",
    }
    card = Message.objects.get(external_id="wamid.card").attachments[0]["contacts"][0]
    assert card["urls"] == [{"url": "", "dropped_url_scheme": "data", "type": "WORK"}]
