"""Which app credentials each login uses, and how each kind of account gets its webhooks
to Padu: a Page's subscription (Messenger, and the Instagram accounts linked to the
Page), an Instagram Login account's own on graph.instagram.com, a WhatsApp Business
Account's (with no fields)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from channels_meta import oauth
from channels_meta.graph.calls.subscriptions import INSTAGRAM_FIELDS, PAGE_FIELDS
from channels_meta.models import Channel, ChannelKind, ChannelStatus
from channels_meta.services.channels import channels_connect
from tests.channels_meta.conftest import (
    APP_SECRET,
    INSTAGRAM_APP_ID,
    INSTAGRAM_APP_SECRET,
    Recording,
)
from tests.channels_meta.payloads import sign
from tests.channels_meta.test_connect import connect, start

pytestmark = pytest.mark.django_db


def subscriptions(recording: Recording) -> list[tuple[str, str, str, str]]:
    """(method, host, node, subscribed_fields) of each subscribed_apps request."""
    return [
        (
            request.method,
            request.url.host,
            request.url.path.split("/")[2],
            request.url.params.get("subscribed_fields", ""),
        )
        for request in recording.requests
        if request.url.path.endswith("/subscribed_apps")
    ]


@pytest.fixture
def owner_client(client, world, meta):
    client.force_login(world.owner.user)
    return client


@pytest.fixture
def instagram_login(settings):
    settings.META_INSTAGRAM_LOGIN = True
    settings.META_INSTAGRAM_AUTHORIZE_URL = "https://www.instagram.com/oauth/authorize"


def test_the_instagram_login_dialog_names_the_instagram_app(owner_client, world, instagram_login):
    dialog = start(owner_client, world.org, "instagram")

    assert parse_qs(urlsplit(dialog).query)["client_id"] == [INSTAGRAM_APP_ID]


def test_instagram_login_exchanges_its_code_as_the_instagram_app(
    owner_client, world, meta, instagram_login, recording, settings
):
    connect(owner_client, meta, world.org, "instagram")

    exchanges = [
        request
        for request in recording.requests
        if request.url.path.endswith("access_token") and request.url.host != "graph.facebook.com"
    ]
    assert {request.url.host for request in exchanges} == {
        "api.instagram.com",
        "graph.instagram.com",
    }
    for request in exchanges:
        sent = request.content.decode() + str(request.url)
        assert INSTAGRAM_APP_SECRET in sent
        assert APP_SECRET not in sent
    assert Channel.objects.get().uses_instagram_login


def test_instagram_login_with_the_facebook_apps_secret_connects_nothing(
    owner_client, world, meta, instagram_login, settings
):
    settings.META_INSTAGRAM_APP_SECRET = APP_SECRET

    response = connect(owner_client, meta, world.org, "instagram")

    assert "Meta did not accept Padu&#x27;s app id or secret" in response.content.decode()
    assert not Channel.objects.exists()


def test_an_instagram_login_account_subscribes_on_graph_instagram_com_with_instagram_fields(
    owner_client, world, meta, instagram_login, recording
):
    connect(owner_client, meta, world.org, "instagram")

    channel = Channel.objects.get()
    assert subscriptions(recording) == [
        ("POST", "graph.instagram.com", channel.external_id, INSTAGRAM_FIELDS)
    ]
    assert meta.state.subscriptions[channel.external_id] == set(INSTAGRAM_FIELDS.split(","))


def test_a_page_linked_instagram_account_gets_its_webhooks_through_its_page(
    owner_client, world, meta, recording
):
    connect(owner_client, meta, world.org, "facebook")

    instagram = Channel.objects.get(kind=ChannelKind.INSTAGRAM)
    pages = set(
        Channel.objects.filter(kind=ChannelKind.MESSENGER).values_list("external_id", flat=True)
    )
    assert instagram.page_id in pages
    assert sorted(subscriptions(recording)) == sorted(
        ("POST", "graph.facebook.com", page_id, PAGE_FIELDS) for page_id in pages
    )
    # Meta delivers the account's events with the Instagram fields ticked in the dashboard.
    assert "messages" in meta.state.subscriptions[instagram.external_id]


def test_meta_has_no_subscribed_apps_edge_for_a_page_linked_instagram_account(meta):
    page = next(page for page in meta.assets["pages"] if page["instagram_id"])

    answer = meta.http.post(
        f"/v25.0/{page['instagram_id']}/subscribed_apps",
        params={"subscribed_fields": "messages", "access_token": page["system_token"]},
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["error_subcode"] == 33


def test_a_page_refuses_instagram_field_names(meta):
    page = meta.assets["pages"][0]

    answer = meta.http.post(
        f"/v25.0/{page['id']}/subscribed_apps",
        params={
            "subscribed_fields": "messages,messaging_seen",
            "access_token": page["system_token"],
        },
    )

    assert answer.status_code == 400
    assert "messaging_seen" in answer.json()["error"]["message"]


def test_a_page_stays_subscribed_while_its_instagram_account_is_connected(
    owner_client, world, meta
):
    connect(owner_client, meta, world.org, "facebook")
    instagram = Channel.objects.get(kind=ChannelKind.INSTAGRAM)
    page = Channel.objects.get(kind=ChannelKind.MESSENGER, external_id=instagram.page_id)

    owner_client.post(reverse("channel_disconnect", args=[world.org.slug, page.pk]))
    assert page.external_id in meta.state.subscriptions

    owner_client.post(reverse("channel_disconnect", args=[world.org.slug, instagram.pk]))
    assert page.external_id not in meta.state.subscriptions
    assert instagram.external_id not in meta.state.subscriptions


def test_disconnecting_a_page_linked_instagram_account_keeps_the_page_subscribed(
    owner_client, world, meta, recording
):
    connect(owner_client, meta, world.org, "facebook")
    instagram = Channel.objects.get(kind=ChannelKind.INSTAGRAM)

    owner_client.post(reverse("channel_disconnect", args=[world.org.slug, instagram.pk]))

    instagram.refresh_from_db()
    assert instagram.status == ChannelStatus.DISCONNECTED
    assert instagram.page_id in meta.state.subscriptions
    assert not [call for call in subscriptions(recording) if call[0] == "DELETE"]


def test_an_instagram_account_connected_with_a_pasted_token_is_saved_with_a_warning(world, meta):
    account = meta.assets["instagram_accounts"][0]

    connection = channels_connect(
        organization=world.org,
        accounts=[
            oauth.account_from_token(
                kind=ChannelKind.INSTAGRAM, external_id=account["id"], token=account["system_token"]
            )
        ],
        connected_by=None,
    )

    assert [channel.external_id for channel in connection.channels] == [account["id"]]
    assert "through its Facebook Page's subscription" in connection.problems[0]
    assert account["id"] not in meta.state.subscriptions


def test_instagram_login_webhooks_are_signed_with_the_instagram_apps_secret_and_accepted(
    owner_client, client, world, meta, instagram_login, settings
):
    connect(owner_client, meta, world.org, "instagram")
    channel = Channel.objects.get()
    page = meta.assets["pages"][0]

    meta.customer_writes(kind="instagram", business_id=channel.external_id, text="Selam")
    meta.customer_writes(kind="messenger", business_id=page["id"], text="Merhaba")
    meta.sender.flush_all()

    signed = dict(zip(meta.receiver.bodies, meta.receiver.signatures, strict=True))
    by_object = {b'"object":"instagram"' in body: (body, sig) for body, sig in signed.items()}
    instagram_body, instagram_signature = by_object[True]
    page_body, page_signature = by_object[False]
    assert instagram_signature == sign(instagram_body, INSTAGRAM_APP_SECRET)
    assert page_signature == sign(page_body, APP_SECRET)
    for body, signature in signed.items():
        response = client.post(
            reverse("meta_webhook"),
            data=body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=signature,
        )
        assert response.status_code == 200
