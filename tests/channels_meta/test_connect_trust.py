"""What a connect flow trusts: only Meta's answers for the person's own code name the
accounts Padu connects, every id in them is checked, Padu's requests go nowhere but
Meta, and stored deliveries are replayed only for what Meta confirmed, and only recent
ones."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from channels_meta import tasks
from channels_meta.graph import client as graph_client
from channels_meta.models import Channel, ChannelKind, WebhookEvent, WebhookEventStatus
from channels_meta.webhooks import processing
from inbox.models import Message
from tests.channels_meta import payloads as p
from tests.channels_meta.factories import make_channel
from tests.channels_meta.test_connect import HIDDEN, start

pytestmark = pytest.mark.django_db

META_HOSTS = {"graph.facebook.com", "graph.instagram.com", "api.instagram.com"}
INTERNAL_ANSWER = "INTERNAL-SERVICE-ANSWER"


class MetaOrNetwork(httpx.BaseTransport):
    """Meta's hosts answered by the simulator, any other host by the real network, as a
    production server would reach it."""

    def __init__(self, sim) -> None:
        self.meta = httpx.WSGITransport(app=sim)
        self.network = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in META_HOSTS:
            return self.meta.handle_request(request)
        return self.network.handle_request(request)


class DebugTokenSaying(httpx.BaseTransport):
    """The simulator, with debug_token's answer changed as a forged or stale one would be."""

    def __init__(self, sim, **changes) -> None:
        self.meta = httpx.WSGITransport(app=sim)
        self.changes = changes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.meta.handle_request(request)
        if not request.url.path.endswith("/debug_token"):
            return response
        answer = json.loads(response.read())
        answer["data"].update(self.changes)
        return httpx.Response(response.status_code, json=answer)


class Listener:
    """An internal HTTP service on 127.0.0.1 that records whoever reaches it."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener.requests.append((self.path, self.headers.get("Authorization", "")))
                body = json.dumps(
                    {"data": [{"id": "31337", "display_phone_number": INTERNAL_ANSWER}]}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    service = Listener()
    yield service
    service.close()


@pytest.fixture
def owner_client(client, world, meta):
    client.force_login(world.owner.user)
    return client


def choose_at_dialog(meta, dialog_url, assets=None):
    """Play the business owner at Meta's dialog, sharing only `assets` (all it offers
    when None)."""
    page = meta.http.get(dialog_url)
    form = dict(HIDDEN.findall(page.text))
    if assets is None:
        assets = re.findall(r'name="asset" value="([^"]+)"', page.text)
    answer = meta.http.post("/dialog/confirm", data={**form, "decision": "allow", "asset": assets})
    location = urlsplit(answer.headers["Location"])
    return f"{location.path}?{location.query}"


def owner_id(meta) -> str:
    return next(iter(meta.state.users))


def add_waba(meta, *, owned_by_owner: bool) -> tuple[str, str]:
    """A WhatsApp Business Account with one number; owned by the seeded business owner
    (who may still not share it) or by someone else. Returns (waba id, number id)."""
    waba_id, phone_id = "2" + meta.state.new_id(14), "3" + meta.state.new_id(14)
    meta.state.load(
        {
            "users": [
                {
                    "id": "10" + meta.state.new_id(13),
                    "name": "Another business",
                    "wabas": [
                        {
                            "id": waba_id,
                            "name": "Another WhatsApp",
                            "phone_numbers": [
                                {"id": phone_id, "display_phone_number": "+1 555 010 0099"}
                            ],
                        }
                    ],
                }
            ]
        }
    )
    if owned_by_owner:
        meta.state.users[owner_id(meta)].waba_ids.append(waba_id)
    return waba_id, phone_id


def seeded_waba(meta) -> str:
    return meta.assets["whatsapp_numbers"][0]["waba_id"]


def seeded_numbers(meta) -> set[str]:
    numbers = meta.assets["whatsapp_numbers"]
    return {number["id"] for number in numbers if number["waba_id"] == seeded_waba(meta)}


def test_a_url_as_waba_id_in_the_callback_sends_nothing_outside_meta(
    owner_client, world, meta, listener
):
    graph_client.use_transport(MetaOrNetwork(meta.sim))
    back = choose_at_dialog(meta, start(owner_client, world.org, "whatsapp"), [seeded_waba(meta)])

    response = owner_client.get(
        f"{back}&waba_id=http://127.0.0.1:{listener.port}/x?y=", follow=True
    )

    assert listener.requests == []
    assert INTERNAL_ANSWER not in response.content.decode()
    assert set(Channel.objects.values_list("external_id", flat=True)) == seeded_numbers(meta)
    assert not Channel.objects.filter(external_id="31337").exists()


def test_a_waba_the_person_did_not_share_is_not_connected_through_the_callback(
    owner_client, world, meta
):
    unshared_waba, unshared_number = add_waba(meta, owned_by_owner=True)
    back = choose_at_dialog(meta, start(owner_client, world.org, "whatsapp"), [seeded_waba(meta)])

    owner_client.get(f"{back}&waba_id={unshared_waba}", follow=True)

    assert {channel.waba_id for channel in Channel.objects.all()} == {seeded_waba(meta)}
    assert set(Channel.objects.values_list("external_id", flat=True)) == seeded_numbers(meta)
    assert unshared_waba not in meta.state.subscriptions
    assert not meta.state.phone_numbers[unshared_number].pin


@pytest.mark.parametrize("answer", [{"app_id": "999999"}, {"is_valid": False}])
def test_a_token_debug_token_does_not_confirm_as_valid_and_ours_connects_nothing(
    owner_client, world, meta, answer
):
    graph_client.use_transport(DebugTokenSaying(meta.sim, **answer))
    back = choose_at_dialog(meta, start(owner_client, world.org, "whatsapp"))

    response = owner_client.get(back, follow=True)

    assert "did not confirm this sign-in" in response.content.decode()
    assert not Channel.objects.exists()


def rename_number(meta, new_id: str) -> None:
    state = meta.state
    phone = state.phone_numbers.pop(meta.assets["whatsapp_numbers"][0]["id"])
    phone.id = new_id
    state.phone_numbers[new_id] = phone


def rename_waba(meta, new_id: str) -> None:
    state = meta.state
    old = seeded_waba(meta)
    waba = state.wabas.pop(old)
    waba.id = new_id
    state.wabas[new_id] = waba
    for phone in state.phone_numbers.values():
        phone.waba_id = new_id if phone.waba_id == old else phone.waba_id
    user = state.users[owner_id(meta)]
    user.waba_ids = [new_id if waba_id == old else waba_id for waba_id in user.waba_ids]


def rename_page(meta, new_id: str) -> None:
    state = meta.state
    old = meta.assets["pages"][1]["id"]
    page = state.pages.pop(old)
    page.id = new_id
    state.pages[new_id] = page
    user = state.users[owner_id(meta)]
    user.page_ids = [new_id if page_id == old else page_id for page_id in user.page_ids]


def rename_linked_instagram(meta, new_id: str) -> None:
    state = meta.state
    page = next(page for page in state.pages.values() if page.instagram_id)
    account = state.instagram_accounts.pop(page.instagram_id)
    account.id = page.instagram_id = new_id
    state.instagram_accounts[new_id] = account


@pytest.mark.parametrize(
    ("flow", "rename", "what"),
    [
        ("whatsapp", rename_number, "phone number"),
        ("whatsapp", rename_waba, "WhatsApp Business Account"),
        ("facebook", rename_page, "Page"),
        ("facebook", rename_linked_instagram, "Instagram account"),
    ],
)
def test_an_id_in_metas_answer_that_is_not_digits_connects_nothing(
    owner_client, world, meta, flow, rename, what
):
    rename(meta, "12ab34")
    back = choose_at_dialog(meta, start(owner_client, world.org, flow))

    response = owner_client.get(back, follow=True)

    assert f"Meta answered with an invalid {what} id" in response.content.decode()
    assert not Channel.objects.exists()
    assert not meta.state.subscriptions


def test_an_instagram_login_user_id_that_is_not_digits_connects_nothing(
    owner_client, world, meta, settings
):
    settings.META_INSTAGRAM_LOGIN = True
    settings.META_INSTAGRAM_AUTHORIZE_URL = "https://www.instagram.com/oauth/authorize"
    state = meta.state
    account = state.instagram_accounts.pop(meta.assets["instagram_accounts"][1]["id"])
    account.id = "1784ab"
    state.instagram_accounts[account.id] = account

    back = choose_at_dialog(meta, start(owner_client, world.org, "instagram"), [account.id])
    response = owner_client.get(back, follow=True)

    assert "Meta answered with an invalid Instagram account id" in response.content.decode()
    assert not Channel.objects.exists()


def test_manual_whatsapp_connect_needs_meta_to_list_the_number_under_the_waba(
    owner_client, world, meta
):
    waba_a, number_a = add_waba(meta, owned_by_owner=True)
    token = meta.state.new_token("user", owner_id(meta)).value
    url = reverse("channel_manual_whatsapp", args=[world.org.slug])

    refused = owner_client.post(
        url, {"phone_number_id": number_a, "waba_id": seeded_waba(meta), "token": token}
    )

    assert "does not list the number" in refused.content.decode()
    assert not Channel.objects.exists()
    owner_client.post(url, {"phone_number_id": number_a, "waba_id": waba_a, "token": token})
    assert Channel.objects.get().waba_id == waba_a


def whatsapp_delivery(phone_id: str, wamid: str, *, days_ago: int = 0) -> WebhookEvent:
    """A customer's WhatsApp message for `phone_id`, stored and found unroutable."""
    message = {"from": "15550002222", "id": wamid, "timestamp": "1700000000", "type": "text"}
    body = p.whatsapp(
        {
            "contacts": [{"profile": {"name": "A Customer"}, "wa_id": "15550002222"}],
            "messages": [{**message, "text": {"body": "Hi"}}],
        },
        phone_id=phone_id,
    )
    event = WebhookEvent.objects.create(body=p.encode(body))
    processing.webhook_event_process(event_id=event.pk)
    WebhookEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - timedelta(days=days_ago)
    )
    event.refresh_from_db()
    assert event.status == WebhookEventStatus.UNROUTABLE
    return event


def test_only_recent_deliveries_for_numbers_meta_confirmed_are_replayed_on_connect(
    owner_client, world, meta, celery_eager, django_capture_on_commit_callbacks
):
    granted = meta.assets["whatsapp_numbers"][0]["id"]
    foreign_waba, foreign_number = add_waba(meta, owned_by_owner=False)
    recent = whatsapp_delivery(granted, "wamid.recent", days_ago=1)
    old = whatsapp_delivery(granted, "wamid.old", days_ago=8)
    foreign = whatsapp_delivery(foreign_number, "wamid.foreign")
    back = choose_at_dialog(meta, start(owner_client, world.org, "whatsapp"), [seeded_waba(meta)])

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.get(f"{back}&waba_id={foreign_waba}&phone_number_id={foreign_number}")

    statuses = {
        event.pk: event.status
        for event in WebhookEvent.objects.filter(pk__in=[recent.pk, old.pk, foreign.pk])
    }
    assert statuses == {
        recent.pk: WebhookEventStatus.PROCESSED,
        old.pk: WebhookEventStatus.UNROUTABLE,
        foreign.pk: WebhookEventStatus.UNROUTABLE,
    }
    assert list(Message.objects.values_list("external_id", flat=True)) == ["wamid.recent"]
    assert not Channel.objects.filter(external_id=foreign_number).exists()


def test_the_replay_window_follows_the_setting(world, settings, celery_eager):
    settings.WEBHOOK_REPLAY_MAX_AGE_DAYS = 30
    event = whatsapp_delivery(p.PHONE_ID, "wamid.twenty_days", days_ago=20)
    channel = make_channel(
        world.org, kind=ChannelKind.WHATSAPP, external_id=p.PHONE_ID, waba_id=p.WABA_ID
    )

    assert tasks.webhook_events_reopen_for_channel.delay(channel.pk).get() == 1
    event.refresh_from_db()
    assert event.status == WebhookEventStatus.PROCESSED
