"""A comment thread shows the post it is on, looked up once through the Graph API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels_meta.models import ChannelKind, ChannelStatus, WebhookEvent
from channels_meta.simulator import edges
from channels_meta.webhooks import processing
from inbox.models import Conversation
from inbox.services.posts import comment_post_fetch
from tests.channels_meta.factories import make_channel


@pytest.fixture
def comments(meta, celery_eager, committed):
    """A customer comments on the channel's post, and Padu's worker records it."""

    def comment(channel, text: str) -> Conversation:
        meta.http.post(
            "/_sim/comment", json={"instagram_id": channel.external_id, "text": text}
        ).raise_for_status()
        meta.sender.flush_all()
        event_ids = [WebhookEvent.objects.create(body=body).pk for body in meta.receiver.bodies]
        meta.receiver.bodies.clear()
        with committed():
            processing.webhook_events_process(event_ids=event_ids)
        return Conversation.objects.get(channel=channel)

    return comment


def instagram(meta, world, **fields):
    page = meta.assets["pages"][0]
    return make_channel(
        world.org,
        kind=ChannelKind.INSTAGRAM,
        external_id=page["instagram_id"],
        token=page["system_token"],
        **fields,
    )


def test_a_new_comment_thread_gets_its_posts_caption_and_link(meta, world, comments, client):
    channel = instagram(meta, world)

    thread = comments(channel, "Is this vegan?")

    assert thread.post["caption"]
    assert thread.post["permalink"] == f"https://www.instagram.com/p/{thread.media_id}/"
    client.force_login(world.agent.user)
    page = client.get(reverse("conversation", args=[world.org.slug, thread.pk])).content.decode()
    assert thread.post["permalink"] in page


def test_an_unsafe_link_from_meta_is_dropped(meta, world, comments, monkeypatch):
    original = edges.ok

    def tampered(body, *args, **kwargs):
        if "permalink" in body:
            body = {**body, "permalink": "javascript:alert(1)"}
        return original(body, *args, **kwargs)

    monkeypatch.setattr(edges, "ok", tampered)
    channel = instagram(meta, world)

    assert comments(channel, "Price?").post["permalink"] == ""


def test_a_disconnected_channel_is_not_asked(meta, world, comments):
    channel = instagram(meta, world)
    thread = comments(channel, "Hello")
    Conversation.objects.filter(pk=thread.pk).update(post={})
    channel.status = ChannelStatus.DISCONNECTED
    channel.save()

    assert comment_post_fetch(conversation_id=thread.pk) == "skipped"
