"""The conversation list's tabs, filters, search and pages, and the live endpoint."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels_meta.models import ChannelKind
from inbox import live
from inbox.models import ConversationKind, Label
from inbox.services.conversations import conversation_assign
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation, make_message


@pytest.fixture
def inbox(client, world):
    client.force_login(world.agent.user)
    whatsapp = make_channel(
        world.org, kind=ChannelKind.WHATSAPP, external_id="1065403522", name="WA"
    )
    instagram = make_channel(
        world.org, kind=ChannelKind.INSTAGRAM, external_id="178414000", name="IG"
    )
    return whatsapp, instagram


def names(client, world, **query) -> list[str]:
    page = client.get(reverse("inbox", args=[world.org.slug]), query)
    assert page.status_code == 200
    return [c.contact.display_name for c in page.context["page"].conversations]


def test_newest_activity_comes_first(client, world, inbox):
    whatsapp, _instagram = inbox
    now = timezone.now()
    for name, hours in (("Old", 5), ("New", 1), ("Middle", 3)):
        make_conversation(whatsapp, name=name, last_inbound_at=now - timedelta(hours=hours))

    assert names(client, world) == ["New", "Middle", "Old"]


def test_tabs_show_mine_unassigned_and_all_with_counts(client, world, inbox):
    whatsapp, _instagram = inbox
    make_conversation(whatsapp, name="Mine", assignee=world.agent.user)
    make_conversation(whatsapp, name="Owner's", assignee=world.owner.user)
    make_conversation(whatsapp, name="Nobody's")

    assert names(client, world, tab="mine") == ["Mine"]
    assert names(client, world, tab="unassigned") == ["Nobody's"]
    page = client.get(reverse("inbox", args=[world.org.slug]))
    assert page.context["counts"] == {"mine": 1, "unassigned": 1, "all": 3, "unread": 0}


def test_filters_combine_and_stay_in_the_links(client, world, inbox):
    whatsapp, instagram = inbox
    vip = Label.objects.create(organization=world.org, name="VIP")
    wanted = make_conversation(instagram, name="Wanted", unread_count=2)
    wanted.labels.add(vip)
    make_conversation(instagram, name="No label", unread_count=1)
    make_conversation(whatsapp, name="Other channel", unread_count=1).labels.add(vip)
    make_conversation(instagram, name="Read", unread_count=0).labels.add(vip)
    make_conversation(instagram, name="Resolved", unread_count=1, status="resolved").labels.add(vip)

    query = {"channel": instagram.pk, "label": vip.pk, "unread": "on"}
    assert names(client, world, **query) == ["Wanted"]
    assert names(client, world, status="resolved") == ["Resolved"]
    page = client.get(reverse("inbox", args=[world.org.slug]), query).content.decode()
    assert f"channel={instagram.pk}&amp;label={vip.pk}&amp;unread=on" in page


def test_each_row_shows_its_own_labels_in_name_order(client, world, inbox):
    whatsapp, _instagram = inbox
    urgent, refund, vip = (
        Label.objects.create(organization=world.org, name=name)
        for name in ("Urgent", "Refund", "VIP")
    )
    make_conversation(whatsapp, name="Two labels").labels.add(urgent, vip, refund)
    make_conversation(whatsapp, name="One label").labels.add(vip)
    make_conversation(whatsapp, name="None")

    page = client.get(reverse("inbox", args=[world.org.slug]))

    shown = {c.contact.display_name: c.label_list for c in page.context["page"].conversations}
    assert shown == {"Two labels": [refund, urgent, vip], "One label": [vip], "None": []}
    assert 'class="label colour-' in page.content.decode()


def test_comments_and_messages_are_told_apart(client, world, inbox):
    _whatsapp, instagram = inbox
    make_conversation(instagram, name="Commenter", kind=ConversationKind.COMMENT, comment_id="1")
    make_conversation(instagram, name="Writer")

    assert names(client, world, kind="comment") == ["Commenter"]
    assert names(client, world, kind="dm") == ["Writer"]


def test_invalid_filters_are_ignored_not_an_error(client, world, inbox):
    whatsapp, _instagram = inbox
    make_conversation(whatsapp, name="Anyone")

    assert names(client, world, channel="x", status="lost", after="nonsense", tab="?") == ["Anyone"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ayşe", ["Ayşe Yılmaz"]),
        ("532 000", ["Ayşe Yılmaz"]),
        ("kahve", ["Mert"]),
        ("delivery", ["Zeynep"]),
        ("deliv", ["Zeynep"]),
        ("100%", []),
    ],
)
def test_search_finds_names_handles_phones_and_message_words(client, world, inbox, query, expected):
    whatsapp, instagram = inbox
    ayse = make_conversation(whatsapp, name="Ayşe Yılmaz")
    ayse.contact.phone = "+90 532 000 11 22"
    ayse.contact.save()
    mert = make_conversation(instagram, name="Mert")
    mert.contact.username = "kahve.sever"
    mert.contact.save()
    make_message(make_conversation(whatsapp, name="Zeynep"), text="When is the delivery coming?")

    assert names(client, world, q=query) == expected


def test_pages_follow_each_other_without_gaps_or_repeats(client, world, inbox):
    whatsapp, _instagram = inbox
    now = timezone.now()
    for number in range(30):
        # Some share a time: the id breaks the tie.
        make_conversation(
            whatsapp, name=f"C{number:02}", last_inbound_at=now - timedelta(minutes=number // 2)
        )
    url = reverse("inbox", args=[world.org.slug])

    first = client.get(url).context["page"]
    second = client.get(url, {"after": first.next_cursor.encode()}).context["page"]

    seen = [c.pk for c in first.conversations] + [c.pk for c in second.conversations]
    assert len(first.conversations) == 25
    assert len(seen) == len(set(seen)) == 30
    assert second.next_cursor is None


def test_another_organisations_conversations_never_show(client, world, inbox):
    foreign = make_channel(world.other_org, kind=ChannelKind.WHATSAPP, external_id="999", name="X")
    make_conversation(foreign, name="Not yours")

    assert names(client, world, status="all", q="Not yours") == []


def test_the_live_endpoint_says_when_something_changed(client, world, inbox, committed):
    whatsapp, _instagram = inbox
    conversation = make_conversation(whatsapp)
    url = reverse("inbox_live", args=[world.org.slug])
    stamp, conversation_stamp = live.stamps(
        organization_id=world.org.pk, conversation_id=conversation.pk
    )
    query = {
        "seen": stamp,
        "conversation": conversation.pk,
        "seen_conversation": conversation_stamp,
    }

    quiet = client.get(url, query)
    with committed():
        live.changed(organization_id=world.org.pk, conversation_ids=[conversation.pk])
    changed = client.get(url, query)

    assert "HX-Trigger" not in quiet
    assert json.loads(changed["HX-Trigger"]) == {
        "inbox-list-changed": True,
        "inbox-conversation-changed": True,
    }


def test_the_live_answer_goes_on_polling_the_live_endpoint(client, world, inbox, committed):
    url = reverse("inbox_live", args=[world.org.slug])
    with committed():
        live.changed(organization_id=world.org.pk)

    changed = client.get(url, {"seen": "1"})

    assert "HX-Trigger" in changed
    assert f'hx-get="{url}?seen=' in changed.content.decode()


def test_a_message_recorded_from_a_webhook_reaches_open_pages(world, committed):
    from tests.channels_meta import payloads as p
    from tests.channels_meta.delivery import deliver, make_channels

    make_channels(world.org)
    before, _ = live.stamps(organization_id=world.org.pk)
    with committed():
        deliver(p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, "4242", "m_live")))

    assert live.stamps(organization_id=world.org.pk)[0] != before


def _counts_queries(client, world) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("inbox", args=[world.org.slug]))
    counted = [query for query in captured if "COUNT(" in query["sql"]]
    return page.context["counts"], len(counted)


def test_tab_counts_are_counted_once_per_change_and_follow_every_change(
    client, world, inbox, committed
):
    whatsapp, _instagram = inbox
    conversation = make_conversation(whatsapp)
    with committed():
        live.changed(organization_id=world.org.pk)

    first, counted_first = _counts_queries(client, world)
    again, counted_again = _counts_queries(client, world)
    with committed():
        conversation_assign(
            membership=world.agent, conversation=conversation, assignee=world.agent.user
        )
    after_change, counted_after = _counts_queries(client, world)

    assert (counted_first, counted_again, counted_after) == (1, 0, 1)
    assert first == again == {"mine": 0, "unassigned": 1, "all": 1, "unread": 0}
    assert after_change == {"mine": 1, "unassigned": 0, "all": 1, "unread": 0}


def test_each_member_and_each_filter_has_its_own_counts(client, world, inbox, committed):
    whatsapp, instagram = inbox
    make_conversation(whatsapp, assignee=world.agent.user)
    make_conversation(instagram)
    with committed():
        live.changed(organization_id=world.org.pk)
    url = reverse("inbox", args=[world.org.slug])

    agents = client.get(url).context["counts"]
    on_instagram = client.get(url, {"channel": instagram.pk}).context["counts"]
    client.force_login(world.owner.user)
    owners = client.get(url).context["counts"]

    assert (agents["mine"], owners["mine"]) == (1, 0)
    assert (agents["all"], on_instagram["all"]) == (2, 1)


def test_what_is_kept_per_change_is_computed_when_the_cache_is_down(world, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    computed = []

    for _ in range(2):
        kept = live.per_change(
            organization_id=world.org.pk,
            stamp="1700000000",
            name="tab counts",
            compute=lambda: computed.append(1) or {"all": 3},
        )

    assert kept == {"all": 3}
    assert len(computed) == 2
