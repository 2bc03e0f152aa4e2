"""A channel's problem is told once per page, in words: a channel that needs reconnecting
by the banner (no notice repeats it), or in place on the pages that show the channel's
state; a notice about a channel is left out where the page shows that channel."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from accounts.models import Notice
from channels_meta.connected import ConnectedAccount
from channels_meta.graph import errors
from channels_meta.models import ChannelKind, ChannelStatus, QualityRating
from channels_meta.services import health, tokens
from channels_meta.services.channels import channel_connect
from channels_meta.webhooks.events import PhoneQualityEvent, Route
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db
REASON = (
    "Meta ended the connection because the password of the account that connected this "
    "channel was changed."
)


def text(client, name: str, *args) -> str:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def refused(world, client):
    """A WhatsApp channel whose token Meta refused because the password changed, seen by
    its owner."""
    channel = make_channel(world.org, kind=ChannelKind.WHATSAPP, name="Kahve Evi")
    with pytest.raises(errors.TokenInvalid), tokens.token_refusal_handled(channel):
        raise errors.TokenInvalid("Error validating access token", code=190, subcode=460)
    client.force_login(world.owner.user)
    return channel


@pytest.mark.parametrize("page", ["members", "organization_settings", "audit_log"])
def test_a_channel_to_reconnect_is_told_once_by_the_banner_in_words(refused, world, client, page):
    shown = text(client, page, world.org.slug)

    assert shown.count("Kahve Evi (WhatsApp) has lost its connection to Meta.") == 1
    assert shown.count(REASON) == 1 + (page == "audit_log")  # the log records it too
    assert "Meta error" not in shown
    assert "460" not in shown
    assert not Notice.objects.for_org(world.org).exists()


def test_the_channels_page_tells_it_in_the_channels_row_and_not_in_a_banner(refused, world, client):
    shown = text(client, "channels", world.org.slug)

    assert shown.count(REASON) == 1
    assert "has lost its connection to Meta" not in shown
    assert "Needs reconnecting" in shown


def test_the_templates_page_of_a_channel_to_reconnect_offers_no_sync_to_fail(
    refused, world, client
):
    shown = text(client, "channel_templates", world.org.slug, refused.pk)

    assert shown.count(REASON) == 1
    assert "Sync now" not in shown


def test_reconnecting_forgets_the_reason(refused, world, client):
    account = ConnectedAccount(
        kind=refused.kind,
        external_id=refused.external_id,
        waba_id="2000001",
        name="Kahve Evi",
        token="EAAGnew0001",
    )
    channel_connect(organization=world.org, account=account, connected_by=world.owner.user)

    shown = text(client, "members", world.org.slug)

    refused.refresh_from_db()
    assert (refused.status, refused.reauth_reason) == (ChannelStatus.ACTIVE, "")
    assert REASON not in shown
    assert "has lost its connection" not in shown


def test_a_health_notice_is_left_out_where_the_channels_row_shows_it(world, client):
    channel = make_channel(
        world.org,
        kind=ChannelKind.WHATSAPP,
        name="Kahve Evi",
        handle="+90 555 000 0001",
        waba_id="2000001",
    )
    health.phone_quality_record(
        channel=channel,
        event=PhoneQualityEvent(
            route=Route(kind="whatsapp", external_id="2000001", by_waba=True),
            display_phone_number="905550000001",
            event="FLAGGED",
            current_limit="TIER_1K",
        ),
    )
    assert channel.notice_topic == Notice.objects.for_org(world.org).get().topic
    client.force_login(world.owner.user)

    on_channels = text(client, "channels", world.org.slug)
    on_members = text(client, "members", world.org.slug)

    assert "Meta flagged the quality of Kahve Evi as low" not in on_channels
    assert "Quality Low" in on_channels
    assert on_members.count("Meta flagged the quality of Kahve Evi as low") == 1
    assert QualityRating.RED.label == "Low"
