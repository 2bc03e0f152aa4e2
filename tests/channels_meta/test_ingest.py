"""Every payload kind from META.md is processed into the inbox once, each delivery on its
own account and tenant; odd input is recorded, never fatal. What the inbox makes of the
events is in tests/inbox."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from channels_meta import tasks
from channels_meta.connected import ConnectedAccount
from channels_meta.models import ChannelKind, MessageTemplate, WebhookEvent, WebhookEventStatus
from channels_meta.services.channels import channel_connect
from channels_meta.webhooks import processing
from inbox.models import Contact, Conversation, Message
from inbox.services import recording
from tests.channels_meta import payloads as p
from tests.channels_meta.delivery import deliver, make_channels
from tests.channels_meta.factories import make_channel
from tests.otp import sign_in_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def channels(world):
    return make_channels(world.org)


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

    monkeypatch.setattr(recording, "messages_record", explode)
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
    record = recording.messages_record

    def fussy(*, channel, events):
        if any(event.external_id == "m_bad" for event in events):
            raise RuntimeError("cannot record this one")
        return record(channel=channel, events=events)

    monkeypatch.setattr(recording, "messages_record", fussy)
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


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("http://127.0.0.1:8900/cdn/1/photo.jpg", True),
        ("http://127.0.0.1:8901/cdn/1/photo.jpg", False),
        ("http://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1", False),
    ],
)
def test_an_http_link_is_kept_only_on_the_rehearsals_media_origin(channels, settings, url, kept):
    settings.META_MEDIA_HOSTS = ["lookaside.fbsbx.com", "http://127.0.0.1:8900"]
    attachments = [{"type": "image", "payload": {"url": url}}]

    deliver(
        p.messaging(
            "page",
            p.PAGE_ID,
            p.customer_message(p.PAGE_ID, "psid-1", "m_http", attachments=attachments),
        )
    )

    expected = {"url": url} if kept else {"url": "", "dropped_url_scheme": "http"}
    assert Message.objects.get().attachments == [{"type": "image", **expected}]


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
