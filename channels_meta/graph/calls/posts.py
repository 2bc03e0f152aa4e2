"""The Instagram posts that comments are on."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.calls.base import host, node_path
from channels_meta.graph.client import client

POST_FIELDS = "caption,media_type,media_product_type,permalink,timestamp"
POST_CAPTION_MAX_LENGTH = 2200
# Where Instagram shows a post; any other link in Meta's answer is dropped.
PERMALINK_PATTERN = re.compile(r"https://www\.instagram\.com/[A-Za-z0-9_./-]{1,200}")


@dataclass(frozen=True)
class Post:
    """What a person answering a comment needs of the post it is on."""

    caption: str
    media_type: str
    permalink: str
    timestamp: str


@sensitive_variables("token")
def post_get(*, media_id: str, token: str, instagram_login: bool = False) -> Post:
    """An Instagram post's caption, kind and link, asked with the account's token."""
    answer = client().get(
        node_path(media_id),
        token=token,
        host=host(instagram_login),
        params={"fields": POST_FIELDS},
    )
    caption, link = answer.get("caption"), answer.get("permalink")
    media_type = answer.get("media_product_type") or answer.get("media_type")
    return Post(
        caption=caption[:POST_CAPTION_MAX_LENGTH] if isinstance(caption, str) else "",
        media_type=media_type[:30] if isinstance(media_type, str) else "",
        permalink=link if isinstance(link, str) and PERMALINK_PATTERN.fullmatch(link) else "",
        timestamp=str(answer.get("timestamp") or "")[:40],
    )
