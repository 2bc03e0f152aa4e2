"""The reply services keep Meta's rules before anything is stored: a reply they accept is
`queued` with the way it will be sent, one they refuse says why and leaves nothing
behind, and delivery is asked for only once the reply is committed."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from channels_meta.models import Channel, ChannelKind, ChannelStatus, MessageTemplate
from inbox import policy, tasks
from inbox.models import Conversation, Direction, Message, MessageStatus
from inbox.services import replies
from inbox.services.replies import ReplyRefused
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation, make_message

ORDER_UPDATE = [{"type": "BODY", "text": "Your order {{1}} is on its way, {{2}}."}]


def ago(**delta) -> datetime:
    return timezone.now() - timedelta(**delta)


def channel_of(world, kind: str, **fields) -> Channel:
    return make_channel(
        world.org, kind=kind, external_id=fields.pop("external_id", "1784140000001"), **fields
    )


def dm(world, kind: str, *, wrote=None, **channel_fields) -> Conversation:
    """A direct conversation whose customer last wrote `wrote` ago (an hour by default)."""
    channel = channel_of(world, kind, **channel_fields)
    return make_conversation(
        channel, last_inbound_at=timezone.now() - (wrote or timedelta(hours=1))
    )


def comment_thread(world, *, written=None, **fields) -> Conversation:
    """An Instagram comment thread whose comment was written `written` ago (an hour)."""
    channel = channel_of(world, ChannelKind.INSTAGRAM)
    at = timezone.now() - (written or timedelta(hours=1))
    return make_conversation(
        channel, kind="comment", comment_id="17900000000000001", comment_at=at, **fields
    )


def template_of(channel: Channel, **fields) -> MessageTemplate:
    defaults = {"name": "order_update", "language": "en_US", "status": "APPROVED"}
    return MessageTemplate.objects.create(
        organization=channel.organization,
        channel=channel,
        components=fields.pop("components", ORDER_UPDATE),
        **{**defaults, **fields},
    )


def reply(world, conversation, text="Thanks, we're open until six.", **options) -> Message:
    return replies.reply_send(
        membership=world.agent, conversation=conversation, text=text, **options
    )


def send_template(world, conversation, template, parameters=("#1042", "Ayşe")) -> Message:
    return replies.template_send(
        membership=world.agent, conversation=conversation, template=template, parameters=parameters
    )


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """The ids of the messages whose delivery was asked of the broker."""
    asked: list[int] = []
    monkeypatch.setattr(tasks.message_deliver, "delay", asked.append)
    return asked


# Accepted replies.


@pytest.mark.parametrize(
    "kind", [ChannelKind.MESSENGER, ChannelKind.INSTAGRAM, ChannelKind.WHATSAPP]
)
def test_a_reply_within_24_hours_is_queued_as_a_response(world, kind):
    conversation = dm(world, kind, wrote=timedelta(hours=23, minutes=50))

    reply(world, conversation, text="  Hello, we're open until six.  ")

    stored = Message.objects.get()
    assert (stored.direction, stored.status, stored.send_mode, stored.text) == (
        Direction.OUTBOUND,
        MessageStatus.QUEUED,
        "response",
        "Hello, we're open until six.",
    )
    assert (stored.conversation, stored.author, stored.external_id) == (
        conversation,
        world.agent.user,
        "",
    )


@pytest.mark.parametrize("kind", [ChannelKind.MESSENGER, ChannelKind.INSTAGRAM])
@pytest.mark.parametrize("wrote", [timedelta(hours=25), timedelta(days=6, hours=23)])
def test_between_24_hours_and_7_days_a_person_replies_with_the_human_agent_tag(world, kind, wrote):
    conversation = dm(world, kind, wrote=wrote, human_agent_enabled=True)

    message = reply(world, conversation, text="Sorry for the wait!")

    assert (message.status, message.send_mode) == (MessageStatus.QUEUED, "human_agent")


@pytest.mark.parametrize(
    "kind", [ChannelKind.MESSENGER, ChannelKind.INSTAGRAM, ChannelKind.WHATSAPP]
)
def test_text_up_to_the_channels_limit_is_accepted(world, kind):
    conversation = dm(world, kind)
    limit = policy.MAX_LENGTH[kind]

    message = reply(world, conversation, text="a" * limit)

    assert len(message.text) == limit


@pytest.mark.parametrize(
    "wrote",
    [timedelta(hours=1), timedelta(days=3), timedelta(days=40)],
    ids=["in", "after", "long"],
)
def test_whatsapp_sends_an_approved_template_at_any_time(world, wrote):
    conversation = dm(world, ChannelKind.WHATSAPP, wrote=wrote)
    template = template_of(conversation.channel)

    send_template(world, conversation, template, parameters=[" #1042 ", "Ayşe"])

    stored = Message.objects.get()
    assert (stored.status, stored.send_mode) == (MessageStatus.QUEUED, "template")
    assert stored.text == "Your order #1042 is on its way, Ayşe."
    assert stored.extra["template"] == {
        "id": template.pk,
        "name": "order_update",
        "language": "en_US",
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "#1042"}, {"type": "text", "text": "Ayşe"}],
            }
        ],
    }


def test_a_template_without_placeholders_is_sent_without_components(world):
    conversation = dm(world, ChannelKind.WHATSAPP, wrote=timedelta(days=2))
    template = template_of(
        conversation.channel, name="hello", components=[{"type": "BODY", "text": "Merhaba!"}]
    )

    message = send_template(world, conversation, template, parameters=[])

    assert (message.text, message.extra["template"]["components"]) == ("Merhaba!", [])


@pytest.mark.parametrize(
    "fields",
    [
        {"written": timedelta(minutes=5)},
        {"written": timedelta(days=30)},
        {"private_reply_at": ago(hours=2)},
    ],
    ids=["new", "a month old", "after its private reply"],
)
def test_a_comment_always_takes_a_public_reply(world, fields):
    conversation = comment_thread(world, **fields)

    message = reply(world, conversation, text="It's 12 TL, see you soon!")

    assert (message.status, message.send_mode) == (MessageStatus.QUEUED, "public")


def test_a_comment_takes_one_private_reply_within_7_days(world):
    conversation = comment_thread(world, written=timedelta(days=6, hours=23))

    first = reply(world, conversation, text="Sent you the prices", mode="private")
    with pytest.raises(ReplyRefused, match="already has its private reply"):
        reply(world, conversation, text="And again", mode="private")

    conversation.refresh_from_db()
    assert first.send_mode == "private"
    assert conversation.private_reply_at is not None
    assert list(Message.objects.values_list("text", flat=True)) == ["Sent you the prices"]


@pytest.mark.django_db(transaction=True)
def test_two_private_replies_racing_for_one_comment_store_one(world, monkeypatch, enqueued):
    conversation = comment_thread(world)
    first_in, second_in = threading.Event(), threading.Event()
    decide = policy.conversation_reply_options

    def decide_slowly(locked, now):
        # The first request holds the thread's row while it decides; the second, if the
        # row were not locked, would decide alongside it, and both would see no reply yet.
        if not first_in.is_set():
            first_in.set()
            second_in.wait(timeout=0.5)
        else:
            second_in.set()
        return decide(locked, now)

    monkeypatch.setattr(policy, "conversation_reply_options", decide_slowly)
    outcomes: list[str] = []

    def send(text: str) -> None:
        try:
            reply(world, Conversation.objects.get(pk=conversation.pk), text=text, mode="private")
            outcomes.append("queued")
        except ReplyRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    second = threading.Thread(target=send, args=("second",))
    first.start()
    assert first_in.wait(timeout=5)
    second.start()
    first.join()
    second.join()

    assert sorted(outcomes) == ["queued", "refused"]
    assert Message.objects.filter(send_mode="private").count() == 1
    assert len(enqueued) == 1


# Refused replies: why, in words, and nothing left behind.


def _conversation(world, case: str) -> Conversation:
    hours, days = (lambda n: timedelta(hours=n)), (lambda n: timedelta(days=n))
    cases = {
        "messenger 30 h": lambda: dm(world, "messenger", wrote=hours(30)),
        "instagram 3 d": lambda: dm(world, "instagram", wrote=days(3)),
        "messenger 8 d, human agent": lambda: dm(
            world, "messenger", wrote=days(8), human_agent_enabled=True
        ),
        "instagram 8 d, human agent": lambda: dm(
            world, "instagram", wrote=days(8), human_agent_enabled=True
        ),
        "messenger": lambda: dm(world, "messenger"),
        "instagram": lambda: dm(world, "instagram"),
        "whatsapp": lambda: dm(world, "whatsapp"),
        "whatsapp 25 h": lambda: dm(world, "whatsapp", wrote=hours(25)),
        "disconnected": lambda: dm(world, "messenger", status=ChannelStatus.DISCONNECTED),
        "needs reconnecting": lambda: dm(world, "whatsapp", status=ChannelStatus.NEEDS_REAUTH),
        "comment": lambda: comment_thread(world),
        "comment 8 d": lambda: comment_thread(world, written=days(8)),
        "comment answered": lambda: comment_thread(world, private_reply_at=ago(days=1)),
        "whatsapp, restricted": lambda: _restricted(dm(world, "whatsapp")),
    }
    return cases[case]()


def _restricted(conversation: Conversation) -> Conversation:
    """The customer asked that their data no longer be processed (a data request)."""
    conversation.contact.processing_restricted_at = ago(days=1)
    conversation.contact.save(update_fields=["processing_restricted_at"])
    return conversation


@pytest.mark.parametrize(
    ("case", "text", "mode", "reason"),
    [
        ("messenger 30 h", "Hi", "", "may not send human agent replies"),
        ("instagram 3 d", "Hi", "human_agent", "may not send human agent replies"),
        ("messenger 8 d, human agent", "Hi", "", "not written in the last 7 days"),
        ("instagram 8 d, human agent", "Hi", "human_agent", "not written in the last 7 days"),
        ("whatsapp 25 h", "Hi", "", "only an approved template"),
        ("messenger", "Hi", "human_agent", "That kind of reply is not possible here."),
        ("whatsapp", "Hi", "template", "Choose a template"),
        ("messenger", "a" * 2001, "", "at most 2000 characters; the message has 2001"),
        ("instagram", "a" * 1001, "", "at most 1000 characters"),
        ("whatsapp", "a" * 4097, "", "at most 4096 characters"),
        ("comment", "a" * 2201, "public", "at most 2200 characters"),
        ("comment", "a" * 1001, "private", "at most 1000 characters"),
        ("whatsapp", " \n\t ", "", "Write a message first."),
        ("disconnected", "Hi", "", "not connected to Meta"),
        ("needs reconnecting", "Hi", "", "not connected to Meta"),
        ("comment 8 d", "Hi", "private", "more than 7 days old"),
        ("comment answered", "Hi", "private", "already has its private reply"),
        ("whatsapp, restricted", "Hi", "", "no longer be processed"),
    ],
)
def test_a_reply_meta_would_refuse_is_refused_with_the_reason_and_nothing_stored(
    world, django_capture_on_commit_callbacks, case, text, mode, reason
):
    conversation = _conversation(world, case)
    before = Conversation.objects.values().get(pk=conversation.pk)

    with (
        django_capture_on_commit_callbacks() as deferred,
        pytest.raises(ReplyRefused) as refused,
    ):
        reply(world, conversation, text=text, mode=mode)

    assert reason in str(refused.value)
    assert not Message.objects.exists()
    assert Conversation.objects.values().get(pk=conversation.pk) == before
    assert deferred == []


@pytest.mark.parametrize(
    ("case", "change", "parameters", "reason"),
    [
        ("pending", {"status": "PENDING"}, ["#1", "Ayşe"], "approved templates"),
        ("rejected", {"status": "REJECTED"}, ["#1", "Ayşe"], "approved templates"),
        ("another channel's", {"channel": "other"}, ["#1", "Ayşe"], "approved templates"),
        ("missing a value", {}, ["#1"], "Fill in every placeholder of the template (2)."),
        ("a blank value", {}, ["#1", "  "], "Fill in every placeholder"),
        ("a value too many", {}, ["#1", "Ayşe", "extra"], "Fill in every placeholder"),
        ("a value too long", {}, ["#1", "a" * 1025], "too long"),
    ],
)
def test_a_template_is_refused_unless_approved_for_the_channel_and_fully_filled(
    world, case, change, parameters, reason
):
    conversation = dm(world, ChannelKind.WHATSAPP, wrote=timedelta(days=2))
    channel = conversation.channel
    if change.pop("channel", None):
        channel = make_channel(world.org, kind=ChannelKind.WHATSAPP, external_id="1065400000002")
    template = template_of(channel, **change)

    with pytest.raises(ReplyRefused, match=re.escape(reason)):
        send_template(world, conversation, template, parameters=parameters)

    assert not Message.objects.exists()


def test_a_template_is_refused_outside_whatsapp(world):
    conversation = dm(world, ChannelKind.MESSENGER)
    template = template_of(conversation.channel)

    with pytest.raises(ReplyRefused):
        send_template(world, conversation, template)

    assert not Message.objects.exists()


# Retrying a failed message.


def failed(conversation, world, **fields) -> Message:
    return make_message(
        conversation,
        direction=Direction.OUTBOUND,
        text=fields.pop("text", "Hello again"),
        external_id="",
        status=fields.pop("status", MessageStatus.FAILED),
        send_mode=fields.pop("send_mode", "response"),
        error_code=10,
        error_reason="Meta refused it: the customer's messaging window had closed.",
        author=world.owner.user,
        **fields,
    )


def test_a_failed_message_is_queued_again_by_whoever_retries_it(world):
    conversation = dm(world, ChannelKind.MESSENGER)
    message = failed(conversation, world)

    replies.message_retry(membership=world.agent, message=message)

    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_reason) == ("queued", None, "")
    assert (message.author, message.send_claimed_at) == (world.agent.user, None)


def test_retrying_a_failed_private_reply_takes_the_comments_private_reply_again(world):
    conversation = comment_thread(world)
    message = failed(conversation, world, send_mode="private")

    replies.message_retry(membership=world.agent, message=message)

    conversation.refresh_from_db()
    assert conversation.private_reply_at is not None


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("messenger", MessageStatus.SENT, "Only a message that failed"),
        ("messenger", MessageStatus.QUEUED, "Only a message that failed"),
        ("disconnected", MessageStatus.FAILED, "Reconnect the channel"),
        ("messenger 30 h", MessageStatus.FAILED, "may not send human agent replies"),
        ("comment answered", MessageStatus.FAILED, "already has its private reply"),
    ],
)
def test_a_retry_is_refused_unless_the_message_failed_and_meta_would_take_it_now(
    world, case, status, reason
):
    conversation = _conversation(world, case)
    mode = "private" if conversation.kind == "comment" else "response"
    message = failed(conversation, world, status=status, send_mode=mode)

    with pytest.raises(ReplyRefused, match=re.escape(reason)):
        replies.message_retry(membership=world.agent, message=message)

    message.refresh_from_db()
    assert message.status == status


# Delivery is asked for after the commit, never before.


def _send_each_way(world, way: str) -> Message:
    if way == "reply":
        return reply(world, dm(world, ChannelKind.MESSENGER))
    conversation = dm(world, ChannelKind.WHATSAPP)
    if way == "template":
        return send_template(world, conversation, template_of(conversation.channel))
    message = failed(conversation, world)
    return replies.message_retry(membership=world.agent, message=message)


@pytest.mark.parametrize("way", ["reply", "template", "retry"])
def test_delivery_is_enqueued_only_once_the_message_is_committed(
    world, django_capture_on_commit_callbacks, enqueued, way
):
    with django_capture_on_commit_callbacks() as deferred:
        message = _send_each_way(world, way)
        assert enqueued == []

    for callback in deferred:
        callback()
    assert enqueued == [message.pk]
