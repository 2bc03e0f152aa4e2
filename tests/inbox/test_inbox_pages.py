"""The inbox's list and conversation pages as members see them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels_meta.models import ChannelKind
from inbox.models import Conversation, ConversationKind, Direction, Label, Note
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import give_avatar, make_attachment, make_conversation, make_message


@pytest.fixture
def whatsapp(world):
    return make_channel(
        world.org, kind=ChannelKind.WHATSAPP, external_id="106540352242922", name="Kahve Evi"
    )


def test_the_list_shows_each_conversation_with_its_window_and_preview(client, world, whatsapp):
    conversation = make_conversation(
        whatsapp, name="Ayşe Yılmaz", last_inbound_at=timezone.now() - timedelta(hours=6)
    )
    make_message(conversation, text="Is the shop open today?")
    client.force_login(world.agent.user)

    page = client.get(reverse("inbox", args=[world.org.slug]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Ayşe Yılmaz" in html
    assert "Is the shop open today?" in html
    assert "17 h left" in html
    assert reverse("conversation", args=[world.org.slug, conversation.pk]) in html


def test_a_conversation_page_shows_messages_and_the_composer(client, world, whatsapp):
    conversation = make_conversation(whatsapp)
    make_message(conversation, text="Merhaba!")
    make_message(
        conversation,
        text="Hello, how can we help?",
        direction=Direction.OUTBOUND,
        author=world.agent.user,
    )
    client.force_login(world.agent.user)

    page = client.get(reverse("conversation", args=[world.org.slug, conversation.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Merhaba!" in html
    assert "Hello, how can we help?" in html
    assert 'name="text"' in html


@pytest.mark.parametrize(
    ("latest", "shown"),
    [
        ({"text": "Is the shop open?"}, "Is the shop open?"),
        ({"text": "We open at nine.", "direction": Direction.OUTBOUND, "author": "agent"},
         "Ece:</span> We open at nine."),
        ({"text": "Sent from the phone", "direction": Direction.OUTBOUND}, "You:</span> Sent"),
        ({"text": "Oops", "is_deleted": True}, "<em>Deleted message</em>"),
        ({"text": "", "attachments": [{"type": "image", "url": "https://x.test/i"}]},
         "<em>image</em>"),
        ({"text": "x" * 200}, "x" * 89 + "…"),
    ],
)  # fmt: skip
def test_each_row_previews_the_latest_message(client, world, whatsapp, latest, shown):
    world.agent.user.full_name = "Ece Kaya"
    world.agent.user.save()
    conversation = make_conversation(whatsapp)
    make_message(conversation, text="An older message", at=timezone.now() - timedelta(hours=1))
    if latest.get("author") == "agent":
        latest = {**latest, "author": world.agent.user}
    make_message(conversation, at=timezone.now(), **latest)
    client.force_login(world.agent.user)

    html = client.get(reverse("inbox", args=[world.org.slug])).content.decode()

    preview = html.split('class="preview"')[1].split("</span>\n")[0]
    assert shown in preview
    assert "An older message" not in html


def test_messages_of_the_same_second_show_in_the_order_they_arrived(client, world, whatsapp):
    conversation = make_conversation(whatsapp)
    second = timezone.now().replace(microsecond=0)  # WhatsApp's timestamps are in seconds
    for text in ("first line", "second line", "third line"):
        make_message(conversation, text=text, at=second)
    client.force_login(world.agent.user)

    html = client.get(reverse("conversation", args=[world.org.slug, conversation.pk])).content

    assert re.findall(rb"(\w+) line</p>", html) == [b"first", b"second", b"third"]


def test_a_reply_quotes_the_message_it_answers(client, world, whatsapp):
    conversation = make_conversation(whatsapp)
    other = make_conversation(whatsapp)
    asked = make_message(conversation, text="Do you have oat milk?", external_id="wamid.asked")
    photo = make_message(
        conversation,
        text="",
        external_id="wamid.photo",
        attachments=[{"type": "image", "url": "https://x.test/i"}],
    )
    elsewhere = make_message(other, text="Asked somewhere else", external_id="wamid.elsewhere")
    for answered in (asked, photo, elsewhere):
        make_message(conversation, text="Yes", reply_to_external_id=answered.external_id)
    make_message(conversation, text="Unknown", reply_to_external_id="wamid.never-stored")
    client.force_login(world.agent.user)

    html = client.get(reverse("conversation", args=[world.org.slug, conversation.pk])).content
    quotes = re.findall(r'<blockquote class="quote"[^>]*>(.*?)</blockquote>', html.decode())

    assert quotes == [
        "Do you have oat milk?",
        "image",
        "A message not shown here",
        "A message not shown here",
    ]


def _conversations(channel, count):
    for number in range(count):
        conversation = make_conversation(channel, name=f"Customer {number}")
        if number % 2:
            give_avatar(conversation.contact)
        make_message(conversation, text=f"Question {number}")
        make_message(conversation, text="Answer", direction=Direction.OUTBOUND)
        conversation.labels.add(
            Label.objects.get_or_create(organization=channel.organization, name="VIP")[0]
        )


def _queries(client, url) -> int:
    client.get(url)  # the first visit also saves the session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_reloaded_beside_a_conversation_still_marks_its_row(client, world, whatsapp):
    opened = make_conversation(whatsapp, name="Ayşe Yılmaz")
    make_conversation(whatsapp, name="Mehmet Demir")
    client.force_login(world.agent.user)

    pane = client.get(reverse("conversation", args=[world.org.slug, opened.pk]), {"pane": "list"})

    current = [row for row in pane.content.decode().split("<li") if 'aria-current="true"' in row]
    assert len(current) == 1
    assert "Ayşe Yılmaz" in current[0]


def test_the_list_takes_the_same_few_queries_whatever_its_size(client, world, whatsapp):
    client.force_login(world.agent.user)
    url = reverse("inbox", args=[world.org.slug])
    _conversations(whatsapp, 2)
    few = _queries(client, url)
    _conversations(whatsapp, 30)

    assert _queries(client, url) == few <= 10


def test_a_conversation_takes_the_same_few_queries_whatever_its_length(client, world, whatsapp):
    client.force_login(world.agent.user)
    _conversations(whatsapp, 5)
    conversation = make_conversation(whatsapp)
    for name in ("Order", "Refund", "Urgent"):
        conversation.labels.add(Label.objects.create(organization=world.org, name=name))
    url = reverse("conversation", args=[world.org.slug, conversation.pk])
    make_message(conversation, text="First")
    short = _queries(client, url)
    for number in range(60):
        make_message(conversation, text=f"Message {number}", reply_to_external_id="mid.1")

    # The person, the memberships; the conversation, its messages (with what they quote);
    # the number's templates; channels, members and labels for the filters and actions;
    # the list's rows (with their labels) and tab counts; the saved replies; the access
    # log's line.
    assert _queries(client, url) == short == 12


def test_a_conversation_opened_from_the_list_takes_a_few_queries(client, world, whatsapp):
    client.force_login(world.agent.user)
    _conversations(whatsapp, 5)
    conversation = make_conversation(whatsapp)
    conversation.labels.add(Label.objects.get(organization=world.org, name="VIP"))
    for number in range(40):
        make_message(conversation, text=f"Message {number}")
    url = reverse("conversation", args=[world.org.slug, conversation.pk]) + "?pane=conversation"

    # The person, the memberships; the conversation, its messages; the number's approved
    # templates; members and labels (with whether it has each) for the actions; the saved
    # replies; the access log's line. Notes and the customer's earlier conversations are
    # read only when there are some.
    assert _queries(client, url) == 9
    Note.objects.create(organization=world.org, conversation=conversation, text="Hi")
    Conversation.objects.create(
        organization=world.org,
        channel=whatsapp,
        contact=conversation.contact,
        kind=ConversationKind.COMMENT,
        comment_id="17900000000000001",
        last_message_at=timezone.now(),
    )
    assert _queries(client, url) == 11


def test_a_conversation_refreshed_by_live_takes_few_queries(client, world, whatsapp):
    client.force_login(world.agent.user)
    conversation = make_conversation(whatsapp)
    for number in range(60):
        make_message(conversation, text=f"Message {number}", reply_to_external_id="mid.1")
    url = reverse("conversation", args=[world.org.slug, conversation.pk]) + "?pane=timeline"

    assert _queries(client, url) <= 8  # the person, the membership, the page's rows


def test_stored_files_show_inline_and_documents_as_links(client, world, whatsapp):
    conversation = make_conversation(whatsapp)
    photo = make_message(conversation, text="", attachments=[{"type": "image"}])
    image = make_attachment(photo)
    letter = make_message(conversation, text="", attachments=[{"type": "document"}])
    document = make_attachment(
        letter, kind="document", mime_type="application/pdf", file_name="invoice.pdf"
    )
    waiting = make_message(conversation, text="", attachments=[{"type": "video"}])
    make_attachment(waiting, kind="video", status="pending")
    client.force_login(world.agent.user)

    html = client.get(reverse("conversation", args=[world.org.slug, conversation.pk])).content
    html = html.decode()

    assert reverse("attachment_thumbnail", args=[world.org.slug, image.pk]) in html
    assert reverse("attachment", args=[world.org.slug, document.pk]) in html
    assert "invoice.pdf" in html
    assert "fetching the file" in html


def test_the_contact_panel_ticks_the_labels_the_conversation_has(client, world, whatsapp):
    conversation = make_conversation(whatsapp)
    vip = Label.objects.create(organization=world.org, name="VIP")
    refund = Label.objects.create(organization=world.org, name="Refund")
    Label.objects.create(organization=world.other_org, name="Elsewhere")
    conversation.labels.add(vip)
    client.force_login(world.agent.user)

    html = client.get(reverse("conversation", args=[world.org.slug, conversation.pk])).content
    html = html.decode()

    assert f'value="{vip.pk}" checked>' in html
    assert f'value="{refund.pk}" >' in html
    assert "Elsewhere" not in html
