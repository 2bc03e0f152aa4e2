"""Instagram content lands in the inbox as something a person can act on: story
mentions, shared posts and reels, referrals, comments on live videos and mentions."""

from __future__ import annotations

import pytest

from channels_meta.models import WebhookEventStatus
from inbox.models import Conversation, Message
from tests.channels_meta.delivery import deliver
from tests.inbox.payloads import instagram as ig

pytestmark = pytest.mark.django_db


def received(payload) -> Message:
    event = deliver(payload)
    assert event.status == WebhookEventStatus.PROCESSED, event.error
    return Message.objects.order_by("id").last()


@pytest.mark.parametrize(
    ("payload", "kind"),
    [(ig.story_mention, "story_mention"), (ig.shared_post, "share"), (ig.shared_reel, "ig_reel")],
)
def test_story_mentions_shares_and_reels_are_messages_with_their_link(channels, payload, kind):
    message = received(payload())

    attachment = message.attachments[0]
    assert attachment["type"] == kind
    assert attachment["url"].startswith("https://lookaside.fbsbx.com/ig_messaging_cdn/")
    assert message.conversation.contact.external_id == ig.IGSID


def test_a_shared_reel_keeps_its_title_and_video_id(channels):
    attachment = received(ig.shared_reel()).attachments[0]

    assert attachment["title"] == "Our new spring menu \U0001f338"
    assert attachment["payload"] == {"reel_video_id": "18012345678901234"}


def test_an_ig_me_referral_is_remembered_by_the_conversation(channels):
    line = received(ig.ig_me_referral())

    assert line.kind == "system"
    assert Conversation.objects.get().referral == {
        "ref": "bio-link",
        "source": "IGME",
        "type": "OPEN_THREAD",
    }


def test_an_unsupported_message_is_kept_and_marked(channels):
    assert received(ig.unsupported()).extra == {"unsupported": True}


def test_a_comment_on_a_live_video_is_a_comment_thread(channels):
    message = received(ig.live_comment())

    assert (message.text, message.direction) == ("How much is the green one?", "in")
    assert message.extra["live"] is True
    assert message.extra["media_product_type"] == "LIVE"
    conversation = message.conversation
    assert (conversation.kind, conversation.comment_id) == ("comment", "17865432109876543")
    assert conversation.contact.username == "live_viewer"


def test_mentions_in_comments_and_captions_are_threads_staff_can_open(channels):
    in_comment = received(ig.mention_in_comment())
    in_caption = received(ig.mention_in_caption())

    assert in_comment.extra["mention"] == {
        "media_id": "17887498072083520",
        "comment_id": "17894227972186120",
        "in": "comment",
    }
    assert in_caption.extra["mention"]["in"] == "caption"
    assert in_caption.conversation.media_id == "17887498072083521"
    assert Conversation.objects.filter(kind="comment").count() == 2
    assert "" not in Conversation.objects.values_list("contact__external_id", flat=True)


def test_a_comment_keeps_the_commenters_id_in_direct_messages(channels):
    payload = ig.live_comment()
    payload["entry"][0]["changes"][0]["value"]["from"]["self_ig_scoped_id"] = ig.IGSID

    message = received(payload)

    assert message.extra["from"] == {"self_ig_scoped_id": ig.IGSID}
