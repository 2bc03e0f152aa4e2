"""Whatever Meta (or anyone with the secret) sends, processing never raises: odd input
ends as a recorded failure or note, never as a crashed worker."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_meta.models import Channel, ChannelKind, WebhookEvent
from channels_meta.webhooks import parsers, processing
from tests.channels_meta import payloads as p
from tests.channels_meta.factories import make_channel
from tests.inbox.payloads import whatsapp as wa

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "object",
                    "entry",
                    "id",
                    "time",
                    "messaging",
                    "changes",
                    "field",
                    "value",
                    "message",
                    "mid",
                    "text",
                    "sender",
                    "recipient",
                    "timestamp",
                    "messages",
                    "statuses",
                    "type",
                    "from",
                    "metadata",
                    "phone_number_id",
                    "delivery",
                    "read",
                    "reaction",
                    "attachments",
                    "payload",
                    "errors",
                    "code",
                    "standby",
                    "is_echo",
                    "contacts",
                    "profile",
                    "wa_id",
                    "user_id",
                    "from_user_id",
                    "user_ref",
                    "prior_message",
                    "message_edit",
                    "num_edit",
                    "referral",
                    "postback",
                    "system",
                    "edit",
                    "revoke",
                    "original_message_id",
                    "interactive",
                    "nfm_reply",
                    "response_json",
                    "order",
                    "product_items",
                    "context",
                    "message_echoes",
                    "user_preferences",
                    "sticker_id",
                    "coordinates",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=6,
        )
    ),
    max_leaves=40,
)
objects = st.sampled_from(["page", "instagram", "whatsapp_business_account", "other", ""])

SAMPLES = [
    p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, "1", "m_1")),
    wa.username_only_text(),
    wa.flow_completion(),
    wa.business_app_echo(),
    wa.marketing_preference(),
    p.whatsapp_message("905550001122", "wamid.1"),
    p.whatsapp_status("wamid.1", "failed", errors=[{"code": 131047}]),
    p.comment("c1"),
]


@given(payload=json_values)
@settings(max_examples=300, deadline=None)
def test_the_parser_never_raises_on_any_json(payload):
    parsers.parse(payload)


@given(object_type=objects, entries=st.lists(json_values, max_size=3))
@settings(max_examples=300, deadline=None)
def test_the_parser_never_raises_on_meta_like_deliveries(object_type, entries):
    parsers.parse({"object": object_type, "entry": entries})


@pytest.mark.django_db
@given(
    sample=st.sampled_from(SAMPLES), cut=st.integers(min_value=0, max_value=400), noise=json_values
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_processing_truncated_or_altered_payloads_never_raises(world, sample, cut, noise):
    if not Channel.objects.exists():
        make_channel(world.org, kind=ChannelKind.MESSENGER, external_id=p.PAGE_ID)
        make_channel(
            world.org, kind=ChannelKind.WHATSAPP, external_id=p.PHONE_ID, waba_id=p.WABA_ID
        )
    raw = p.encode(sample)
    altered = json.loads(raw)
    altered["entry"] = [*altered["entry"], noise]
    for body in (raw[:cut], p.encode(altered)):
        event = WebhookEvent.objects.create(body=body)
        outcome = processing.webhook_event_process(event_id=event.pk)
        assert outcome in {"processed", "failed", "ignored", "unroutable"}
