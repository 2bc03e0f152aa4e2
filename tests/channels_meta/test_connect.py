"""Connecting channels end to end: Padu's pages, Meta's (simulated) dialogs, the code
exchanges and the saved, encrypted channels."""

from __future__ import annotations

import json
import logging
import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent
from channels_meta import oauth
from channels_meta.models import Channel, ChannelKind, ChannelStatus
from channels_meta.services import channels as channels_service
from channels_meta.services.channels import channel_disconnect, channels_connect
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def start(client, org, flow, pin="246810"):
    data = {"pin": pin} if flow == "whatsapp" else {}
    response = client.post(reverse("channel_connect", args=[org.slug, flow]), data)
    assert response.status_code == 302
    return response["Location"]


def through_dialog(meta, dialog_url, decision="allow"):
    """Play the business owner at Meta's dialog; returns the path Meta sends them back to."""
    page = meta.http.get(dialog_url)
    assert page.status_code == 200, page.text
    form = dict(HIDDEN.findall(page.text))
    assets = re.findall(r'name="asset" value="([^"]+)"', page.text)
    answer = meta.http.post("/dialog/confirm", data={**form, "decision": decision, "asset": assets})
    location = urlsplit(answer.headers["Location"])
    return f"{location.path}?{location.query}"


def connect(client, meta, org, flow, decision="allow"):
    return client.get(through_dialog(meta, start(client, org, flow), decision), follow=True)


@pytest.fixture
def owner_client(client, world, meta):
    client.force_login(world.owner.user)
    return client


def test_facebook_login_connects_the_pages_and_their_instagram_accounts(owner_client, world, meta):
    response = connect(owner_client, meta, world.org, "facebook")

    channels = {(c.kind, c.name) for c in Channel.objects.for_org(world.org)}
    assert channels == {
        (ChannelKind.MESSENGER, "Kahve Evi"),
        (ChannelKind.MESSENGER, "Bloom Flowers"),
        (ChannelKind.INSTAGRAM, "kahve.evi"),
    }
    assert "Connected:" in response.content.decode()
    page = Channel.objects.get(kind=ChannelKind.MESSENGER, name="Kahve Evi")
    assert meta.state.tokens[page.get_token()].kind == "page"
    assert page.token_expires_at is None
    assert page.status == ChannelStatus.ACTIVE
    assert "message_echoes" in meta.state.subscriptions[page.external_id]
    assert (
        "comments"
        in meta.state.subscriptions[Channel.objects.get(kind=ChannelKind.INSTAGRAM).external_id]
    )
    assert AuditEvent.objects.filter(action=AuditAction.CHANNEL_CONNECTED).count() == 3


def test_instagram_login_connects_the_account_with_a_60_day_token(
    owner_client, world, meta, settings
):
    settings.META_INSTAGRAM_LOGIN = True
    settings.META_INSTAGRAM_AUTHORIZE_URL = "https://www.instagram.com/oauth/authorize"

    connect(owner_client, meta, world.org, "instagram")

    channel = Channel.objects.get(kind=ChannelKind.INSTAGRAM)
    assert channel.uses_instagram_login
    assert channel.handle.startswith("@")
    assert 59 <= (channel.token_expires_at - channel.connected_at).days <= 60
    assert meta.state.tokens[channel.get_token()].kind == "instagram"


def test_whatsapp_embedded_signup_connects_every_shared_number(owner_client, world, meta):
    connect(owner_client, meta, world.org, "whatsapp")

    channels = Channel.objects.for_org(world.org).filter(kind=ChannelKind.WHATSAPP)
    assert channels.count() == 2
    waba_id = meta.assets["whatsapp_numbers"][0]["waba_id"]
    assert {channel.waba_id for channel in channels} == {waba_id}
    assert waba_id in meta.state.subscriptions
    assert {phone.pin for phone in meta.state.phone_numbers.values()} == {"246810"}


def test_whatsapp_signup_needs_a_six_digit_pin(owner_client, world, meta):
    response = owner_client.post(
        reverse("channel_connect", args=[world.org.slug, "whatsapp"]),
        {"pin": "12ab"},
        follow=True,
    )

    assert "The PIN is six digits." in response.content.decode()
    assert "meta_oauth_states" not in owner_client.session


def test_a_pin_meta_refuses_saves_nothing(owner_client, world, meta):
    for phone in meta.state.phone_numbers.values():
        phone.pin = "111111"

    response = connect(owner_client, meta, world.org, "whatsapp")

    assert "The two-step verification PIN is not the one set for this number." in (
        response.content.decode()
    )
    assert "Meta error" not in response.content.decode()
    assert not Channel.objects.exists()
    assert "246810" not in response.content.decode()


def test_cancelling_at_meta_saves_nothing_and_says_so(owner_client, world, meta):
    response = connect(owner_client, meta, world.org, "facebook", decision="cancel")

    assert "You cancelled the connection at Meta" in response.content.decode()
    assert not Channel.objects.exists()


def test_a_state_that_does_not_match_is_refused(owner_client, world, meta):
    back = through_dialog(meta, start(owner_client, world.org, "facebook"))
    forged = re.sub(r"state=[^&]+", "state=forged", back)

    response = owner_client.get(forged, follow=True)

    assert "could not be verified" in response.content.decode()
    assert not Channel.objects.exists()


def test_a_state_works_once(owner_client, world, meta):
    back = through_dialog(meta, start(owner_client, world.org, "facebook"))
    owner_client.get(back)
    Channel.objects.all().delete()

    replay = owner_client.get(back, follow=True)

    assert "could not be verified" in replay.content.decode()
    assert not Channel.objects.exists()


def test_a_state_from_another_browser_session_is_refused(client, world, meta):
    starter = Client()
    starter.force_login(world.owner.user)
    back = through_dialog(meta, start(starter, world.org, "facebook"))
    client.force_login(world.owner.user)

    response = client.get(back, follow=True)

    assert "could not be verified" in response.content.decode()
    assert not Channel.objects.exists()


def test_a_state_older_than_ten_minutes_is_refused(owner_client, world, meta):
    back = through_dialog(meta, start(owner_client, world.org, "facebook"))
    session = owner_client.session
    for entry in session["meta_oauth_states"].values():
        entry["created"] -= 601
    session.save()

    response = owner_client.get(back, follow=True)

    assert "took too long" in response.content.decode()
    assert not Channel.objects.exists()


def test_an_expired_code_is_reported_and_saves_nothing(owner_client, world, meta):
    back = through_dialog(meta, start(owner_client, world.org, "facebook"))
    for grant in meta.state.codes.values():
        grant["issued_at"] -= 11 * 60

    response = owner_client.get(back, follow=True)

    page = response.content.decode()
    assert "The sign-in at Meta expired before Padu could finish: connect again." in page
    assert "36007" not in page
    assert not Channel.objects.exists()


def test_an_account_another_organisation_holds_is_refused(owner_client, world, meta):
    page = meta.assets["pages"][0]
    make_channel(
        world.other_org, kind=ChannelKind.MESSENGER, external_id=page["id"], name=page["name"]
    )

    response = connect(owner_client, meta, world.org, "facebook")

    assert "already connected to another organisation" in response.content.decode()
    assert not Channel.objects.for_org(world.org).exists()


def test_manual_whatsapp_connect_checks_the_token_with_meta(owner_client, world, meta):
    number = meta.assets["whatsapp_numbers"][0]
    url = reverse("channel_manual_whatsapp", args=[world.org.slug])
    fields = {"phone_number_id": number["id"], "waba_id": number["waba_id"]}

    refused = owner_client.post(url, {**fields, "token": "EAAGwrongwrongwrongwrongwrong1"})
    assert "Meta did not accept this token" in refused.content.decode()
    assert not Channel.objects.exists()

    owner_client.post(url, {**fields, "token": number["system_token"]})
    channel = Channel.objects.get()
    assert (channel.kind, channel.external_id, channel.waba_id) == (
        ChannelKind.WHATSAPP,
        number["id"],
        number["waba_id"],
    )
    assert channel.handle == number["display_phone_number"]


def test_disconnect_releases_the_channel_at_meta_and_forgets_the_token(owner_client, world, meta):
    connect(owner_client, meta, world.org, "facebook")
    channel = Channel.objects.get(kind=ChannelKind.MESSENGER, name="Bloom Flowers")
    page_token = channel.get_token()

    owner_client.post(reverse("channel_disconnect", args=[world.org.slug, channel.pk]))

    channel.refresh_from_db()
    assert channel.status == ChannelStatus.DISCONNECTED
    assert channel.disconnected_at is not None
    assert not channel.has_token
    assert channel.external_id not in meta.state.subscriptions
    # Other channels of the same person still need the grant: it is not revoked yet.
    assert not meta.state.tokens[page_token].revoked
    for other in Channel.objects.connected():
        owner_client.post(reverse("channel_disconnect", args=[world.org.slug, other.pk]))
    assert meta.state.tokens[page_token].revoked
    assert AuditEvent.objects.filter(action=AuditAction.CHANNEL_DISCONNECTED).count() == 3


def test_disconnecting_one_number_keeps_its_waba_subscribed_until_the_last_one_goes(
    owner_client, world, meta
):
    connect(owner_client, meta, world.org, "whatsapp")
    first, second = Channel.objects.filter(kind=ChannelKind.WHATSAPP).order_by("pk")
    assert first.waba_id == second.waba_id

    owner_client.post(reverse("channel_disconnect", args=[world.org.slug, first.pk]))
    assert first.waba_id in meta.state.subscriptions

    owner_client.post(reverse("channel_disconnect", args=[world.org.slug, second.pk]))
    assert first.waba_id not in meta.state.subscriptions


def test_a_number_of_the_same_waba_in_another_organisation_keeps_it_subscribed(world, meta):
    mine, theirs = (
        channels_connect(
            organization=organization,
            accounts=[
                oauth.account_from_token(
                    kind=ChannelKind.WHATSAPP,
                    external_id=number["id"],
                    waba_id=number["waba_id"],
                    token=number["system_token"],
                )
            ],
            connected_by=None,
        ).channels[0]
        for organization, number in zip(
            (world.org, world.other_org), meta.assets["whatsapp_numbers"], strict=True
        )
    )

    channel_disconnect(channel=mine, actor=None)
    assert mine.waba_id in meta.state.subscriptions

    channel_disconnect(channel=theirs, actor=None)
    assert mine.waba_id not in meta.state.subscriptions


def test_disconnecting_a_disconnected_channel_does_nothing(world):
    channel = make_channel(world.org, status=ChannelStatus.DISCONNECTED, token=None)

    assert channel_disconnect(channel=channel, actor=None) is None
    assert not AuditEvent.objects.filter(action=AuditAction.CHANNEL_DISCONNECTED).exists()


@pytest.mark.parametrize(
    ("kind", "fields", "flow"),
    [
        (ChannelKind.MESSENGER, {}, "facebook"),
        (ChannelKind.INSTAGRAM, {}, "facebook"),
        (ChannelKind.INSTAGRAM, {"uses_instagram_login": True}, "instagram"),
        (ChannelKind.WHATSAPP, {"meta_user_id": "5550001"}, "whatsapp"),
        (ChannelKind.WHATSAPP, {}, None),
    ],
)
def test_each_channel_is_reconnected_through_the_flow_that_connected_it(world, kind, fields, flow):
    channel = make_channel(world.org, kind=kind, **fields)

    assert oauth.reconnect_flow(channel) == flow


def test_a_disconnect_whose_audit_event_fails_leaves_the_channel_as_it_was(world, monkeypatch):
    channel = make_channel(world.org, token=None)

    def audit_fails(**kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(channels_service, "audit_record", audit_fails)
    with pytest.raises(RuntimeError):
        channel_disconnect(channel=channel, actor=None)
    with pytest.raises(RuntimeError):
        channels_service.channel_set_human_agent(
            channel=Channel.objects.get(pk=channel.pk), enabled=True, actor=world.owner.user
        )

    channel.refresh_from_db()
    assert (channel.status, channel.human_agent_enabled) == (ChannelStatus.ACTIVE, False)


def stored_session(client) -> str:
    """The browser session as the database keeps it, raw and decoded."""
    row = Session.objects.get(session_key=client.session.session_key)
    return row.session_data + json.dumps(row.get_decoded())


def sealed_pins(client) -> list[str]:
    states = client.session.get("meta_oauth_states", {})
    return [entry["sealed_pin"] for entry in states.values() if entry.get("sealed_pin")]


@pytest.mark.parametrize("ending", ["connected", "cancelled", "pin_refused", "left_the_org"])
def test_the_whatsapp_pin_is_stored_encrypted_and_gone_once_the_person_is_back(
    owner_client, world, meta, ending
):
    if ending == "pin_refused":
        for phone in meta.state.phone_numbers.values():
            phone.pin = "111111"
    dialog = start(owner_client, world.org, "whatsapp", pin="975312")

    assert "975312" not in stored_session(owner_client)
    assert len(sealed_pins(owner_client)) == 1
    back = through_dialog(meta, dialog, "cancel" if ending == "cancelled" else "allow")
    if ending == "left_the_org":
        world.owner.delete()
    owner_client.get(back)

    assert "975312" not in stored_session(owner_client)
    assert sealed_pins(owner_client) == []
    registered = {phone.pin for phone in meta.state.phone_numbers.values()}
    assert registered == ({"975312"} if ending == "connected" else registered - {"975312"})


def test_reconnecting_brings_back_the_same_channel(owner_client, world, meta):
    connect(owner_client, meta, world.org, "whatsapp")
    channel = Channel.objects.filter(kind=ChannelKind.WHATSAPP).first()
    Channel.objects.filter(pk=channel.pk).update(status=ChannelStatus.NEEDS_REAUTH)

    dialog = owner_client.post(reverse("channel_reconnect", args=[world.org.slug, channel.pk]))
    owner_client.get(through_dialog(meta, dialog["Location"]))

    channel.refresh_from_db()
    assert channel.status == ChannelStatus.ACTIVE
    assert Channel.objects.filter(kind=ChannelKind.WHATSAPP).count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.CHANNEL_RECONNECTED).exists()


def test_no_token_is_readable_in_a_database_dump_or_the_logs(owner_client, world, meta, caplog):
    caplog.set_level(logging.DEBUG)
    connect(owner_client, meta, world.org, "facebook")
    connect(owner_client, meta, world.org, "whatsapp")
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    page = owner_client.get(reverse("channels", args=[world.org.slug])).content.decode()

    tokens = list(meta.state.tokens)
    assert Channel.objects.count() == 5
    for token in tokens:
        assert token not in dump.getvalue()
        assert token not in caplog.text
        assert token not in page
    assert meta.state.app_secret not in caplog.text


def test_agents_see_channels_but_cannot_change_them(client, world, meta):
    channel = make_channel(world.org)
    client.force_login(world.agent.user)

    page = client.get(reverse("channels", args=[world.org.slug])).content.decode()
    refused = client.post(reverse("channel_disconnect", args=[world.org.slug, channel.pk]))

    assert channel.name in page
    assert "Connect a channel" not in page
    assert refused.status_code == 403


def test_a_state_for_an_organisation_the_person_left_is_404(owner_client, world, meta):
    back = through_dialog(meta, start(owner_client, world.org, "facebook"))
    world.owner.delete()

    assert owner_client.get(back).status_code == 404
    assert not Channel.objects.exists()


def test_human_agent_replies_can_be_switched_on(owner_client, world, meta):
    channel = make_channel(world.org, kind=ChannelKind.MESSENGER)

    owner_client.post(
        reverse("channel_settings", args=[world.org.slug, channel.pk]),
        {"human_agent_enabled": "on"},
    )

    channel.refresh_from_db()
    assert channel.human_agent_enabled
