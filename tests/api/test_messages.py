"""Messages through the API: read a conversation's, and answer through the reply service
under Meta's rules, delivered to Meta (the simulator) by the worker; an Idempotency-Key
makes a retried request send nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_meta.models import ChannelKind, MessageTemplate
from inbox.models import Direction, Message
from inbox.selectors import API_PAGE_SIZE
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation, make_message, png
from tests.inbox.test_delivery import connect, customer_writes, wrote_ago
from tests.inbox.test_replies import template_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def whatsapp(world, meta, celery_eager):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    return customer_writes(meta, channel)


def _send(api, conversation, body, committed, **headers):
    with committed():
        return api.post(f"conversations/{conversation.pk}/messages/", body, **headers)


def test_a_reply_is_queued_then_sent_to_meta(api, meta, whatsapp, committed):
    response = _send(api, whatsapp, {"text": "Your order ships today."}, committed)

    assert response.status_code == 201
    assert response.json()["status"] == "queued"
    assert response.json()["author"]["email"] == "owner@acme.example"
    [received] = meta.state.sent
    assert received.body["text"]["body"] == "Your order ships today."
    sent = Message.objects.get(pk=response.json()["id"])
    assert (sent.status, sent.external_id) == ("sent", received.id)


def test_a_reply_outside_the_window_is_a_400_with_the_reason(api, meta, whatsapp, committed):
    wrote_ago(meta, whatsapp, timedelta(days=2))

    response = _send(api, whatsapp, {"text": "Hello again"}, committed)

    assert response.status_code == 400
    assert response.json()["code"] == "refused"
    assert "template" in response.json()["detail"]
    assert meta.state.sent == []
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_a_retried_request_with_the_same_key_sends_once(api, meta, whatsapp, committed):
    body = {"text": "Only once, please."}
    key = {"HTTP_IDEMPOTENCY_KEY": "6f1c0a4e-93b2-4c57-9b0e-2f8d1d7c1a55"}

    first = _send(api, whatsapp, body, committed, **key)
    again = _send(api, whatsapp, body, committed, **key)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len(meta.state.sent) == 1


def test_a_key_used_in_another_conversation_is_refused(world, api, meta, whatsapp, committed):
    other = customer_writes(meta, whatsapp.channel)
    key = {"HTTP_IDEMPOTENCY_KEY": "order-1042"}
    _send(api, whatsapp, {"text": "First"}, committed, **key)

    response = _send(api, other, {"text": "Second"}, committed, **key)

    assert response.status_code == 400
    assert response.json()["detail"] == "This Idempotency-Key was used for another conversation."
    assert len(meta.state.sent) == 1


def test_an_idempotency_key_over_100_characters_is_a_400(api, whatsapp, committed):
    response = _send(api, whatsapp, {"text": "Hi"}, committed, HTTP_IDEMPOTENCY_KEY="k" * 101)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]


def test_a_template_goes_outside_the_window(world, api, meta, whatsapp, committed):
    wrote_ago(meta, whatsapp, timedelta(days=3))
    template = template_of(whatsapp.channel)

    response = _send(
        api, whatsapp, {"template": template.pk, "parameters": ["#1042", "Ayşe"]}, committed
    )

    assert response.status_code == 201
    assert response.json()["text"] == "Your order #1042 is on its way, Ayşe."
    [received] = meta.state.sent
    assert received.body["template"]["name"] == "order_update"


def test_another_channels_template_is_404(world, api, whatsapp, committed):
    elsewhere = make_channel(world.org, external_id="555")
    template = MessageTemplate.objects.create(
        organization=world.org, channel=elsewhere, name="x", language="en", status="APPROVED"
    )

    response = _send(api, whatsapp, {"template": template.pk}, committed)

    assert response.status_code == 404


def test_a_template_with_text_is_a_400(api, whatsapp, committed):
    response = _send(api, whatsapp, {"template": 1, "text": "and words"}, committed)

    assert response.status_code == 400
    assert response.json()["detail"] == "Send a template alone, without text or a file."


def test_an_empty_reply_is_a_400(api, whatsapp, committed):
    response = _send(api, whatsapp, {"text": ""}, committed)

    assert response.status_code == 400
    assert response.json()["detail"] == "Write a message first."


def test_a_file_goes_as_multipart_with_its_caption(api, meta, whatsapp, committed):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("receipt.png", png(), content_type="image/png")
    with committed():
        response = api.client.post(
            api.url(f"conversations/{whatsapp.pk}/messages/"),
            {"file": upload, "text": "Your receipt"},
            HTTP_AUTHORIZATION=f"Bearer {api.key}",
        )

    assert response.status_code == 201
    assert response.json()["files"][0]["kind"] == "image"
    sent = [call for call in meta.state.sent if call.body.get("type") == "image"]
    assert sent[0].body["image"]["caption"] == "Your receipt"


def test_messages_come_newest_first_in_pages(world, api):
    conversation = make_conversation(make_channel(world.org))
    made = [make_message(conversation, text=f"Message {n}") for n in range(API_PAGE_SIZE + 3)]

    first = api.get(f"conversations/{conversation.pk}/messages/").json()
    second = api.client.get(first["next"], HTTP_AUTHORIZATION=f"Bearer {api.key}").json()

    ids = [row["id"] for row in first["results"] + second["results"]]
    assert sorted(ids) == sorted(message.pk for message in made)
    assert len(first["results"]) == API_PAGE_SIZE
    assert second["next"] is None


def test_the_message_list_takes_the_same_queries_for_3_or_30_messages(world, api):
    conversation = make_conversation(make_channel(world.org))
    for _ in range(3):
        make_message(conversation)
    api.get("labels/")
    with CaptureQueriesContext(connection) as few:
        api.get(f"conversations/{conversation.pk}/messages/")
    for _ in range(27):
        make_message(conversation)
    with CaptureQueriesContext(connection) as many:
        api.get(f"conversations/{conversation.pk}/messages/")

    assert len(many) == len(few) <= 5  # key, conversation, labels, messages, access log
