"""Conversations through the API: the inbox's list and filters, keyset pages, and the
changes staff make, each through the inbox's own services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import Label
from inbox.selectors import PAGE_SIZE
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation, make_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(world):
    return make_channel(world.org)


def _conversations(channel, count: int) -> list:
    now = timezone.now()
    made = []
    for number in range(count):
        conversation = make_conversation(
            channel, name=f"Customer {number}", last_inbound_at=now - timedelta(minutes=number)
        )
        make_message(conversation, text=f"Question {number}")
        made.append(conversation)
    return made


def test_the_list_walks_every_conversation_in_keyset_pages(api, channel):
    made = _conversations(channel, PAGE_SIZE + 5)

    first = api.get("conversations/").json()
    second = api.client.get(first["next"], HTTP_AUTHORIZATION=f"Bearer {api.key}").json()

    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == [conversation.pk for conversation in made]
    assert second["next"] is None
    assert first["results"][0]["contact"]["display_name"] == "Customer 0"
    assert first["results"][0]["reply_window"]["modes"] == ["response", "template"]


def test_the_next_link_keeps_the_filters(api, channel):
    _conversations(channel, PAGE_SIZE + 1)

    first = api.get("conversations/", {"status": "open", "tab": "all"}).json()

    assert "status=open" in first["next"]
    assert "after=" in first["next"]


def test_the_list_takes_the_inbox_filters(world, api, channel):
    resolved, assigned, labelled = _conversations(channel, 3)
    resolved.status = "resolved"
    resolved.save(update_fields=["status"])
    assigned.assignee = world.agent.user
    assigned.save(update_fields=["assignee"])
    label = Label.objects.create(organization=world.org, name="VIP")
    labelled.labels.add(label)

    def ids(**query) -> list[int]:
        return [row["id"] for row in api.get("conversations/", query).json()["results"]]

    assert ids(status="resolved") == [resolved.pk]
    assert ids(assignee=world.agent.user.pk) == [assigned.pk]
    assert ids(label=label.pk) == [labelled.pk]
    assert ids(tab="unassigned", status="open") == [labelled.pk]
    assert ids(q="Customer 2") == [labelled.pk]
    assert ids(channel=channel.pk + 1000) == []


def test_a_cursor_not_from_a_next_link_is_a_400(api):
    response = api.get("conversations/", {"after": "yesterday"})

    assert response.status_code == 400
    assert response.json()["fields"] == {"after": ["Not a cursor from a `next` link."]}


def test_the_list_takes_the_same_queries_for_5_or_25_conversations(api, channel):
    _conversations(channel, 5)
    api.get("labels/")  # the key's first use of the minute is written down
    with CaptureQueriesContext(connection) as few:
        assert api.get("conversations/").status_code == 200
    _conversations(channel, 20)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("conversations/").json()["results"]) == 25

    assert len(many) == len(few) <= 4


def test_a_conversation_shows_what_may_be_sent_now(world, api, channel):
    conversation = make_conversation(channel, last_inbound_at=timezone.now() - timedelta(days=2))

    body = api.get(f"conversations/{conversation.pk}/").json()

    assert body["reply_window"]["modes"] == ["template"]
    assert "24 hours" in body["reply_window"]["reason"]
    assert body["channel"] == {"id": channel.pk, "kind": "whatsapp", "name": channel.name}


def test_assigning_to_a_member_and_back_to_nobody(world, api, channel):
    conversation = make_conversation(channel)
    url = f"conversations/{conversation.pk}/assign/"

    assigned = api.post(url, {"assignee": world.agent.user.pk})
    unassigned = api.post(url, {"assignee": None})

    assert assigned.json()["assignee"]["email"] == "agent@acme.example"
    assert unassigned.json()["assignee"] is None


def test_assigning_to_someone_outside_the_organisation_is_a_400(world, api, channel):
    conversation = make_conversation(channel)

    response = api.post(
        f"conversations/{conversation.pk}/assign/", {"assignee": world.outsider.user.pk}
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"assignee": ["Not a member's user id."]}
    conversation.refresh_from_db()
    assert conversation.assignee is None


def test_status_changes_and_snoozes(api, channel):
    conversation = make_conversation(channel)
    until = (timezone.now() + timedelta(hours=3)).isoformat()

    resolved = api.post(f"conversations/{conversation.pk}/status/", {"status": "resolved"})
    snoozed = api.post(
        f"conversations/{conversation.pk}/status/", {"status": "snoozed", "snoozed_until": until}
    )

    assert resolved.json()["status"] == "resolved"
    assert snoozed.json()["status"] == "snoozed"
    assert snoozed.json()["snoozed_until"] is not None


def test_labels_are_set_to_exactly_those_given(world, api, channel):
    conversation = make_conversation(channel)
    vip, late = (Label.objects.create(organization=world.org, name=name) for name in "AB")
    conversation.labels.add(late)

    response = api.put(f"conversations/{conversation.pk}/labels/", {"labels": [vip.pk]})

    assert response.json()["labels"] == [vip.pk]
    assert list(conversation.labels.all()) == [vip]


def test_another_organisations_label_is_a_400_and_changes_nothing(world, api, channel):
    conversation = make_conversation(channel)
    theirs = Label.objects.create(organization=world.other_org, name="Theirs")

    response = api.put(f"conversations/{conversation.pk}/labels/", {"labels": [theirs.pk]})

    assert response.status_code == 400
    assert response.json()["fields"] == {"labels": ["Not the ids of your labels."]}
    assert not conversation.labels.exists()
