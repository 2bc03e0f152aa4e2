from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from channels_meta.models import Channel, ChannelKind
from tests.otp import sign_in_staff

pytestmark = pytest.mark.django_db


def connect_channel(kind: str, account: dict, *extra: str) -> str:
    out = StringIO()
    waba = ["--waba-id", account["waba_id"]] if "waba_id" in account else []
    token = account.get("token", account.get("system_token"))
    call_command(
        "connect_channel",
        "--org",
        "acme",
        "--kind",
        kind,
        "--external-id",
        account["id"],
        *waba,
        "--token",
        token,
        *extra,
        stdout=out,
    )
    return out.getvalue()


def test_connect_channel_checks_the_token_and_saves_the_channel(world, meta):
    number = meta.assets["whatsapp_numbers"][1]

    output = connect_channel("whatsapp", number, "--name", "Shop")

    channel = Channel.objects.get()
    assert (channel.organization, channel.name, channel.kind) == (world.org, "Shop", "whatsapp")
    assert channel.get_token() == number["system_token"]
    assert number["system_token"] not in output
    assert number["waba_id"] in meta.state.subscriptions


def test_connect_channel_works_for_a_page_too(world, meta):
    connect_channel("messenger", meta.assets["pages"][1])

    assert Channel.objects.get().kind == ChannelKind.MESSENGER


def test_connect_channel_refuses_a_bad_token_and_saves_nothing(world, meta):
    number = {**meta.assets["whatsapp_numbers"][0], "token": "EAAGbadbadbadbadbadbadbadbad00"}

    with pytest.raises(CommandError, match="Meta did not accept this token"):
        connect_channel("whatsapp", number)
    assert not Channel.objects.exists()


def test_the_admin_shows_whether_a_token_is_set_never_the_token(client, world, meta):
    page = meta.assets["pages"][0]
    connect_channel("messenger", page)
    channel = Channel.objects.get()
    sign_in_staff(client)

    listing = client.get(reverse("admin:channels_meta_channel_changelist")).content.decode()
    detail = client.get(
        reverse("admin:channels_meta_channel_change", args=[channel.pk])
    ).content.decode()

    assert "set, does not expire" in listing
    for html in (listing, detail):
        assert page["system_token"] not in html
        assert channel.token_ciphertext not in html
