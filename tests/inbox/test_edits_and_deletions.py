"""Edits and deletions change the message they are about (its earlier text kept in its
history), never add a blank one; a reaction, edit or deletion that arrives before its
message waits and is applied when the message is recorded."""

from __future__ import annotations

import pytest

from channels_meta.webhooks.events import DeletionEvent, ReactionEvent, Route
from inbox.models import Message, PendingChange
from inbox.services import recording
from tests.channels_meta.delivery import deliver
from tests.inbox.payloads import messenger as ms
from tests.inbox.payloads import whatsapp as wa

pytestmark = pytest.mark.django_db


def test_a_whatsapp_edit_replaces_the_text_and_keeps_the_earlier_one(channels):
    deliver(wa.text_with_phone_and_bsuid("wamid.orig", body="One of them"))

    deliver(wa.edit("wamid.orig", body="Actually, two of them"))
    deliver(wa.edit("wamid.orig", body="Actually, two of them"))  # Meta delivers again

    message = Message.objects.get()
    assert message.text == "Actually, two of them"
    assert message.extra["edits"] == [
        {
            "text": "One of them",
            "replaced_at": "2025-02-12T00:43:44+00:00",
            "edit_id": "wamid.HBgLedit",
        }
    ]


def test_a_whatsapp_caption_edit_keeps_the_earlier_caption_and_attachment(channels):
    deliver(wa.forwarded_image_reply())

    deliver(wa.image_caption_edit("wamid.HBgLimage"))

    message = Message.objects.get()
    assert message.text == "This one, in green?"
    assert message.attachments[0]["url"].startswith("https://lookaside.fbsbx.com/")
    assert message.extra["edits"][0]["text"] == "This one, in blue?"
    assert "url" not in message.extra["edits"][0]["attachments"][0]


def test_a_whatsapp_revoke_marks_the_message_deleted(channels):
    deliver(wa.text_with_phone_and_bsuid("wamid.orig"))

    deliver(wa.revoke("wamid.orig"))

    message = Message.objects.get()
    assert message.is_deleted
    assert message.text == "Hello"


def test_a_messenger_edit_updates_the_message(channels):
    deliver(ms.delivery(ms.text("m_orig", "See you at 5")))

    deliver(ms.delivery(ms.edit("m_orig", "See you at 6")))

    message = Message.objects.get()
    assert message.text == "See you at 6"
    assert message.extra["edits"][0]["text"] == "See you at 5"
    assert message.extra["edits"][0]["num_edit"] == 1


def test_an_instagram_edit_updates_the_message(channels):
    on_instagram = {"object_type": "instagram", "entry_id": ms.IG}
    deliver(ms.delivery(ms.text("aWdf_orig", "Size M", entry_id=ms.IG), **on_instagram))

    deliver(ms.delivery(ms.edit("aWdf_orig", "Size L", entry_id=ms.IG), **on_instagram))

    assert Message.objects.get().text == "Size L"


def test_changes_that_arrive_before_their_message_wait_for_it(channels):
    deliver(wa.reaction("wamid.late", emoji="\U0001f389"))
    deliver(wa.edit("wamid.late", body="Edited before you saw it"))
    assert PendingChange.objects.count() == 2
    assert not Message.objects.exists()

    deliver(wa.text_with_phone_and_bsuid("wamid.late", body="First version"))

    message = Message.objects.get()
    assert message.reaction == "\U0001f389"
    assert message.text == "Edited before you saw it"
    assert message.extra["edits"][0]["text"] == "First version"
    assert not PendingChange.objects.exists()


def test_a_deletion_that_arrives_first_is_applied_when_the_message_comes(channels):
    deliver(wa.revoke("wamid.gone"))

    deliver(wa.text_with_phone_and_bsuid("wamid.gone"))

    assert Message.objects.get().is_deleted
    assert not PendingChange.objects.exists()


def test_a_messenger_reaction_before_its_message_waits_for_it(channels):
    deliver(ms.delivery(ms.reaction("m_soon")))

    deliver(ms.delivery(ms.text("m_soon", "Hi")))

    assert Message.objects.get().reaction == "\u2764\ufe0f"


def test_a_waiting_change_belongs_to_the_channels_organisation(channels, world):
    deliver(wa.revoke("wamid.gone"))

    assert PendingChange.objects.for_org(world.org).count() == 1
    assert not PendingChange.objects.for_org(world.other_org).exists()


def test_an_unsent_instagram_message_is_marked_deleted_or_waits_never_a_blank_one(channels):
    on_instagram = {"object_type": "instagram", "entry_id": ms.IG}
    deleted = ms.item(entry_id=ms.IG, message={"mid": "aWdf_gone", "is_deleted": True})
    deliver(ms.delivery(ms.text("aWdf_kept", "Oops", entry_id=ms.IG), **on_instagram))

    deliver(ms.delivery(deleted, **on_instagram))
    deliver(
        ms.delivery(
            ms.item(entry_id=ms.IG, message={"mid": "aWdf_kept", "is_deleted": True}),
            **on_instagram,
        )
    )

    assert list(Message.objects.values_list("external_id", "is_deleted")) == [("aWdf_kept", True)]
    assert PendingChange.objects.get().external_id == "aWdf_gone"


def test_an_instagram_edit_number_zero_is_the_message_itself(channels):
    # Instagram apps in development mode have been seen to deliver new messages only as
    # `message_edit` with `num_edit: 0` (captured in a public client's webhook code).
    on_instagram = {"object_type": "instagram", "entry_id": ms.IG}
    first = ms.edit("aWdf_new", "Hi, is this open?", num_edit=0, entry_id=ms.IG)

    deliver(ms.delivery(first, **on_instagram))
    deliver(ms.delivery(ms.text("aWdf_new", "Hi, is this open?", entry_id=ms.IG), **on_instagram))

    message = Message.objects.get()
    assert (message.external_id, message.text, message.direction) == (
        "aWdf_new",
        "Hi, is this open?",
        "in",
    )
    assert "edits" not in message.extra
    assert not PendingChange.objects.exists()


def test_a_change_naming_no_message_never_touches_messages_not_sent_yet(channels, world):
    deliver(wa.text_with_phone_and_bsuid("wamid.in"))
    queued = Message.objects.create(
        organization=world.org,
        channel=channels["whatsapp"],
        conversation=Message.objects.get().conversation,
        direction="out",
        external_id="",
        text="On its way",
        status="queued",
    )
    route = Route("whatsapp", channels["whatsapp"].external_id)
    at = queued.created_at

    recording.events_record(
        channel=channels["whatsapp"],
        events=[
            DeletionEvent(route=route, customer_id=wa.PHONE, target_external_id="", at=at),
            ReactionEvent(
                route=route, customer_id=wa.PHONE, target_external_id="", emoji="x", at=at
            ),
        ],
    )

    queued.refresh_from_db()
    assert (queued.is_deleted, queued.reaction) == (False, "")
    assert not PendingChange.objects.exists()
