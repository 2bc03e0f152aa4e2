"""What cannot be undone asks first, the same way everywhere: the page offers a link, the
link's page (GET) says what will happen and changes nothing, and its button (POST to the
same address) does it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.urls import reverse

from accounts.models import Invitation, Membership
from accounts.services import invitation_create
from channels_meta.models import Channel, ChannelStatus
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Action:
    url_name: str
    page: str  # where the action is offered
    question: str
    button: str
    consequence: str


ACTIONS = {
    "disconnect": Action(
        "channel_disconnect",
        "channels",
        "Disconnect Kahve Evi (WhatsApp)?",
        "Disconnect Kahve Evi",
        "Padu forgets its access token",
    ),
    "remove": Action(
        "member_remove",
        "members",
        "Remove Agent from Acme Coffee?",
        "Remove Agent",
        "agent@acme.example can no longer open this organisation",
    ),
    "withdraw": Action(
        "invitation_revoke",
        "members",
        "Withdraw the invitation to new@acme.example?",
        "Withdraw the invitation",
        "The link in their e-mail stops working at once.",
    ),
    "leave": Action(
        "organization_leave",
        "organization_settings",
        "Leave Acme Coffee?",
        "Leave Acme Coffee",
        "To come back, someone must invite you again.",
    ),
}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


@pytest.fixture
def urls(world) -> dict[str, str]:
    channel = make_channel(world.org, name="Kahve Evi")
    invitation = invitation_create(actor=world.owner, email="new@acme.example", role="agent")
    slug = world.org.slug
    return {
        "disconnect": reverse("channel_disconnect", args=[slug, channel.pk]),
        "remove": reverse("member_remove", args=[slug, world.agent.pk]),
        "withdraw": reverse("invitation_revoke", args=[slug, invitation.pk]),
        "leave": reverse("organization_leave", args=[slug]),
    }


def nothing_happened(world) -> bool:
    return (
        Channel.objects.for_org(world.org).get().status == ChannelStatus.ACTIVE
        and Membership.objects.for_org(world.org).count() == 2
        and Invitation.objects.for_org(world.org).pending().count() == 1
    )


@pytest.mark.parametrize("name", ACTIONS)
def test_the_page_offers_a_link_to_a_question_not_a_button_that_acts(client, world, urls, name):
    action = ACTIONS[name]
    client.force_login(world.owner.user)

    page = client.get(reverse(action.page, args=[world.org.slug])).content.decode()

    assert f'href="{urls[name]}"' in page
    assert f'action="{urls[name]}"' not in page


@pytest.mark.parametrize("name", ACTIONS)
def test_the_question_says_what_will_happen_and_changes_nothing(client, world, urls, name):
    action = ACTIONS[name]
    client.force_login(world.owner.user)

    response = client.get(urls[name])

    page = response.content.decode()
    assert response.status_code == 200
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", heading) == action.question
    assert action.consequence in text(page)
    form = re.search(r'<form method="post" class="actions">(.*?)</form>', page, re.S).group(1)
    assert f'<button type="submit" class="danger">{action.button}</button>' in form
    assert "Cancel" in form
    assert nothing_happened(world)


@pytest.mark.parametrize("name", ["disconnect", "remove", "withdraw"])
def test_answering_yes_does_it(client, world, urls, name):
    client.force_login(world.owner.user)

    response = client.post(urls[name])

    assert response.status_code == 302
    assert not nothing_happened(world)


def test_leaving_after_the_question_leaves(client, world, urls):
    client.force_login(world.agent.user)

    client.post(urls["leave"])

    assert not Membership.objects.filter(pk=world.agent.pk).exists()


def test_agents_get_no_question_about_what_they_may_not_do(client, world, urls):
    client.force_login(world.agent.user)

    codes = {name: client.get(urls[name]).status_code for name in ("disconnect", "remove")}

    assert codes == {"disconnect": 403, "remove": 403}


def test_a_channel_already_disconnected_asks_nothing(client, world, urls):
    Channel.objects.for_org(world.org).update(status=ChannelStatus.DISCONNECTED)
    client.force_login(world.owner.user)

    response = client.get(urls["disconnect"])

    assert response["Location"] == reverse("channels", args=[world.org.slug])
