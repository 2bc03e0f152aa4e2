"""Messenger's receipts come as watermarks: every message the Page sent up to then has
reached the customer, or been read. Through the reply and delivery services to the Meta
simulator, whose watermarks are, as Meta's, the time of the newest message the customer
has: a watermark covers each reply Meta had by then, however Padu's recording of the
send and the receipt cross."""

from __future__ import annotations

import time

import pytest

from channels_meta.graph.calls import sending
from channels_meta.models import ChannelKind
from channels_meta.simulator.state import DAY
from inbox.models import Message, MessageStatus, PendingReceipt
from tests.channels_meta import payloads as p
from tests.channels_meta.delivery import deliver
from tests.inbox.test_delivery import connect, customer_writes, reply  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def metas_webhooks_arrive(meta, *, echoes: bool = True) -> None:
    """What Meta has to tell Padu reaches it now (again, for what it already had): all of
    it, or only the receipts (the echoes of the Page's messages still on their way)."""
    meta.sender.flush_all()
    for body in meta.receiver.bodies:
        if echoes or b'"is_echo"' not in body:
            deliver(body)


def statuses(*messages: Message) -> list[str]:
    for message in messages:
        message.refresh_from_db()
    return [message.status for message in messages]


def test_the_read_receipt_meta_sends_for_a_reply_marks_it_read(world, meta, reply):  # noqa: F811
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    message = reply(conversation)

    metas_webhooks_arrive(meta)

    assert statuses(message) == [MessageStatus.READ]
    assert message.delivered_at is not None
    assert message.read_at is not None


def test_a_receipt_before_metas_answer_counts_for_the_reply(world, meta, reply, monkeypatch):  # noqa: F811
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    first = reply(conversation, "Bir dakika, bakıyorum.")
    send = sending.message_send

    def send_then_hear_back_first(**arguments):
        sent = send(**arguments)
        # The customer reads both replies, and Meta's receipts reach Padu before its
        # answer to the second send does, and before its echo.
        metas_webhooks_arrive(meta, echoes=False)
        return sent

    monkeypatch.setattr(sending, "message_send", send_then_hear_back_first)

    second = reply(conversation, "Siparişiniz yarın kargoda.")

    assert statuses(first, second) == [MessageStatus.READ, MessageStatus.READ]
    assert second.external_id == meta.state.sent[-1].id
    assert second.read_at is not None
    assert not PendingReceipt.objects.exists()


def test_a_receipt_while_a_reply_waits_leaves_it_to_metas_answer(world, meta, reply, monkeypatch):  # noqa: F811
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    customer = conversation.contact.external_id
    send = sending.message_send

    def read_then_refused(**arguments):
        # The customer reads the conversation while the reply is on its way to Meta,
        # and Meta then refuses the reply: their window had closed.
        now = int(time.time() * 1000)
        receipt = {
            "sender": {"id": customer},
            "recipient": {"id": channel.external_id},
            "timestamp": now,
        }
        deliver(p.messaging("page", channel.external_id, {**receipt, "read": {"watermark": now}}))
        meta.state.last_inbound[(channel.external_id, customer)] -= 2 * DAY
        return send(**arguments)

    monkeypatch.setattr(sending, "message_send", read_then_refused)

    message = reply(conversation, "Siparişiniz yarın kargoda.")

    assert statuses(message) == [MessageStatus.FAILED]
    assert message.read_at is None


def test_a_read_receipt_from_before_a_reply_leaves_it_unread(world, meta, reply):  # noqa: F811
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    first = reply(conversation, "Bir dakika, bakıyorum.")
    metas_webhooks_arrive(meta)

    second = reply(conversation, "Siparişiniz yarın kargoda.")

    assert statuses(first, second) == [MessageStatus.READ, MessageStatus.SENT]
