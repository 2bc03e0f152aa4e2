"""Delivering replies, through the real Graph client to the Meta simulator: what Meta
receives, what the message becomes (sent with Meta's id, failed with a reason staff can
read, or queued for a retry), and that a delivery running twice sends once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from channels_meta.graph.calls import sending
from channels_meta.models import Channel, ChannelKind, ChannelStatus, MessageTemplate
from channels_meta.simulator.sending import RATES
from channels_meta.simulator.state import DAY
from channels_meta.webhooks.events import MessageEvent, Route
from inbox import policy, tasks
from inbox.models import Conversation, Direction, Message, MessageStatus, PendingReceipt
from inbox.services import delivery, replies
from inbox.services.recording import messages_record
from tests.channels_meta.delivery import deliver
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation, make_message

TEXT = "Merhaba! We're open until six."
ASSETS = {"messenger": "pages", "instagram": "instagram_accounts", "whatsapp": "whatsapp_numbers"}


@pytest.fixture(autouse=True)
def _eager(celery_eager):
    # A retried task runs again at once, as a worker would run it after its countdown.
    celery_eager.conf.task_eager_propagates = False
    yield celery_eager
    celery_eager.conf.task_eager_propagates = True


def connect(world, meta, kind: str, **fields) -> Channel:
    """Padu's channel on the simulated Meta's first account of that kind."""
    asset = meta.assets[ASSETS[kind]][0]
    return make_channel(
        world.org,
        kind=kind,
        external_id=asset["id"],
        token=asset["system_token"],
        waba_id=asset.get("waba_id", ""),
        **fields,
    )


def customer_writes(meta, channel: Channel, **writes) -> Conversation:
    """A customer writes to the channel at Meta, opening its window there, and Padu has
    their conversation."""
    customer = meta.customer_writes(
        kind=channel.kind, business_id=channel.external_id, text="Merhaba", **writes
    )
    return make_conversation(channel, customer=customer["customer_id"])


def wrote_ago(meta, conversation: Conversation, delta: timedelta) -> None:
    """The customer's last message was `delta` ago, at Meta and in Padu alike."""
    key = (conversation.channel.external_id, conversation.contact.external_id)
    meta.state.last_inbound[key] -= delta.total_seconds()
    conversation.last_inbound_at -= delta
    conversation.save(update_fields=["last_inbound_at"])


def comment_thread(meta, channel: Channel) -> Conversation:
    """A customer comments on the account's post, at Meta and in Padu."""
    comment = meta.http.post(
        "/_sim/comment", json={"instagram_id": channel.external_id, "text": "Price?"}
    ).json()
    return make_conversation(
        channel,
        customer=comment["customer_id"],
        kind="comment",
        comment_id=comment["comment_id"],
        comment_at=timezone.now(),
    )


@pytest.fixture
def reply(world, committed):
    """Send a reply as the agent; its delivery runs when the reply commits."""

    def send(conversation: Conversation, text: str = TEXT, **options) -> Message:
        with committed():
            message = replies.reply_send(
                membership=world.agent, conversation=conversation, text=text, **options
            )
        message.refresh_from_db()
        return message

    return send


def in_words(reason: str) -> bool:
    """A reason a person can read: words, without Meta's codes or exception names."""
    return bool(reason) and not re.search(r"\d|#|Error|Exception", reason)


# Sent: Meta's id on the message, and exactly Meta's Send API body at Meta.


def _messenger_body(customer: str) -> dict:
    return {
        "recipient": {"id": customer},
        "messaging_type": "RESPONSE",
        "message": {"text": TEXT},
    }


def _human_agent_body(customer: str) -> dict:
    return {**_messenger_body(customer), "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}


def _whatsapp_body(address: str, customer: str) -> dict:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        address: customer,
        "type": "text",
        "text": {"body": TEXT, "preview_url": False},
    }


@pytest.mark.parametrize(
    ("kind", "writes", "wrote", "body"),
    [
        ("messenger", {}, timedelta(hours=1), _messenger_body),
        ("instagram", {}, timedelta(hours=23), _messenger_body),
        ("messenger", {}, timedelta(days=2), _human_agent_body),
        ("instagram", {}, timedelta(days=6), _human_agent_body),
        ("whatsapp", {}, timedelta(hours=1), lambda customer: _whatsapp_body("to", customer)),
        (
            "whatsapp",
            {"user_id": "TR.8472910365", "username": "sheena"},
            timedelta(hours=1),
            lambda customer: _whatsapp_body("recipient", customer),
        ),
    ],
    ids=[
        "messenger",
        "instagram",
        "messenger human agent",
        "instagram human agent",
        "whatsapp",
        "whatsapp username",
    ],
)
def test_a_reply_is_sent_with_metas_id_and_metas_exact_send_api_body(
    world, meta, reply, kind, writes, wrote, body
):
    channel = connect(world, meta, kind, human_agent_enabled=True)
    conversation = customer_writes(meta, channel, **writes)
    wrote_ago(meta, conversation, wrote - timedelta(hours=1))

    message = reply(conversation)

    [received] = meta.state.sent
    assert received.path == f"/{channel.external_id}/messages"
    assert received.body == body(conversation.contact.external_id)
    assert (message.status, message.external_id) == (MessageStatus.SENT, received.id)


def test_a_whatsapp_template_is_sent_outside_the_window_with_its_placeholders(
    world, meta, committed
):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)
    wrote_ago(meta, conversation, timedelta(days=3))
    template = MessageTemplate.objects.create(
        organization=world.org,
        channel=channel,
        name="order_update",
        language="en_US",
        status="APPROVED",
        components=[{"type": "BODY", "text": "Your order {{1}} is on its way."}],
    )

    with committed():
        message = replies.template_send(
            membership=world.agent,
            conversation=conversation,
            template=template,
            parameters=["#1042"],
        )

    message.refresh_from_db()
    [received] = meta.state.sent
    assert received.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": conversation.contact.external_id,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "#1042"}]}],
        },
    }
    assert (message.status, message.external_id) == (MessageStatus.SENT, received.id)
    assert message.text == "Your order #1042 is on its way."


def test_a_public_reply_goes_under_the_comment(world, meta, reply):
    channel = connect(world, meta, ChannelKind.INSTAGRAM)
    conversation = comment_thread(meta, channel)

    message = reply(conversation, text="It's 12 TL!", mode="public")

    [received] = meta.state.sent
    assert (received.path, received.body) == (
        f"/{conversation.comment_id}/replies",
        {"message": "It's 12 TL!"},
    )
    assert (message.status, message.external_id) == (MessageStatus.SENT, received.id)


def test_a_private_reply_is_a_message_to_the_comments_author(world, meta, reply):
    channel = connect(world, meta, ChannelKind.INSTAGRAM)
    conversation = comment_thread(meta, channel)

    message = reply(conversation, text="Sent you the price list", mode="private")

    [received] = meta.state.sent
    assert (received.path, received.body) == (
        f"/{channel.external_id}/messages",
        {
            "recipient": {"comment_id": conversation.comment_id},
            "message": {"text": "Sent you the price list"},
        },
    )
    assert received.recipient_id == conversation.contact.external_id
    assert (message.status, message.external_id) == (MessageStatus.SENT, received.id)


# At most once.


def test_a_delivery_that_runs_twice_sends_once(world, meta, django_capture_on_commit_callbacks):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    with django_capture_on_commit_callbacks():  # the delivery is left to this test
        message = replies.reply_send(membership=world.agent, conversation=conversation, text=TEXT)

    runs = [tasks.message_deliver.delay(message.pk).get() for _ in range(2)]

    assert runs == ["sent", "not queued"]
    assert len(meta.state.sent) == 1


# Waiting: Meta's rate limits and outages.


def delivery_waits_for_metas_rate_limit(meta, channel: Channel, message: Message) -> None:
    """While Meta rate-limits the channel, a delivery leaves the message queued and
    unclaimed for a retry, sending nothing; then the limit is lifted."""
    now = meta.state.clock()
    meta.state.clock = lambda: now
    meta.state.calls[channel.external_id] = [now] * RATES[channel.kind][0]

    with pytest.raises(delivery.Retry) as wait:
        delivery.message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert wait.value.countdown > 0
    assert (message.status, message.send_claimed_at) == (MessageStatus.QUEUED, None)
    assert meta.state.sent == []
    meta.state.calls.clear()


@pytest.mark.parametrize("kind", ["messenger", "instagram", "whatsapp"])
def test_a_rate_limited_message_stays_queued_and_unclaimed_for_a_retry(
    world, meta, django_capture_on_commit_callbacks, kind
):
    channel = connect(world, meta, kind)
    conversation = customer_writes(meta, channel)
    with django_capture_on_commit_callbacks():
        message = replies.reply_send(membership=world.agent, conversation=conversation, text=TEXT)

    delivery_waits_for_metas_rate_limit(meta, channel, message)

    assert delivery.message_deliver(message_id=message.pk) == "sent"
    assert len(meta.state.sent) == 1


def test_meta_briefly_down_is_retried_until_the_message_goes(world, meta, reply):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    meta.http.post("/_sim/outage", json={"calls": 2})

    message = reply(conversation)

    assert message.status == MessageStatus.SENT
    assert meta.sim.outage_calls == 0
    assert len(meta.state.sent) == 1


def test_a_message_meta_cannot_take_after_every_retry_fails_with_the_reason(world, meta, reply):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    meta.http.post("/_sim/outage", json={"calls": 100})

    message = reply(conversation)

    assert message.status == MessageStatus.FAILED
    assert message.error_reason == "Meta could not be reached for a long time: send it again."
    assert 100 - meta.sim.outage_calls == tasks.DELIVERY_RETRIES + 1
    assert meta.state.sent == []


# Failed: the reason in words.


@pytest.mark.parametrize("kind", ["messenger", "instagram"])
def test_a_reply_meta_finds_outside_the_window_fails_with_the_reason_in_words(
    world, meta, reply, kind
):
    channel = connect(world, meta, kind)
    conversation = customer_writes(meta, channel)
    # Meta's clock says two days; Padu still thinks the customer wrote an hour ago.
    meta.state.last_inbound[(channel.external_id, conversation.contact.external_id)] -= 2 * DAY

    message = reply(conversation)

    assert message.status == MessageStatus.FAILED
    assert message.error_reason == "Meta refused it: the customer's messaging window had closed."
    assert in_words(message.error_reason)
    assert meta.state.sent == []


def test_a_whatsapp_text_meta_finds_outside_the_window_is_failed_by_its_status(world, meta, reply):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)
    meta.state.last_inbound[(channel.external_id, conversation.contact.external_id)] -= 2 * DAY
    message = reply(conversation)
    meta.sender.flush_all()

    for body in meta.receiver.bodies:
        deliver(body)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "more than 24 hours have passed" in message.error_reason
    assert in_words(message.error_reason.replace("24", "twenty-four"))


@pytest.mark.parametrize("token_lost", ["expired", "revoked"])
def test_a_refused_token_fails_the_message_and_marks_the_channel_for_reconnecting(
    world, meta, reply, token_lost
):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    if token_lost == "expired":
        meta.http.post("/_sim/expire_token", json={"subject_id": channel.external_id})
    else:
        meta.state.tokens[channel.get_token()].revoked = True

    message = reply(conversation)

    channel.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error_reason == (
        "The channel lost its connection to Meta: reconnect it, then send again."
    )
    assert channel.status == ChannelStatus.NEEDS_REAUTH
    assert meta.state.sent == []


def test_a_message_whose_channel_was_disconnected_meanwhile_fails_unsent(
    world, meta, django_capture_on_commit_callbacks
):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    with django_capture_on_commit_callbacks():
        message = replies.reply_send(membership=world.agent, conversation=conversation, text=TEXT)
    Channel.objects.filter(pk=channel.pk).update(status=ChannelStatus.DISCONNECTED)

    assert tasks.message_deliver.delay(message.pk).get() == "failed"

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "reconnect it" in message.error_reason
    assert meta.state.sent == []


@pytest.mark.parametrize(
    ("at_meta", "reason", "still_possible"),
    [
        ("comment too old", "messaging window had closed", True),
        ("already answered", "this comment already has its private reply", False),
    ],
)
def test_a_private_reply_meta_refuses_fails_and_frees_the_reply_unless_meta_used_it(
    world, meta, reply, at_meta, reason, still_possible
):
    channel = connect(world, meta, ChannelKind.INSTAGRAM)
    conversation = comment_thread(meta, channel)
    comment = meta.state.comments[conversation.comment_id]
    if at_meta == "comment too old":
        comment.created_at -= 8 * DAY
    else:
        comment.private_replied = True  # answered from another app

    message = reply(conversation, text="Sent you the prices", mode="private")

    conversation.refresh_from_db()
    options = policy.conversation_reply_options(conversation, timezone.now())
    assert message.status == MessageStatus.FAILED
    assert reason in message.error_reason
    assert in_words(message.error_reason)
    assert options.allows("private") is still_possible


def test_a_failed_message_retried_once_the_customer_writes_again_is_sent(
    world, meta, reply, committed
):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    customer = conversation.contact.external_id
    meta.state.last_inbound[(channel.external_id, customer)] -= 2 * DAY
    message = reply(conversation)
    assert message.status == MessageStatus.FAILED
    meta.customer_writes(
        kind="messenger", business_id=channel.external_id, customer_id=customer, text="Hello?"
    )

    with committed():
        replies.message_retry(membership=world.owner, message=message)

    message.refresh_from_db()
    [received] = meta.state.sent
    assert (message.status, message.external_id, message.error_reason) == (
        MessageStatus.SENT,
        received.id,
        "",
    )
    assert received.body == _messenger_body(customer)


def test_whatsapp_statuses_that_arrive_before_the_send_is_recorded_are_applied_then(
    world, meta, reply, monkeypatch
):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)
    send = sending.whatsapp_text_send
    waiting: list[int] = []

    def send_then_hear_back_first(**arguments):
        sent = send(**arguments)
        meta.sender.flush_all()  # Meta's statuses reach Padu before the send returns
        for body in meta.receiver.bodies:
            deliver(body)
        waiting.append(PendingReceipt.objects.filter(external_id=sent.message_id).count())
        return sent

    monkeypatch.setattr(sending, "whatsapp_text_send", send_then_hear_back_first)

    message = reply(conversation)

    assert waiting == [3]  # sent, delivered and read waited for the message
    assert (message.status, message.external_id) == (MessageStatus.READ, meta.state.sent[0].id)
    assert message.delivered_at is not None
    assert message.read_at is not None
    assert message.extra["pricing"]["category"] == "service"
    assert not PendingReceipt.objects.exists()


# Interrupted deliveries.


def test_messages_claimed_over_10_minutes_ago_are_failed_for_staff_to_check(world, meta):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = make_conversation(channel)
    now = timezone.now()

    def queued(text: str, claimed_ago: timedelta | None) -> Message:
        return make_message(
            conversation,
            direction=Direction.OUTBOUND,
            text=text,
            external_id="",
            status=MessageStatus.QUEUED,
            send_mode="response",
            send_claimed_at=now - claimed_ago if claimed_ago else None,
        )

    stale = queued("cut off", timedelta(minutes=11))
    being_sent = queued("being sent", timedelta(minutes=5))
    waiting = queued("waiting", None)

    assert tasks.deliveries_interrupted_fail.delay().get() == 1

    statuses = dict(Message.objects.values_list("text", "status"))
    assert statuses == {"cut off": "failed", "being sent": "queued", "waiting": "queued"}
    stale.refresh_from_db()
    assert stale.error_reason == (
        "Padu could not confirm that Meta got this message: check before sending again."
    )
    assert {being_sent.pk, waiting.pk} == set(
        Message.objects.filter(status="queued").values_list("pk", flat=True)
    )
    assert meta.state.sent == []


def test_an_echo_recorded_before_metas_answer_is_the_same_message_not_a_second(
    world, meta, reply, monkeypatch
):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    send = sending.message_send

    def echo_first(**arguments):
        # Meta's echo webhook is processed while its answer is still on the way.
        sent = send(**arguments)
        echo = MessageEvent(
            route=Route("messenger", channel.external_id),
            customer_id=conversation.contact.external_id,
            external_id=sent.message_id,
            at=timezone.now(),
            text=TEXT,
            is_echo=True,
        )
        messages_record(channel=channel, events=[echo])
        Message.objects.filter(external_id=sent.message_id).update(status=MessageStatus.DELIVERED)
        return sent

    monkeypatch.setattr(sending, "message_send", echo_first)

    message = reply(conversation)

    [stored] = Message.objects.filter(conversation=conversation, direction=Direction.OUTBOUND)
    assert stored.pk == message.pk
    assert (stored.status, stored.author) == (MessageStatus.DELIVERED, world.agent.user)
