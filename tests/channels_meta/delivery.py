"""Webhook deliveries processed as the worker processes them, for tests."""

from __future__ import annotations

from accounts.models import Organization
from channels_meta.models import Channel, ChannelKind, WebhookEvent
from channels_meta.webhooks import processing
from inbox.models import Conversation
from tests.channels_meta import payloads as p
from tests.channels_meta.factories import make_channel


def make_channels(organization: Organization) -> dict[str, Channel]:
    """A channel of each kind, on the accounts the sample payloads are addressed to."""
    return {
        "messenger": make_channel(organization, kind=ChannelKind.MESSENGER, external_id=p.PAGE_ID),
        "instagram": make_channel(organization, kind=ChannelKind.INSTAGRAM, external_id=p.IG_ID),
        "whatsapp": make_channel(
            organization, kind=ChannelKind.WHATSAPP, external_id=p.PHONE_ID, waba_id=p.WABA_ID
        ),
    }


def make_whatsapp(organization: Organization, **fields) -> Channel:
    """The WhatsApp channel the sample WhatsApp Business Account payloads are about."""
    defaults = {"name": "Kahve Evi", "handle": "+1 555-078-3881"}
    return make_channel(
        organization,
        kind=ChannelKind.WHATSAPP,
        external_id=p.PHONE_ID,
        waba_id=p.WABA_ID,
        **{**defaults, **fields},
    )


def deliver(payload) -> WebhookEvent:
    body = payload if isinstance(payload, bytes) else p.encode(payload)
    event = WebhookEvent.objects.create(body=body)
    processing.webhook_event_process(event_id=event.pk)
    event.refresh_from_db()
    return event


def deliver_and_get_conversation(business_id, customer):
    deliver(
        p.messaging(
            "page", business_id, p.customer_message(business_id, customer, f"m_first_{customer}")
        )
    )
    return Conversation.objects.get(contact__external_id=customer)
