"""Forwarded events: written with the change, signed, delivered at least once and in
order per conversation, retried with backoff while the receiver is down, and an
endpoint failing for 3 days is turned off with its managers told."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Notice
from inbox.forwarding import signing
from inbox.models import DeliveryStatus, EventDelivery, OutboxEvent, WebhookEndpoint
from inbox.services import conversations, forwarding, replies
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation

pytestmark = pytest.mark.django_db


def _deliver(hook) -> int:
    return forwarding.endpoint_deliver(endpoint_id=hook.endpoint.pk)


def _due_now() -> None:
    EventDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())


@pytest.fixture
def conversation(world):
    return make_conversation(make_channel(world.org))


def _resolve(world, conversation, status="resolved"):
    conversations.conversation_status_set(
        membership=world.agent, conversation=conversation, status=status
    )


def test_a_change_writes_its_event_and_one_delivery_per_endpoint(world, hook, conversation):
    _resolve(world, conversation)

    event = OutboxEvent.objects.get()
    assert event.type == "conversation.updated"
    assert event.payload["status"] == "resolved"
    assert event.ordering_key == f"conversation:{conversation.pk}"
    assert EventDelivery.objects.get().endpoint == hook.endpoint


def test_a_change_that_rolls_back_leaves_no_event(world, hook, conversation):
    @transaction.atomic
    def resolve_then_fail():
        _resolve(world, conversation)
        raise RuntimeError

    with pytest.raises(RuntimeError):
        resolve_then_fail()

    assert not OutboxEvent.objects.exists()


def test_nothing_is_recorded_without_an_endpoint_wanting_it(world, conversation, receiver):
    _resolve(world, conversation)

    assert not OutboxEvent.objects.exists()


def test_the_receiver_gets_a_body_it_can_verify_from_the_docs_alone(
    world, hook, receiver, conversation
):
    _resolve(world, conversation)

    assert _deliver(hook) == 1

    [request] = receiver.requests
    assert signing.verify(hook.secret, request["body"], request["signature"])
    assert not signing.verify("whsec_other", request["body"], request["signature"])
    event = OutboxEvent.objects.get()
    assert request["event_id"] == str(event.event_id)
    assert receiver.events[0]["id"] == str(event.event_id)
    delivery = EventDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("delivered", 200, 1)


def test_a_signature_too_old_is_refused_by_the_receiver():
    body = b'{"id":"1"}'
    header = signing.signature_header("whsec_x", body, timestamp=1_000_000)

    assert signing.verify("whsec_x", body, header, now=1_000_000 + 299)
    assert not signing.verify("whsec_x", body, header, now=1_000_000 + 301)
    assert not signing.verify("whsec_x", body + b" ", header, now=1_000_000)
    assert not signing.verify("whsec_x", body, "t=oops,v1=00", now=1_000_000)


def test_a_receiver_down_for_a_while_gets_everything_in_order_once_back(
    world, hook, receiver, conversation
):
    other = make_conversation(conversation.channel)
    receiver.status = 503
    for status in ("pending", "resolved", "open"):
        _resolve(world, conversation, status)
    _resolve(world, other)

    _deliver(hook)
    failed = list(EventDelivery.objects.order_by("pk"))
    # The first of each conversation was tried; the later ones of the first wait behind it.
    assert [d.attempts for d in failed] == [1, 0, 0, 1]
    assert all(d.next_attempt_at > timezone.now() for d in (failed[0], failed[3]))
    assert failed[0].error == "The endpoint answered 503."

    receiver.status = 200
    receiver.requests.clear()
    _due_now()
    _deliver(hook)

    statuses = [(e["data"]["id"], e["data"]["status"]) for e in receiver.events]
    assert [s for pk, s in statuses if pk == conversation.pk] == ["pending", "resolved", "open"]
    assert len(statuses) == 4
    assert set(EventDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_retries_wait_longer_each_time_up_to_an_hour():
    delays = [forwarding.retry_delay(n).total_seconds() for n in (1, 2, 3, 10, 30)]

    assert 9 <= delays[0] <= 11
    assert 18 <= delays[1] <= 22
    assert 36 <= delays[2] <= 44
    assert 3240 <= delays[3] <= 3960
    assert delays[4] <= 3960


def test_a_worker_killed_mid_delivery_loses_nothing(world, hook, receiver, conversation):
    _resolve(world, conversation)
    # A worker took the lease and died before it marked anything delivered.
    WebhookEndpoint.objects.filter(pk=hook.endpoint.pk).update(
        leased_until=timezone.now() + timedelta(seconds=30)
    )

    assert _deliver(hook) == 0  # another worker holds it: nothing sent twice at once
    WebhookEndpoint.objects.filter(pk=hook.endpoint.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    assert _deliver(hook) == 1
    assert len(receiver.requests) == 1


def test_an_endpoint_failing_for_three_days_is_turned_off_and_its_managers_told(
    world, hook, receiver, conversation
):
    receiver.status = 500
    _resolve(world, conversation)
    WebhookEndpoint.objects.filter(pk=hook.endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=3, minutes=1)
    )

    _deliver(hook)

    hook.endpoint.refresh_from_db()
    assert not hook.endpoint.is_active
    assert "3 days" in hook.endpoint.disabled_reason
    assert Notice.objects.filter(organization=world.org, topic=f"endpoint:{hook.endpoint.pk}")
    assert EventDelivery.objects.get().status == DeliveryStatus.PENDING  # kept for later


def test_an_event_older_than_three_days_is_given_up(world, hook, receiver, conversation):
    receiver.status = 500
    _resolve(world, conversation)
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(days=3))

    _deliver(hook)

    assert EventDelivery.objects.get().status == DeliveryStatus.FAILED


def test_a_reply_is_forwarded_as_message_created(world, hook, receiver, conversation, committed):
    with committed():
        replies.reply_send(membership=world.agent, conversation=conversation, text="Hello")

    _deliver(hook)

    [event] = [e for e in receiver.events if e["type"] == "message.created"]
    assert event["data"]["message"]["text"] == "Hello"
    assert event["data"]["conversation"]["id"] == conversation.pk


def test_a_private_address_is_refused_when_the_delivery_is_tried(
    world, hook, receiver, conversation, settings
):
    settings.FORWARDING_ALLOW_PRIVATE_NETWORKS = False
    WebhookEndpoint.objects.filter(pk=hook.endpoint.pk).update(url="https://127.0.0.1:8443/x")
    _resolve(world, conversation)

    _deliver(hook)

    assert receiver.requests == []
    delivery = EventDelivery.objects.get()
    assert "private, loopback or link-local" in delivery.error


def test_erasing_a_customer_erases_their_waiting_events(world, hook, receiver, conversation):
    from inbox.models import Contact
    from inbox.services.erasure import contacts_erase

    _resolve(world, conversation)
    other = make_conversation(conversation.channel)
    _resolve(world, other)

    erased = contacts_erase(contacts=Contact.objects.filter(pk=conversation.contact_id))

    assert erased["forwarded events"] == 1
    assert [e.ordering_key for e in OutboxEvent.objects.all()] == [f"conversation:{other.pk}"]


def test_events_are_purged_after_a_week(world, hook, receiver, conversation):
    from privacy.services.retention import platform_retention_enforce

    _resolve(world, conversation)
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(days=8))
    _resolve(world, conversation, "open")

    platform_retention_enforce()

    assert [e.payload["status"] for e in OutboxEvent.objects.all()] == ["open"]


def test_a_channel_needing_reconnection_and_a_template_decision_are_forwarded(
    world, hook, receiver
):
    from channels_meta.models import MessageTemplate
    from channels_meta.services.templates import template_set_status
    from channels_meta.services.tokens import channel_mark_needs_reauth

    WebhookEndpoint.objects.filter(pk=hook.endpoint.pk).update(
        events=["channel.updated", "template.updated"]
    )
    channel = make_channel(world.org, token="EAAG-never-forwarded")
    MessageTemplate.objects.create(
        organization=world.org, channel=channel, name="hello", language="en", status="PENDING"
    )
    channel_mark_needs_reauth(channel=channel, reason="password_changed")
    template_set_status(channel=channel, name="hello", language="en", status="APPROVED")

    _deliver(hook)

    channel_event, template_event = receiver.events
    assert channel_event["type"] == "channel.updated"
    assert channel_event["data"]["status"] == "needs_reauth"
    assert channel_event["data"]["problems"]
    assert (template_event["type"], template_event["data"]["status"]) == (
        "template.updated",
        "APPROVED",
    )
    assert b"EAAG" not in b"".join(request["body"] for request in receiver.requests)


def test_an_inbound_message_from_a_new_customer_forwards_the_conversation_then_the_message(
    world, hook, receiver
):
    from channels_meta.webhooks.events import MessageEvent, Route
    from inbox.services.recording import events_record

    channel = make_channel(world.org)
    events_record(
        channel=channel,
        events=[
            MessageEvent(
                route=Route("whatsapp", channel.external_id),
                external_id="wamid.1",
                customer_id="905320000000",
                customer_name="Ayşe",
                text="Merhaba",
                at=timezone.now(),
            )
        ],
    )

    _deliver(hook)

    assert [e["type"] for e in receiver.events] == ["conversation.created", "message.created"]
    assert receiver.events[1]["data"]["message"]["text"] == "Merhaba"
    assert receiver.events[1]["data"]["contact"]["display_name"] == "Ayşe"
