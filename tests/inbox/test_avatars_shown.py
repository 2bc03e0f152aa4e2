"""Customers' pictures in the inbox: shown instead of the initials in the list, the
conversation's header and the contact panel, without a query more per row; served with
headers that keep them private and inert, to the organisation's members only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inbox.models import Contact
from tests.inbox.factories import give_avatar, make_conversation, make_message

pytestmark = pytest.mark.django_db


def avatar_url(contact: Contact, slug: str = "acme") -> str:
    """The picture's address as pages give it: versioned, so browsers may keep it."""
    return reverse("contact_avatar", args=[slug, contact.pk]) + f"?v={contact.avatar_version}"


def list_row(client, world, contact: Contact) -> str:
    """The list's row of the contact's conversation, as a member sees it."""
    page = client.get(reverse("inbox", args=[world.org.slug])).content.decode()
    rows = [row for row in page.split('<li class="row') if contact.display_name in row]
    assert len(rows) == 1
    return rows[0]


def test_members_get_the_picture_with_headers_that_keep_it_private_and_inert(
    client, world, channels
):
    contact = give_avatar(make_conversation(channels["instagram"]).contact)
    client.force_login(world.agent.user)

    response = client.get(avatar_url(contact))

    assert response.status_code == 200
    with contact.avatar.open("rb") as kept:
        assert b"".join(response.streaming_content) == kept.read()
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'inline; filename="avatar.jpg"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    # The member's browser may keep it for an hour; no shared cache may.
    assert set(response["Cache-Control"].replace(" ", "").split(",")) == {"private", "max-age=3600"}


def test_the_picture_shows_in_the_conversation_header_and_the_contact_panel(
    client, world, channels
):
    conversation = make_conversation(channels["messenger"], name="Zeynep Kaya")
    make_message(conversation)
    give_avatar(conversation.contact)
    client.force_login(world.agent.user)

    page = client.get(reverse("conversation", args=[world.org.slug, conversation.pk]))

    html = page.content.decode()
    start = html.index('id="conversation-head"')
    head = html[start : html.index("</header>", start)]
    panel = html[html.index('id="contact-pane"') :]
    image = f'<img src="{avatar_url(conversation.contact)}" alt=""'
    assert image in head
    assert f'{image} width="64" height="64" loading="lazy"' in panel
    assert ">ZK<" not in html


def test_a_contact_without_a_picture_shows_initials_and_has_no_picture_to_serve(
    client, world, channels
):
    conversation = make_conversation(channels["whatsapp"], name="Mehmet Demir")
    make_message(conversation)
    client.force_login(world.owner.user)

    row = list_row(client, world, conversation.contact)

    assert ">MD</span>" in row
    assert "<img" not in row
    assert client.get(avatar_url(conversation.contact)).status_code == 404


def test_the_list_takes_the_same_queries_with_pictures_as_without(client, world, channels):
    client.force_login(world.agent.user)
    url = reverse("inbox", args=[world.org.slug])
    for number in range(3):
        make_message(make_conversation(channels["messenger"], name=f"Plain {number}"))
    client.get(url)  # the first visit also saves the session
    with CaptureQueriesContext(connection) as without:
        client.get(url)
    for number in range(20):
        conversation = make_conversation(channels["instagram"], name=f"Pictured {number}")
        make_message(conversation)
        give_avatar(conversation.contact)

    with CaptureQueriesContext(connection) as with_pictures:
        page = client.get(url)

    assert page.content.decode().count('alt="" width="40"') == 20
    assert len(with_pictures) == len(without)


def test_another_organisations_member_gets_404(client, world, channels):
    contact = give_avatar(make_conversation(channels["messenger"]).contact)
    client.force_login(world.outsider.user)

    assert client.get(avatar_url(contact)).status_code == 404
    assert client.get(avatar_url(contact, slug="other")).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, world, channels):
    contact = give_avatar(make_conversation(channels["messenger"]).contact)

    response = client.get(avatar_url(contact))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_new_picture_gets_a_new_address_so_no_browser_keeps_showing_the_old_one(
    client, world, channels
):
    contact = give_avatar(make_conversation(channels["instagram"]).contact, colour="orange")
    make_message(contact.conversations.get())
    client.force_login(world.agent.user)
    before = avatar_url(contact)
    assert before in list_row(client, world, contact)

    give_avatar(contact, colour="teal")

    row = list_row(client, world, contact)
    assert avatar_url(contact) in row
    assert before not in row
