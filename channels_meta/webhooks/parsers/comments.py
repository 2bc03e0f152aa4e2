"""Instagram `changes`: comments on posts and reels, comments on live videos, and
mentions of the business in comments and captions. Each lands as a comment thread."""

from __future__ import annotations

from collections.abc import Callable

from channels_meta.webhooks.events import CommentEvent, Route, Unparsed
from channels_meta.webhooks.parsers.common import as_dict, as_str, at, rest

COMMENT_FIELDS_READ = frozenset(
    {"id", "comment_id", "from", "text", "parent_id", "media", "media_id", "timestamp"}
)


def comment(
    account_id: str, value: dict, entry: dict, live: bool = False
) -> CommentEvent | Unparsed:
    comment_id = as_str(value.get("id") or value.get("comment_id"))
    if not comment_id:
        return Unparsed(f"A comment without an id could not be stored: {value}"[:1000], lost=True)
    sender = as_dict(value.get("from"))
    media = as_dict(value.get("media"))
    extra: dict = {}
    if media.get("media_product_type"):
        extra["media_product_type"] = as_str(media["media_product_type"])
    if live:
        extra["live"] = True
    # e.g. `self_ig_scoped_id`: the commenter's id in direct messages.
    extra.update(rest(sender, {"id", "username"}, "from"))
    extra.update(rest(value, COMMENT_FIELDS_READ))
    return CommentEvent(
        route=Route("instagram", account_id),
        comment_id=comment_id,
        media_id=as_str(media.get("id") or value.get("media_id")),
        customer_id=as_str(sender.get("id")),
        username=as_str(sender.get("username")),
        text=as_str(value.get("text")),
        at=at(value.get("timestamp") or entry.get("time")),
        parent_id=as_str(value.get("parent_id")),
        extra=extra,
    )


def live_comment(account_id: str, value: dict, entry: dict) -> CommentEvent | Unparsed:
    """A comment on the business's live video: the shape of a comment."""
    return comment(account_id, value, entry, live=True)


def mention(account_id: str, value: dict, entry: dict) -> CommentEvent | Unparsed:
    """Someone mentioned the business in a comment (`comment_id`) or in a caption (only
    `media_id`). Meta sends no text or author: staff open it from the ids."""
    media_id = as_str(value.get("media_id"))
    comment_id = as_str(value.get("comment_id"))
    if not (media_id or comment_id):
        return Unparsed(f"A mention without ids could not be stored: {value}"[:1000], lost=True)
    thread = comment_id or f"mention-{media_id}"
    return CommentEvent(
        route=Route("instagram", account_id),
        comment_id=thread,
        media_id=media_id,
        customer_id="",
        username="",
        text="",
        at=at(entry.get("time")),
        extra={
            "mention": {
                "media_id": media_id,
                "comment_id": comment_id,
                "in": "comment" if comment_id else "caption",
            },
            **rest(value, {"media_id", "comment_id"}),
        },
    )


FIELDS: dict[str, Callable[[str, dict, dict], CommentEvent | Unparsed]] = {
    "comments": comment,
    "live_comments": live_comment,
    "mentions": mention,
}
