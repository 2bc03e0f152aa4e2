"""Meta's messaging windows at every boundary, for each kind of channel and conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inbox.models import SendMode
from inbox.policy import Facts, max_length, reply_options, window_label

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
RESPONSE, HUMAN, TEMPLATE = SendMode.RESPONSE, SendMode.HUMAN_AGENT, SendMode.TEMPLATE
PUBLIC, PRIVATE = SendMode.PUBLIC_REPLY, SendMode.PRIVATE_REPLY


def ago(delta: timedelta) -> datetime:
    return NOW - delta


def dm(kind: str, last: datetime | None, *, human_agent: bool = False) -> Facts:
    return Facts(kind, "dm", human_agent_enabled=human_agent, last_inbound_at=last)


def comment(at: datetime | None, *, private_reply_sent: bool = False) -> Facts:
    return Facts("instagram", "comment", comment_at=at, private_reply_sent=private_reply_sent)


CASES = [
    # Messenger and Instagram: 24 hours, then 7 days for a person with the tag.
    *[
        (dm(kind, ago(24 * HOUR - SECOND)), (RESPONSE,), "1 min left")
        for kind in ("messenger", "instagram")
    ],
    (dm("messenger", ago(24 * HOUR)), (), "closed"),
    (dm("messenger", ago(24 * HOUR), human_agent=True), (HUMAN,), "human agent: 6 d left"),
    (dm("instagram", ago(30 * HOUR), human_agent=True), (HUMAN,), "human agent: 5 d left"),
    (
        dm("messenger", ago(7 * 24 * HOUR - SECOND), human_agent=True),
        (HUMAN,),
        "human agent: 1 min left",
    ),
    (dm("messenger", ago(7 * 24 * HOUR), human_agent=True), (), "closed"),
    (dm("instagram", ago(6 * HOUR)), (RESPONSE,), "18 h left"),
    (dm("instagram", ago(6 * HOUR), human_agent=True), (RESPONSE,), "18 h left"),
    (dm("messenger", None, human_agent=True), (), "closed"),
    # WhatsApp: free text for 24 hours, templates always.
    (dm("whatsapp", ago(HOUR)), (RESPONSE, TEMPLATE), "23 h left"),
    (dm("whatsapp", ago(24 * HOUR - SECOND)), (RESPONSE, TEMPLATE), "1 min left"),
    (dm("whatsapp", ago(24 * HOUR)), (TEMPLATE,), "template only"),
    (dm("whatsapp", ago(24 * HOUR), human_agent=True), (TEMPLATE,), "template only"),
    (dm("whatsapp", None), (TEMPLATE,), "template only"),
    # Instagram comments: public replies always, one private reply within 7 days.
    (comment(ago(HOUR)), (PUBLIC, PRIVATE), "private reply: 6 d left"),
    (comment(ago(7 * 24 * HOUR - SECOND)), (PUBLIC, PRIVATE), "private reply: 1 min left"),
    (comment(ago(7 * 24 * HOUR)), (PUBLIC,), "public reply"),
    (comment(ago(HOUR), private_reply_sent=True), (PUBLIC,), "public reply"),
    (comment(None), (PUBLIC,), "public reply"),
]


@pytest.mark.parametrize(("facts", "modes", "label"), CASES)
def test_reply_options_at_each_boundary(facts, modes, label):
    options = reply_options(facts, NOW)

    assert options.modes == modes
    assert window_label(options, NOW) == label
    assert bool(options.reason) == (not modes or modes == (TEMPLATE,))


def test_a_disconnected_channel_allows_nothing_and_says_why():
    facts = Facts("whatsapp", "dm", channel_active=False, last_inbound_at=ago(HOUR))

    options = reply_options(facts, NOW)

    assert options.closed
    assert "reconnect" in options.reason


@pytest.mark.parametrize(
    "facts",
    [
        Facts("whatsapp", "dm", last_inbound_at=ago(HOUR), restricted=True),
        Facts("instagram", "comment", comment_at=ago(HOUR), restricted=True),
    ],
)
def test_a_customer_whose_data_processing_is_restricted_gets_no_reply(facts):
    options = reply_options(facts, NOW)

    assert options.closed
    assert "lifts the restriction" in options.reason


def test_human_agent_refusal_says_whether_the_channel_could_use_the_tag():
    without_tag = reply_options(dm("messenger", ago(30 * HOUR)), NOW)
    too_late = reply_options(dm("messenger", ago(8 * 24 * HOUR), human_agent=True), NOW)

    assert "human agent" in without_tag.reason
    assert "7 days" in too_late.reason


@pytest.mark.parametrize(
    ("kind", "mode", "limit"),
    [
        ("messenger", RESPONSE, 2000),
        ("messenger", HUMAN, 2000),
        ("instagram", RESPONSE, 1000),
        ("instagram", PRIVATE, 1000),
        ("instagram", PUBLIC, 2200),
        ("whatsapp", RESPONSE, 4096),
    ],
)
def test_text_limits_per_channel(kind, mode, limit):
    assert max_length(kind, mode) == limit
