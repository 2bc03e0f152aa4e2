"""End to end: the Meta simulator plays customers (with duplicated deliveries and
reordered statuses), posts signed webhooks to Padu's real WSGI application, and the
inbox ends up with exactly what the customers sent, once each, in order."""

from __future__ import annotations

import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from channels_meta.graph import client as graph_client
from channels_meta.models import WebhookEvent
from channels_meta.oauth import account_from_token
from channels_meta.services.channels import channels_connect
from channels_meta.simulator.app import MetaSimulator
from channels_meta.simulator.state import SimulatorState
from channels_meta.simulator.traffic import Traffic
from channels_meta.simulator.webhooks import WebhookSender
from inbox.models import Attachment, Conversation, Message

pytestmark = pytest.mark.django_db

APP_ID, APP_SECRET = "4242", "end-to-end-secret"


@pytest.fixture
def simulator(settings, world):
    settings.META_APP_ID, settings.META_APP_SECRET = APP_ID, APP_SECRET
    state = SimulatorState(app_id=APP_ID, app_secret=APP_SECRET, seed=3)
    state.seed_default()
    sender = WebhookSender(
        target_url="http://testserver/webhooks/meta/",
        app_secret=APP_SECRET,
        transport=httpx.WSGITransport(app=get_wsgi_application()),
        time_scale=0.0001,
    )
    sim = MetaSimulator(state, sender, duplicate_rate=0.5, reorder_rate=1.0)
    settings.META_MEDIA_HOSTS = [sim.public_url]
    graph_client.use_transport(httpx.WSGITransport(app=sim))
    assets = state.describe()
    accounts = [
        *(
            account_from_token(kind="messenger", external_id=a["id"], token=a["system_token"])
            for a in assets["pages"]
        ),
        *(
            account_from_token(kind="instagram", external_id=a["id"], token=a["system_token"])
            for a in assets["instagram_accounts"]
        ),
        *(
            account_from_token(
                kind="whatsapp", external_id=a["id"], token=a["system_token"], waba_id=a["waba_id"]
            )
            for a in assets["whatsapp_numbers"]
        ),
    ]
    channels_connect(organization=world.org, accounts=accounts, connected_by=None)
    # Padu's WSGI app runs in this thread, inside the test's transaction: keep it from
    # closing the connection at the end of each request, as Django's test client does.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield sim
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)
    graph_client.use_transport(None)


def test_simulated_traffic_lands_once_each_and_in_order(
    simulator, celery_eager, django_capture_on_commit_callbacks
):
    traffic = Traffic(simulator, customers=12, rate=0)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(150):
            traffic.one_event()
        simulator.webhooks.flush_all()

    sent = simulator.state.inbound_log
    stored = Message.objects.filter(direction="in")
    assert sorted(stored.values_list("external_id", flat=True)) == sorted(m[3] for m in sent)
    assert len(simulator.webhooks.delivered) == WebhookEvent.objects.count()
    entries_delivered = sum(len(delivery.entries) for delivery in simulator.webhooks.delivered)
    assert entries_delivered > len(sent) * 1.3  # duplicates were sent, and ignored
    assert not WebhookEvent.objects.exclude(status="processed").exists()
    # Every photo a customer sent is fetched from the simulator and kept, once.
    photos = stored.exclude(attachments=[])
    assert photos.exists()
    assert list(Attachment.objects.values_list("status", flat=True)) == ["stored"] * photos.count()
    for conversation in Conversation.objects.filter(kind="dm"):
        customer = conversation.contact.external_id
        comments = simulator.state.comments
        expected = [m[3] for m in sent if m[2] == customer and m[3] not in comments]
        got = list(
            conversation.messages.order_by("sent_at", "id").values_list("external_id", flat=True)
        )
        assert got == expected


def test_replies_sent_through_meta_come_back_as_echoes_with_forward_only_statuses(
    simulator, celery_eager, django_capture_on_commit_callbacks
):
    state = simulator.state
    number = state.describe()["whatsapp_numbers"][0]
    page = state.describe()["pages"][0]
    with django_capture_on_commit_callbacks(execute=True):
        wa = simulator.customers.send_message(
            {"kind": "whatsapp", "business_id": number["id"], "text": "Merhaba"}
        )
        fb = simulator.customers.send_message(
            {"kind": "messenger", "business_id": page["id"], "text": "Hi"}
        )
        client = graph_client.client()
        wa_reply = client.post(
            f"{number['id']}/messages",
            token=number["system_token"],
            json_body={
                "messaging_product": "whatsapp",
                "to": wa["customer_id"],
                "type": "text",
                "text": {"body": "Hoş geldiniz"},
            },
        )
        fb_reply = client.post(
            f"{page['id']}/messages",
            token=page["system_token"],
            json_body={
                "recipient": {"id": fb["customer_id"]},
                "messaging_type": "RESPONSE",
                "message": {"text": "Welcome"},
            },
        )
        simulator.webhooks.flush_all()

    fb_message = Message.objects.get(external_id=fb_reply["message_id"])
    assert (fb_message.direction, fb_message.text, fb_message.status) == ("out", "Welcome", "read")
    # WhatsApp has no echoes: its statuses wait for the message to be recorded by the sender.
    assert not Message.objects.filter(external_id=wa_reply["messages"][0]["id"]).exists()
    assert Message.objects.filter(direction="in").count() == 2
