"""WhatsApp Embedded Signup (v4) through Meta's JavaScript SDK: the channels page loads
the SDK only when it is configured, and Padu's endpoint connects the number the business
chose in the popup only once Meta confirms it; the redirect flow stays for browsers
without JavaScript."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from channels_meta.models import Channel, ChannelKind
from tests.channels_meta.conftest import APP_ID
from tests.channels_meta.test_connect import connect
from tests.channels_meta.test_connect_trust import add_waba, seeded_waba

pytestmark = pytest.mark.django_db

PIN = "135790"


@pytest.fixture
def owner_client(client, world, meta):
    client.force_login(world.owner.user)
    return client


@pytest.fixture
def configured(settings):
    settings.META_WHATSAPP_CONFIG_ID = "778899"
    settings.META_JS_SDK_URL = "https://connect.facebook.net/en_US/sdk.js"


def popup(meta, *, choose: int = 0, decision: str = "allow") -> tuple[str, dict]:
    """Play the business in Meta's Embedded Signup popup (as the SDK opens it); returns
    the code FB.login hands the page and the session info the popup posts."""
    query = urlencode(
        {
            "client_id": APP_ID,
            "config_id": "778899",
            "response_type": "code",
            "override_default_response_type": "true",
            "extras": json.dumps({"setup": {}, "featureType": "", "sessionInfoVersion": "3"}),
            "display": "popup",
            "sdk": "joey",
        }
    )
    page = meta.http.get(f"/v25.0/dialog/oauth?{query}").text
    choices = re.findall(r'type="radio" name="asset" value="([^"]+)"', page)
    done = meta.http.post(
        "/dialog/confirm", data={"sdk": "joey", "decision": decision, "asset": choices[choose]}
    ).text
    session_text, answer_text = re.findall(r"postMessage\((.+?), '\*'\);", done)
    session = json.loads(json.loads(session_text))
    assert session["type"] == "WA_EMBEDDED_SIGNUP"
    auth = json.loads(answer_text)["sdk_auth"]["authResponse"] or {}
    return auth.get("code", ""), session


def finish(client, org, code: str, waba_id: str, phone_number_id: str, pin: str = PIN):
    return client.post(
        reverse("channel_whatsapp_signup", args=[org.slug]),
        {"code": code, "waba_id": waba_id, "phone_number_id": phone_number_id, "pin": pin},
        follow=True,
    )


def test_the_channels_page_loads_metas_sdk_only_when_embedded_signup_is_configured(
    owner_client, world, settings
):
    url = reverse("channels", args=[world.org.slug])
    settings.META_WHATSAPP_CONFIG_ID = ""
    plain = owner_client.get(url)
    settings.META_WHATSAPP_CONFIG_ID = "778899"
    configured = owner_client.get(url)

    assert "embedded_signup.js" not in plain.content.decode()
    assert "connect.facebook.net" not in plain["Content-Security-Policy"]
    page = configured.content.decode()
    assert "embedded_signup.js" in page
    assert 'data-config-id="778899"' in page
    assert "<script>" not in page
    policy = configured["Content-Security-Policy"]
    assert "script-src 'self' https://connect.facebook.net" in policy
    assert "frame-src https://www.facebook.com https://*.facebook.com" in policy
    assert configured["Cross-Origin-Opener-Policy"] == "same-origin-allow-popups"
    assert plain["Cross-Origin-Opener-Policy"] == "same-origin"


def test_agents_do_not_get_metas_sdk(client, world, configured):
    client.force_login(world.agent.user)

    response = client.get(reverse("channels", args=[world.org.slug]))

    assert "embedded_signup.js" not in response.content.decode()
    assert "connect.facebook.net" not in response["Content-Security-Policy"]


def test_the_chosen_number_is_connected_and_registered_and_no_other(
    owner_client, world, meta, configured
):
    code, session = popup(meta, choose=1)
    chosen = session["data"]

    response = finish(owner_client, world.org, code, chosen["waba_id"], chosen["phone_number_id"])

    channel = Channel.objects.get()
    assert (channel.kind, channel.external_id, channel.waba_id) == (
        ChannelKind.WHATSAPP,
        chosen["phone_number_id"],
        chosen["waba_id"],
    )
    assert "Connected:" in response.content.decode()
    pins = {phone.id: phone.pin for phone in meta.state.phone_numbers.values()}
    assert pins.pop(chosen["phone_number_id"]) == PIN
    assert set(pins.values()) == {""}
    assert chosen["waba_id"] in meta.state.subscriptions
    assert PIN not in response.content.decode()


def test_a_waba_the_signup_did_not_grant_is_refused(owner_client, world, meta, configured):
    other_waba, other_number = add_waba(meta, owned_by_owner=True)
    code, _ = popup(meta)

    response = finish(owner_client, world.org, code, other_waba, other_number)

    assert f"did not grant Padu the WhatsApp Business Account {other_waba}" in (
        response.content.decode()
    )
    assert not Channel.objects.exists()
    assert not meta.state.phone_numbers[other_number].pin
    assert other_waba not in meta.state.subscriptions


def test_a_number_of_another_waba_is_refused(owner_client, world, meta, configured):
    _, other_number = add_waba(meta, owned_by_owner=True)
    code, session = popup(meta)

    response = finish(owner_client, world.org, code, session["data"]["waba_id"], other_number)

    assert "does not list the number" in response.content.decode()
    assert not Channel.objects.exists()
    assert not meta.state.phone_numbers[other_number].pin


@pytest.mark.parametrize(
    ("waba_id", "phone_number_id"),
    [("../me", "1"), ("1", "https://example.com/x"), ("", "1"), ("1", "")],
)
def test_ids_that_are_not_metas_are_refused_before_meta_is_asked(
    owner_client, world, meta, configured, waba_id, phone_number_id
):
    code, _ = popup(meta)

    finish(owner_client, world.org, code, waba_id, phone_number_id)

    assert not Channel.objects.exists()
    assert not any(grant.get("used") for grant in meta.state.codes.values())


def test_a_refused_pin_connects_nothing_and_says_why(owner_client, world, meta, configured):
    code, session = popup(meta)
    meta.state.phone_numbers[session["data"]["phone_number_id"]].pin = "111111"

    response = finish(
        owner_client,
        world.org,
        code,
        session["data"]["waba_id"],
        session["data"]["phone_number_id"],
    )

    assert "The two-step verification PIN is not the one set for this number." in (
        response.content.decode()
    )
    assert "Meta error" not in response.content.decode()
    assert not Channel.objects.exists()


def test_a_code_is_exchanged_once(owner_client, world, meta, configured):
    code, session = popup(meta)
    ids = (session["data"]["waba_id"], session["data"]["phone_number_id"])
    finish(owner_client, world.org, code, *ids)
    Channel.objects.all().delete()

    replay = finish(owner_client, world.org, code, *ids)

    assert "This sign-in at Meta was already used: connect again." in replay.content.decode()
    assert not Channel.objects.exists()


def test_in_the_redirect_flow_a_number_meta_refuses_does_not_lose_the_others(
    owner_client, world, meta
):
    refused = meta.assets["whatsapp_numbers"][0]
    meta.state.phone_numbers[refused["id"]].pin = "111111"

    response = connect(owner_client, meta, world.org, "whatsapp")

    connected = set(Channel.objects.values_list("external_id", flat=True))
    numbers = {number["id"] for number in meta.assets["whatsapp_numbers"]}
    assert connected == numbers - {refused["id"]}
    page = response.content.decode()
    assert "Connected:" in page
    assert "The two-step verification PIN is not the one set for this number." in page
    assert seeded_waba(meta) in meta.state.subscriptions
