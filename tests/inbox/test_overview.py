"""The organisation's overview: open conversations by channel, who is waiting longest,
the channels someone must see to, and the first step for a new organisation."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notice
from channels_meta.models import AccountStatus, ChannelKind, ChannelStatus, QualityRating
from inbox.models import ConversationStatus
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation

pytestmark = pytest.mark.django_db


def text(html: str) -> str:
    """The page as a person reads it: tags gone, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def section(html: str, heading: str) -> str:
    """The text of the page's section under `heading` (up to the next section)."""
    page = text(html)
    assert heading in page, heading
    return page.split(heading, 1)[1].split(" Team ", 1)[0]


def overview(client, membership) -> str:
    client.force_login(membership.user)
    response = client.get(reverse("organization_home", args=[membership.organization.slug]))
    assert response.status_code == 200
    return response.content.decode()


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def test_open_conversations_are_counted_per_channel_with_its_kind(client, world):
    whatsapp = make_channel(world.org, name="Kahve Evi", external_id="101")
    messenger = make_channel(
        world.org, kind=ChannelKind.MESSENGER, name="Kahve Evi Page", external_id="102"
    )
    make_conversation(whatsapp, assignee=world.agent.user)
    make_conversation(whatsapp)
    make_conversation(messenger)
    make_conversation(messenger, status=ConversationStatus.RESOLVED)
    make_conversation(make_channel(world.other_org, external_id="900"))

    page = section(overview(client, world.agent), "Open conversations")

    assert "3 open conversations 2 unassigned" in page
    assert "Kahve Evi Page Facebook Page (Messenger) 1 1" in page
    assert "Kahve Evi WhatsApp 2 1" in page


def test_the_customers_waiting_longest_come_first_and_answered_ones_are_left_out(client, world):
    channel = make_channel(world.org, name="Kahve Evi")
    make_conversation(channel, name="Two Hours", last_inbound_at=ago(hours=2))
    make_conversation(channel, name="Three Days", last_inbound_at=ago(days=3, minutes=1))
    answered = make_conversation(channel, name="Answered", last_inbound_at=ago(days=5))
    answered.last_message_at = ago(days=4)
    answered.save(update_fields=["last_message_at"])
    make_conversation(
        channel, name="Resolved", last_inbound_at=ago(days=6), status=ConversationStatus.RESOLVED
    )
    for number in range(4):
        make_conversation(channel, name=f"Recent {number}", last_inbound_at=ago(minutes=number))

    page = section(overview(client, world.owner), "Waiting longest for a reply")

    names = re.findall(r"(Three Days|Two Hours|Recent \d|Answered|Resolved)", page)
    assert names == ["Three Days", "Two Hours", "Recent 3", "Recent 2", "Recent 1"]
    assert "Three Days Kahve Evi · WhatsApp waiting for 3 days" in page


def test_no_waiting_customer_is_said_in_words(client, world):
    make_channel(world.org)

    assert "No customer is waiting for a reply." in text(overview(client, world.owner))


def test_a_new_organisation_is_sent_to_connect_a_channel_first(client, world):
    html = overview(client, world.owner)

    assert "First step: connect a channel" in text(html)
    assert f'<a class="button" href="{reverse("channels", args=[world.org.slug])}">' in html
    assert "Open conversations" not in text(html)


def test_an_agent_of_a_new_organisation_is_told_who_can_connect_one(client, world):
    page = text(overview(client, world.agent))

    assert "Only owners and admins can connect channels. Ask one of them:" in page
    assert "Owner Owner · owner@acme.example" in page
    assert "Connect a channel" not in page.replace("First step: connect a channel", "")


def test_only_disconnected_channels_still_ask_for_a_first_step(client, world):
    make_channel(world.org, status=ChannelStatus.DISCONNECTED)

    assert "First step: connect a channel" in text(overview(client, world.owner))


def test_channels_needing_attention_say_why_in_words(client, world):
    make_channel(
        world.org,
        name="Kahve Evi Page",
        kind=ChannelKind.MESSENGER,
        external_id="101",
        status=ChannelStatus.NEEDS_REAUTH,
        reauth_reason="password_changed",
    )
    make_channel(
        world.org,
        name="Kahve Evi",
        external_id="102",
        account_status=AccountStatus.RESTRICTED,
        quality_rating=QualityRating.RED,
    )
    make_channel(world.org, name="All Well", external_id="103")

    page = section(overview(client, world.agent), "Channels needing attention")

    assert (
        "Kahve Evi Page Facebook Page (Messenger) Meta ended the connection because the "
        "password of the account that connected this channel was changed. Replies cannot be "
        "sent until it is reconnected."
    ) in page
    assert "Kahve Evi WhatsApp Meta restricted the WhatsApp Business Account." in page
    assert "Meta rates the number's quality low" in page
    assert "All Well" not in page.split("Open conversations")[0]
    assert "Owners and admins can see to them on the Channels page." in page


def test_a_channel_problem_shown_in_place_is_not_repeated_by_the_banner_or_a_notice(client, world):
    channel = make_channel(
        world.org, status=ChannelStatus.NEEDS_REAUTH, reauth_reason="token_expired"
    )
    flagged = make_channel(world.org, external_id="102", quality_rating=QualityRating.RED)
    Notice.objects.create(
        organization=world.org, message="Meta flagged the quality.", topic=flagged.notice_topic
    )
    Notice.objects.create(organization=world.org, message="A template was approved.")

    page = text(overview(client, world.owner))

    assert page.count("The access Meta gave Padu for this channel has expired.") == 1
    assert "has lost its connection to Meta" not in page
    assert "Meta flagged the quality." not in page
    assert "A template was approved." in page
    assert channel.notice_topic != flagged.notice_topic


def _queries(client, url: str) -> int:
    client.get(url)  # The first visit also records the organisation in the session.
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries)


def test_the_overview_makes_the_same_queries_however_much_there_is(
    client, world, django_assert_num_queries
):
    client.force_login(world.owner.user)
    url = reverse("organization_home", args=[world.org.slug])
    make_conversation(make_channel(world.org, external_id="100"))
    few = _queries(client, url)

    for number in range(6):
        channel = make_channel(
            world.org,
            kind=[ChannelKind.WHATSAPP, ChannelKind.MESSENGER, ChannelKind.INSTAGRAM][number % 3],
            external_id=str(200 + number),
            status=ChannelStatus.NEEDS_REAUTH if number % 2 else ChannelStatus.ACTIVE,
        )
        for minutes in range(3):
            make_conversation(channel, last_inbound_at=ago(minutes=minutes + number * 10))

    with django_assert_num_queries(few):
        response = client.get(url)
    assert text(response.content.decode()).count("waiting for") == 5
