"""The Instagram post a comment thread hangs from: its caption, kind and link, asked of
Meta once per thread, so staff answering a comment see what it is about."""

from __future__ import annotations

import logging
from dataclasses import asdict

from celery import current_app
from django.db import transaction

from channels_meta.graph.calls import posts
from channels_meta.graph.errors import PermanentError, TokenInvalid
from channels_meta.models import ChannelStatus
from channels_meta.services.tokens import channel_token_get, token_refusal_handled
from inbox.models import Conversation, ConversationKind

logger = logging.getLogger(__name__)
FETCH_TASK = "inbox.tasks.comment_post_fetch"


def comment_post_fetch_soon(*, conversation: Conversation) -> None:
    """Have the worker look up the thread's post once the transaction commits."""
    signature = current_app.signature(FETCH_TASK, args=(conversation.pk,))
    transaction.on_commit(signature.delay, robust=True)


def comment_post_fetch(*, conversation_id: int) -> str:
    """Keep on a comment thread what Meta says of its post; nothing when the thread has
    it already, its channel is not active or its token unusable. Meta's rate limits and
    failures go to the caller, to retry."""
    conversation = (
        Conversation.objects.select_related("channel")
        .filter(pk=conversation_id, kind=ConversationKind.COMMENT, post={})
        .exclude(media_id="")
        .first()
    )
    if conversation is None or conversation.channel.status != ChannelStatus.ACTIVE:
        return "skipped"
    channel = conversation.channel
    token = channel_token_get(channel=channel)
    if token is None:
        return "skipped"
    try:
        with token_refusal_handled(channel):
            post = posts.post_get(
                media_id=conversation.media_id,
                token=token,
                instagram_login=channel.uses_instagram_login,
            )
    except TokenInvalid:
        return "needs_reauth"
    except PermanentError as error:
        logger.warning("Conversation %s: Meta refused its post: %s", conversation.pk, error)
        return "unavailable"
    Conversation.objects.filter(pk=conversation.pk).update(post=asdict(post))
    return "fetched"
