"""Event forwarding's pages: owners and admins add endpoints (the secret shown once and
kept encrypted), see each delivery, send one again, and never reach a private network."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from channels_meta import vault
from inbox.models import EventDelivery, OutboxEvent, WebhookEndpoint
from inbox.services import forwarding
from tests.channels_meta.factories import make_channel
from tests.forwarding.conftest import ALL_EVENTS
from tests.inbox.factories import make_conversation

pytestmark = pytest.mark.django_db


def _add(client, world, url="https://crm.example/padu", events=("message.created",)):
    client.force_login(world.owner.user)
    return client.post(
        reverse("forwarding", args=[world.org.slug]), {"url": url, "events": list(events)}
    )


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(client, world, receiver):
    page = _add(client, world).content.decode()

    secret = re.search(r'value="(whsec_[\w-]+)"', page).group(1)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["message.created"]
    assert secret not in endpoint.secret_ciphertext
    assert vault.decrypt_signing_secret(endpoint.secret_ciphertext, endpoint_id=endpoint.pk) == (
        secret
    )
    again = client.get(reverse("forwarding_endpoint", args=[world.org.slug, endpoint.pk]))
    assert secret not in again.content.decode()
    assert AuditEvent.objects.filter(action="endpoint.created").exists()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "private, loopback or link-local"),
        ("https://10.1.2.3/hook", "private, loopback or link-local"),
        ("https://169.254.169.254/latest/meta-data", "private, loopback or link-local"),
        ("https://[::1]/hook", "private, loopback or link-local"),
        ("https://user:pass@93.184.216.34/hook", "no user name or password"),
        ("ftp://93.184.216.34/hook", "https URLs only"),
    ],
)
def test_a_url_into_a_private_network_is_refused(client, world, url, reason):
    response = _add(client, world, url=url)

    assert reason in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_only_https_in_production(client, world, settings):
    settings.PRODUCTION = True

    response = _add(client, world, url="http://93.184.216.34/hook")

    assert "https URLs only" in response.content.decode()


def test_an_agent_cannot_see_or_add_endpoints(client, world):
    client.force_login(world.agent.user)

    assert client.get(reverse("forwarding", args=[world.org.slug])).status_code == 403


def test_the_log_shows_each_delivery_and_sends_one_again(client, world, receiver, committed):
    _add(client, world, events=ALL_EVENTS)
    endpoint = WebhookEndpoint.objects.get()
    conversation = make_conversation(make_channel(world.org))
    client.post(
        reverse("conversation_status", args=[world.org.slug, conversation.pk]),
        {"status": "resolved"},
    )
    forwarding.endpoint_deliver(endpoint_id=endpoint.pk)
    delivery = EventDelivery.objects.get()

    page = client.get(reverse("forwarding_endpoint", args=[world.org.slug, endpoint.pk]))
    with committed():
        client.post(
            reverse("forwarding_redeliver", args=[world.org.slug, endpoint.pk, delivery.pk])
        )
    forwarding.endpoint_deliver(endpoint_id=endpoint.pk)

    assert "conversation.updated" in page.content.decode()
    assert str(OutboxEvent.objects.get().event_id) in page.content.decode()
    assert [request["event_id"] for request in receiver.requests] == [
        str(delivery.event.event_id)
    ] * 2


def test_turning_an_endpoint_off_and_on(client, world, receiver):
    _add(client, world)
    endpoint = WebhookEndpoint.objects.get()
    url = reverse("forwarding_endpoint", args=[world.org.slug, endpoint.pk])

    client.post(url, {"url": endpoint.url, "events": ["message.created"]})
    endpoint.refresh_from_db()
    off = endpoint.is_active
    client.post(url, {"url": endpoint.url, "events": ["message.created"], "is_active": "on"})
    endpoint.refresh_from_db()

    assert (off, endpoint.is_active) == (False, True)


def test_removing_an_endpoint_drops_its_deliveries(client, world, receiver):
    _add(client, world)
    endpoint = WebhookEndpoint.objects.get()

    client.post(reverse("forwarding_delete", args=[world.org.slug, endpoint.pk]))

    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(action="endpoint.deleted").exists()
