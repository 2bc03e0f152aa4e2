"""Bridge mode: once every endpoint has acknowledged every event about a message, its
text, files and content details are gone from Padu (the message row, the outbox), while
its metadata stays; nothing goes before that, and nothing of another organisation's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from channels_meta.webhooks.events import MessageEvent, Route
from inbox import tasks
from inbox.models import Attachment, AttachmentStatus, Message, MessageStatus, OutboxEvent
from inbox.services import bridge, endpoints, forwarding, outbox, replies
from inbox.services.recording import events_record
from tests.api.conftest import api_for
from tests.channels_meta.factories import make_channel
from tests.forwarding.conftest import ALL_EVENTS
from tests.inbox.factories import make_attachment, make_conversation, make_message, png
from tests.inbox.test_media import attachment_of, customer_sends, padu_records, stored_files

pytestmark = pytest.mark.django_db

SECRET_WORDS = "my card number is 4111"


def _bridge_on(world) -> None:
    endpoints.bridge_mode_set(membership=world.owner, enabled=True)


def _deliver(*endpoints_) -> None:
    for endpoint in endpoints_:
        forwarding.endpoint_deliver(endpoint_id=endpoint.pk)


def _receive(channel, text=SECRET_WORDS, external_id="wamid.1") -> Message:
    events_record(
        channel=channel,
        events=[
            MessageEvent(
                route=Route("whatsapp", channel.external_id),
                external_id=external_id,
                customer_id="905320000000",
                customer_name="Ayşe",
                text=text,
                at=timezone.now(),
                extra={"referral": {"body": "Spring sale", "source_type": "ad"}},
            )
        ],
    )
    return Message.objects.get(external_id=external_id)


def _rows_naming(words: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM inbox_message WHERE text LIKE %s OR extra::text LIKE %s)"
            " + (SELECT count(*) FROM inbox_outboxevent WHERE payload::text LIKE %s)"
            " + (SELECT count(*) FROM inbox_conversationword WHERE word = %s)",
            [*[f"%{words}%"] * 3, words.split()[-1]],
        )
        return cursor.fetchone()[0]


def test_no_text_is_left_once_the_endpoint_acknowledged_it(world, hook, receiver):
    _bridge_on(world)
    message = _receive(make_channel(world.org))
    assert _rows_naming(SECRET_WORDS) == 3

    _deliver(hook.endpoint)

    assert receiver.events[-1]["data"]["message"]["text"] == SECRET_WORDS
    assert _rows_naming(SECRET_WORDS) == 0
    assert _rows_naming("Spring sale") == 0
    message.refresh_from_db()
    assert message.contents_dropped_at is not None
    assert (message.text, message.attachments, message.extra) == ("", [], {})
    assert (message.external_id, message.status, message.direction) == ("wamid.1", "received", "in")


def test_contents_stay_while_another_endpoint_has_not_acknowledged(world, hook, receiver):
    _bridge_on(world)
    second, _secret = endpoints.endpoint_create(
        membership=world.owner, url="https://erp.example/padu", events=["message.created"]
    )
    message = _receive(make_channel(world.org))
    receiver.status = 503

    _deliver(hook.endpoint, second)
    receiver.status = 200
    _deliver(hook.endpoint)  # the first endpoint's earlier event held this one back

    message.refresh_from_db()
    assert message.text == SECRET_WORDS
    assert message.contents_dropped_at is None


def test_without_bridge_mode_everything_is_kept(world, hook, receiver):
    message = _receive(make_channel(world.org))

    _deliver(hook.endpoint)

    message.refresh_from_db()
    assert message.text == SECRET_WORDS
    assert message.contents_dropped_at is None


def test_stored_files_are_deleted_and_their_kind_kept(world, hook, receiver):
    _bridge_on(world)
    message = make_message(make_conversation(make_channel(world.org)), text="see photo")
    attachment = make_attachment(message)
    stored = attachment.file.storage
    file_name, thumbnail_name = attachment.file.name, attachment.thumbnail.name
    outbox.messages_forward(organization_id=world.org.pk, message_ids=[message.pk])

    _deliver(hook.endpoint)

    assert not stored.exists(file_name)
    assert not stored.exists(thumbnail_name)
    attachment.refresh_from_db()
    assert (attachment.file.name, attachment.file_name, attachment.kind) == ("", "", "image")
    assert attachment.status == AttachmentStatus.REFUSED


def test_a_message_waits_for_its_file_then_the_sweep_empties_it(
    world, hook, receiver, celery_eager
):
    _bridge_on(world)
    message = make_message(make_conversation(make_channel(world.org)), text="see photo")
    attachment = make_attachment(message, status=AttachmentStatus.PENDING)
    outbox.messages_forward(organization_id=world.org.pk, message_ids=[message.pk])
    _deliver(hook.endpoint)
    assert Message.objects.get(pk=message.pk).text == "see photo"

    Attachment.objects.filter(pk=attachment.pk).update(status=AttachmentStatus.STORED)

    assert tasks.bridge_contents_sweep.delay().get() == 1
    assert Message.objects.get(pk=message.pk).text == ""


def test_a_reply_keeps_its_text_until_it_has_been_sent(world, hook, receiver):
    _bridge_on(world)
    conversation = make_conversation(make_channel(world.org))
    reply = replies.reply_send(membership=world.agent, conversation=conversation, text="On it")
    _deliver(hook.endpoint)
    assert Message.objects.get(pk=reply.pk).text == "On it"  # queued: the sender needs it

    Message.objects.filter(pk=reply.pk).update(status=MessageStatus.SENT)
    outbox.messages_forward(
        organization_id=world.org.pk, message_ids=[reply.pk], event_type="message.updated"
    )
    assert bridge.contents_sweep() == 0  # the update is not acknowledged yet
    _deliver(hook.endpoint)

    assert Message.objects.get(pk=reply.pk).text == ""
    assert [e.payload["message"]["text"] for e in OutboxEvent.objects.filter(message=reply)] == [
        "",
        "",
    ]


def test_another_organisation_in_bridge_mode_empties_nothing_here(world, hook, receiver):
    mine = _receive(make_channel(world.org))
    other_endpoint, _secret = endpoints.endpoint_create(
        membership=world.outsider, url="https://other.example/padu", events=ALL_EVENTS
    )
    endpoints.bridge_mode_set(membership=world.outsider, enabled=True)

    _deliver(hook.endpoint, other_endpoint)
    bridge.contents_sweep()

    assert Message.objects.get(pk=mine.pk).text == SECRET_WORDS


def test_bridge_mode_needs_an_endpoint_receiving_new_messages(world, receiver):
    with pytest.raises(endpoints.EndpointRefused, match=r"message\.created"):
        _bridge_on(world)

    endpoints.endpoint_create(
        membership=world.owner, url="https://crm.example/padu", events=["contact.updated"]
    )
    with pytest.raises(endpoints.EndpointRefused):
        _bridge_on(world)


def test_an_owner_turns_it_on_from_the_page_and_it_is_audited(client, world, hook):
    client.force_login(world.owner.user)
    url = reverse("forwarding_bridge", args=[world.org.slug])

    client.post(url, {"bridge_mode": "on"})

    world.org.refresh_from_db()
    assert world.org.bridge_mode
    assert AuditEvent.objects.get(action="organization.bridge_mode").target == "on"
    page = client.get(reverse("forwarding", args=[world.org.slug])).content.decode()
    assert 'id="id_bridge_mode" checked' in page

    client.post(url, {})

    world.org.refresh_from_db()
    assert not world.org.bridge_mode


def test_the_page_says_why_it_cannot_be_turned_on(client, world, receiver):
    client.force_login(world.owner.user)

    response = client.post(
        reverse("forwarding_bridge", args=[world.org.slug]), {"bridge_mode": "on"}, follow=True
    )

    assert "receives message.created" in response.content.decode()
    world.org.refresh_from_db()
    assert not world.org.bridge_mode


def test_an_emptied_message_shows_as_forwarded_in_the_inbox(client, world, hook, receiver):
    _bridge_on(world)
    message = _receive(make_channel(world.org))
    _deliver(hook.endpoint)
    client.force_login(world.agent.user)

    page = client.get(reverse("conversation", args=[world.org.slug, message.conversation_id]))

    assert "bridge mode keeps no contents" in page.content.decode()
    assert "<em>Forwarded to your systems</em>" in page.content.decode()  # the list's row


def test_an_edit_arriving_later_is_emptied_once_acknowledged(world, hook, receiver):
    from channels_meta.webhooks.events import EditEvent
    from inbox.services.changes import edit_record

    _bridge_on(world)
    channel = make_channel(world.org)
    message = _receive(channel)
    _deliver(hook.endpoint)
    edit = EditEvent(
        route=Route("whatsapp", channel.external_id),
        customer_id="905320000000",
        target_external_id="wamid.1",
        text="new secret words",
        at=timezone.now(),
    )
    edit_record(channel=channel, event=edit)
    assert Message.objects.get(pk=message.pk).text == "new secret words"

    _deliver(hook.endpoint)

    assert receiver.events[-1]["data"]["message"]["text"] == "new secret words"
    assert _rows_naming("new secret words") == 0


def test_files_are_forwarded_by_id_once_fetched_and_then_emptied(
    world, hook, receiver, meta, businesses, committed, celery_eager
):
    """An image arrives: message.created has no file yet; once the worker stored it,
    message.updated names it, the receiver fetches it through the API while handling
    the event, and only after its acknowledgement does bridge mode remove the file."""
    _bridge_on(world)
    api = api_for(world.owner, "read")
    fetched = []
    receiver.handle = lambda event: fetched.extend(
        b"".join(api.get(f"files/{stored['id']}/").streaming_content)
        for stored in event["data"].get("message", {}).get("files", [])
    )
    sent = customer_sends(meta, businesses["whatsapp"], png(), "image/png", text="this one")
    padu_records(meta, committed)

    _deliver(hook.endpoint)

    created, updated = [e for e in receiver.events if e["type"].startswith("message.")]
    assert created["data"]["message"]["files"] == []
    [stored] = updated["data"]["message"]["files"]
    assert (stored["status"], stored["kind"]) == ("stored", "image")
    assert fetched == [png()]
    attachment = attachment_of(sent)
    assert attachment.message.contents_dropped_at is not None
    assert not attachment.file
    assert stored_files() == []
