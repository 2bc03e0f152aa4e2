"""What staff do to a conversation besides answering it — assign, status and snooze,
labels, read and unread, notes that tell mentioned members, the team's own contact
fields — through the services and through the conversation's forms, which work without
JavaScript and, with htmx, answer with the conversation pane."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization
from channels_meta.models import ChannelKind, MessageTemplate
from inbox import tasks
from inbox.models import Conversation, Direction, Label, Message, MessageStatus, Note
from inbox.services import conversations
from inbox.services.conversations import ConversationRuleError
from tests.channels_meta.factories import make_channel
from tests.conftest import make_member, make_user
from tests.inbox.factories import make_conversation, make_message


@pytest.fixture
def conversation(world) -> Conversation:
    channel = make_channel(world.org, kind=ChannelKind.WHATSAPP, external_id="1065403522429")
    return make_conversation(channel, name="Ayşe Yılmaz", customer="905550001122")


def label(organization: Organization, name: str) -> Label:
    return Label.objects.create(organization=organization, name=name)


def refreshed(conversation: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)


# Assigning.


def test_a_conversation_goes_to_a_member_or_to_nobody(world, conversation):
    conversations.conversation_assign(
        membership=world.owner, conversation=conversation, assignee=world.agent.user
    )
    assert refreshed(conversation).assignee == world.agent.user

    conversations.conversation_assign(
        membership=world.owner, conversation=conversation, assignee=None
    )
    assert refreshed(conversation).assignee is None


@pytest.mark.parametrize("who", ["another organisation's member", "a user of no organisation"])
def test_a_conversation_never_goes_to_someone_outside_the_organisation(world, conversation, who):
    stranger = world.outsider.user if who.startswith("another") else make_user("nobody@example.com")
    conversation.assignee = world.agent.user
    conversation.save(update_fields=["assignee"])

    with pytest.raises(ConversationRuleError, match="only go to members"):
        conversations.conversation_assign(
            membership=world.owner, conversation=conversation, assignee=stranger
        )

    assert refreshed(conversation).assignee == world.agent.user


# Status and snoozing.


@pytest.mark.parametrize("status", ["open", "pending", "resolved"])
def test_a_status_change_ends_any_snooze(world, conversation, status):
    conversation.status, conversation.snoozed_until = "snoozed", timezone.now() + timedelta(days=1)
    conversation.save(update_fields=["status", "snoozed_until"])

    conversations.conversation_status_set(
        membership=world.agent, conversation=conversation, status=status
    )

    assert (refreshed(conversation).status, refreshed(conversation).snoozed_until) == (status, None)


def test_a_conversation_snoozes_until_a_later_time(world, conversation):
    until = timezone.now() + timedelta(hours=3)

    conversations.conversation_status_set(
        membership=world.agent, conversation=conversation, status="snoozed", snoozed_until=until
    )

    assert (refreshed(conversation).status, refreshed(conversation).snoozed_until) == (
        "snoozed",
        until,
    )


@pytest.mark.parametrize(
    ("status", "until", "reason"),
    [
        ("snoozed", timedelta(minutes=-1), "Snooze until a time in the future."),
        ("snoozed", None, "Snooze until a time in the future."),
        ("closed", None, "That is not a conversation status."),
    ],
    ids=["past", "no time", "unknown status"],
)
def test_an_impossible_status_is_refused(world, conversation, status, until, reason):
    snoozed_until = timezone.now() + until if until is not None else None

    with pytest.raises(ConversationRuleError, match=re.escape(reason)):
        conversations.conversation_status_set(
            membership=world.agent,
            conversation=conversation,
            status=status,
            snoozed_until=snoozed_until,
        )

    assert refreshed(conversation).status == "open"


def test_snoozed_conversations_reopen_when_their_time_comes(world, conversation, celery_eager):
    now = timezone.now()
    later = make_conversation(conversation.channel, name="Later")
    resolved = make_conversation(conversation.channel, name="Resolved", status="resolved")
    Conversation.objects.filter(pk=conversation.pk).update(
        status="snoozed", snoozed_until=now - timedelta(minutes=1)
    )
    Conversation.objects.filter(pk=later.pk).update(
        status="snoozed", snoozed_until=now + timedelta(hours=1)
    )

    assert tasks.conversations_unsnooze.delay().get() == 1

    assert (refreshed(conversation).status, refreshed(conversation).snoozed_until) == ("open", None)
    assert refreshed(later).status == "snoozed"
    assert refreshed(resolved).status == "resolved"


# Labels.


def test_labels_are_set_to_exactly_those_chosen(world, conversation):
    vip, wholesale, complaint = (label(world.org, n) for n in ("VIP", "Wholesale", "Complaint"))
    conversation.labels.set([complaint])

    conversations.conversation_labels_set(
        membership=world.agent, conversation=conversation, labels=[vip, wholesale]
    )

    assert set(conversation.labels.all()) == {vip, wholesale}


def test_another_organisations_label_is_refused(world, conversation):
    vip, foreign = label(world.org, "VIP"), label(world.other_org, "VIP")
    conversation.labels.set([vip])

    with pytest.raises(ConversationRuleError, match="organisation's own labels"):
        conversations.conversation_labels_set(
            membership=world.agent, conversation=conversation, labels=[foreign]
        )

    assert list(conversation.labels.all()) == [vip]


# Read and unread.


def test_mark_unread_shows_the_conversation_unread_once(world, conversation):
    for _ in range(2):
        conversations.conversation_mark_unread(membership=world.agent, conversation=conversation)

    assert refreshed(conversation).unread_count == 1


def test_opening_a_conversation_marks_it_read_and_the_list_does_not(client, world, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=3)
    client.force_login(world.agent.user)

    client.get(reverse("inbox", args=[world.org.slug]))
    assert refreshed(conversation).unread_count == 3

    client.get(reverse("conversation", args=[world.org.slug, conversation.pk]))
    assert refreshed(conversation).unread_count == 0


def test_marking_unread_leaves_for_the_list_so_the_conversation_stays_unread(
    client, world, conversation
):
    client.force_login(world.agent.user)
    url = reverse("conversation_unread", args=[world.org.slug, conversation.pk])

    plain = client.post(url)
    htmx = client.post(url, headers={"HX-Request": "true"})

    inbox = reverse("inbox", args=[world.org.slug])
    assert (plain.status_code, plain["Location"]) == (302, inbox)
    # htmx would follow a redirect inside the pane: it is told to load the list instead.
    assert (htmx.status_code, htmx["HX-Redirect"]) == (200, inbox)
    assert refreshed(conversation).unread_count == 1


# Notes and mentions.


@pytest.fixture
def colleague(world):
    return make_member(world.org, "ayse.kaya@acme.example")  # first name "Ayse.Kaya"


@pytest.mark.parametrize(
    ("text", "told"),
    [
        ("@agent can you call her back?", ["agent@acme.example"]),
        ("Can you call her back, @agent.", ["agent@acme.example"]),
        (
            "(@ayse.kaya) and @Agent: her order is late",
            ["agent@acme.example", "ayse.kaya@acme.example"],
        ),
        ("@owner, a note to myself", []),
        ("@outsider should not hear of this", []),
        ("No one is mentioned; agent@acme.example is just an address", []),
    ],
    ids=["start", "end of a sentence", "two", "the author", "another organisation", "no mention"],
)
def test_a_note_tells_the_members_it_mentions_by_e_mail(
    world, conversation, colleague, committed, mailoutbox, text, told
):
    with committed():
        note = conversations.note_add(membership=world.owner, conversation=conversation, text=text)

    assert sorted(address for mail in mailoutbox for address in mail.to) == told
    assert sorted(note.mentions.values_list("email", flat=True)) == told
    for mail in mailoutbox:
        assert mail.subject == "Owner mentioned you in a note on Padu"
        assert text in mail.body
        assert reverse("conversation", args=[world.org.slug, conversation.pk]) in mail.body


def test_an_empty_note_is_refused(world, conversation):
    with pytest.raises(ConversationRuleError, match=re.escape("Write the note first.")):
        conversations.note_add(membership=world.agent, conversation=conversation, text="  \n ")

    assert not Note.objects.exists()


def test_a_note_never_reaches_meta(world, meta, celery_eager, committed):
    channel = make_channel(
        world.org,
        kind=ChannelKind.MESSENGER,
        external_id=meta.assets["pages"][0]["id"],
        token=meta.assets["pages"][0]["system_token"],
    )
    customer = meta.customer_writes(kind="messenger", business_id=channel.external_id, text="Hi")
    conversation = make_conversation(channel, customer=customer["customer_id"])

    with committed():
        conversations.note_add(
            membership=world.agent, conversation=conversation, text="@owner she is a regular"
        )

    assert Note.objects.get().text == "@owner she is a regular"
    assert not Message.objects.exists()
    assert meta.state.sent == []


# The team's own fields on the contact.


def test_the_teams_name_for_a_customer_is_shown_instead_of_metas(client, world, conversation):
    conversations.contact_update(
        membership=world.agent,
        contact=conversation.contact,
        custom_name="  Ayşe from the bakery ",
        email=" ayse@bakery.example ",
        notes="Orders every Friday.",
    )
    client.force_login(world.agent.user)

    page = client.get(reverse("conversation", args=[world.org.slug, conversation.pk]))

    contact = conversation.contact
    contact.refresh_from_db()
    assert (contact.custom_name, contact.email, contact.notes, contact.name) == (
        "Ayşe from the bakery",
        "ayse@bakery.example",
        "Orders every Friday.",
        "Ayşe Yılmaz",
    )
    html = page.content.decode()
    assert '<h1 id="conversation-title" dir="auto">Ayşe from the bakery</h1>' in html
    assert "Name on Meta" in html
    assert "Ayşe Yılmaz" in html


# The forms: without JavaScript (a redirect back) and with htmx (the pane).


@dataclass
class Action:
    url_name: str
    data: Callable[[object, Conversation], dict]
    done: Callable[[object, Conversation], bool]
    message_id: bool = False


def _template(world, conversation) -> MessageTemplate:
    return MessageTemplate.objects.create(
        organization=world.org,
        channel=conversation.channel,
        name="order_update",
        language="en_US",
        status="APPROVED",
        components=[{"type": "BODY", "text": "Your order {{1}} is on its way."}],
    )


def _failed(world, conversation) -> Message:
    return make_message(
        conversation,
        direction=Direction.OUTBOUND,
        text="Hello again",
        external_id="",
        status=MessageStatus.FAILED,
        send_mode="response",
        error_reason="Meta could not be reached for a long time: send it again.",
    )


ACTIONS = {
    "assign": Action(
        "conversation_assign",
        lambda world, c: {"assignee": "me"},
        lambda world, c: c.assignee == world.agent.user,
    ),
    "status": Action(
        "conversation_status",
        lambda world, c: {"status": "pending"},
        lambda world, c: c.status == "pending",
    ),
    "snooze": Action(
        "conversation_status",
        lambda world, c: {"status": "snoozed", "snoozed_until": "2099-01-02T09:30"},
        lambda world, c: c.status == "snoozed" and c.snoozed_until.year == 2099,
    ),
    "labels": Action(
        "conversation_labels",
        lambda world, c: {"labels": [label(world.org, "VIP").pk]},
        lambda world, c: [x.name for x in c.labels.all()] == ["VIP"],
    ),
    "note": Action(
        "conversation_note",
        lambda world, c: {"text": "Called her back."},
        lambda world, c: c.notes.get().text == "Called her back.",
    ),
    "contact": Action(
        "conversation_contact",
        lambda world, c: {"custom_name": "Ayşe H.", "email": "", "notes": ""},
        lambda world, c: c.contact.custom_name == "Ayşe H.",
    ),
    "reply": Action(
        "conversation_reply",
        lambda world, c: {"text": "We're open until six.", "mode": ""},
        lambda world, c: c.messages.get(direction="out").status == "queued",
    ),
    "template": Action(
        "conversation_template",
        lambda world, c: {"template": _template(world, c).pk, "p1": "#1042"},
        lambda world, c: c.messages.get().text == "Your order #1042 is on its way.",
    ),
    "retry": Action(
        "message_retry",
        lambda world, c: {},
        lambda world, c: c.messages.get().status == "queued",
        message_id=True,
    ),
}

REFUSALS = {
    "assign": (
        "conversation_assign",
        lambda world, c: {"assignee": world.outsider.user.pk},
        "Select a valid choice.",
    ),
    "snooze": (
        "conversation_status",
        lambda world, c: {"status": "snoozed", "snoozed_until": "2001-01-01T09:00"},
        "Snooze until a time in the future.",
    ),
    "labels": (
        "conversation_labels",
        lambda world, c: {"labels": [label(world.other_org, "VIP").pk]},
        "Select a valid choice.",
    ),
    "note": ("conversation_note", lambda world, c: {"text": ""}, "This field is required."),
    "contact": (
        "conversation_contact",
        lambda world, c: {"custom_name": "", "email": "not an address", "notes": ""},
        "Enter a valid email address.",
    ),
    "reply": (
        "conversation_reply",
        lambda world, c: {"text": "x" * 4097, "mode": ""},
        "This channel takes at most 4096 characters; the message has 4097.",
    ),
    "template": (
        "conversation_template",
        lambda world, c: {"template": _template(world, c).pk},
        "Fill in every placeholder of the template (1).",
    ),
    "retry": (
        "message_retry",
        lambda world, c: {},
        "Only a message that failed can be sent again.",
    ),
}


def _url(world, conversation, url_name: str) -> str:
    if url_name == "message_retry":
        message = conversation.messages.get()
        return reverse(url_name, args=[world.org.slug, conversation.pk, message.pk])
    return reverse(url_name, args=[world.org.slug, conversation.pk])


def _post(client, url: str, data: dict, htmx: bool):
    if htmx:
        return client.post(url, data, headers={"HX-Request": "true"})
    return client.post(url, data, follow=True)


def _assert_back_in_the_conversation(response, world, conversation, htmx: bool) -> str:
    html = response.content.decode()
    assert response.status_code == 200
    if htmx:
        assert 'id="conversation-pane"' in html
        assert "<html" not in html
    else:
        page = reverse("conversation", args=[world.org.slug, conversation.pk])
        assert response.redirect_chain == [(page, 302)]
        assert "<html" in html
    return html


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("name", list(ACTIONS))
def test_each_form_does_its_action_and_comes_back_to_the_conversation(
    client, world, conversation, name, htmx
):
    action = ACTIONS[name]
    if action.message_id:
        _failed(world, conversation)
    client.force_login(world.agent.user)

    response = _post(
        client, _url(world, conversation, action.url_name), action.data(world, conversation), htmx
    )

    _assert_back_in_the_conversation(response, world, conversation, htmx)
    assert action.done(world, refreshed(conversation))


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("name", list(REFUSALS))
def test_each_form_shows_a_refusal_as_a_message_in_the_conversation(
    client, world, conversation, name, htmx
):
    url_name, data, error = REFUSALS[name]
    if url_name == "message_retry":
        make_message(conversation, direction=Direction.OUTBOUND, send_mode="response")
    before = Conversation.objects.values().get(pk=conversation.pk)
    messages_before = list(Message.objects.values())
    client.force_login(world.agent.user)

    response = _post(client, _url(world, conversation, url_name), data(world, conversation), htmx)

    html = _assert_back_in_the_conversation(response, world, conversation, htmx)
    assert error in html.replace("&#x27;", "'")
    assert Conversation.objects.values().get(pk=conversation.pk) == before
    assert list(Message.objects.values()) == messages_before
    assert not Note.objects.exists()


def test_a_form_comes_back_to_the_conversation_with_the_lists_filters(client, world, conversation):
    client.force_login(world.agent.user)
    url = reverse("conversation_status", args=[world.org.slug, conversation.pk])

    response = client.post(f"{url}?tab=mine&status=pending", {"status": "resolved"})

    page = reverse("conversation", args=[world.org.slug, conversation.pk])
    assert response["Location"] == f"{page}?tab=mine&status=pending"


def test_the_first_note_shows_in_the_pane_sent_back(client, world, conversation):
    client.force_login(world.agent.user)
    url = reverse("conversation_note", args=[world.org.slug, conversation.pk])

    pane = client.post(url, {"text": "Call them back tomorrow"}, headers={"HX-Request": "true"})

    assert "Call them back tomorrow" in pane.content.decode()
