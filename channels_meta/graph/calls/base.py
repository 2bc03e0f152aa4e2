"""What every Graph call builds on: Meta's host for a token, a node's path, the app token
and the outbound rate limiter."""

from __future__ import annotations

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from channels_meta.graph import ratelimit
from channels_meta.graph.errors import RateLimited
from channels_meta.graph.ids import node_id


def host(instagram_login: bool) -> str:
    """Instagram Login tokens work on graph.instagram.com; Page tokens (Messenger, and
    Instagram accounts linked to a Page) on graph.facebook.com."""
    return "instagram" if instagram_login else "facebook"


def node_path(value: object, *edges: str) -> str:
    """The Graph path of a node, or of one of its edges: `node_path("123", "messages")`."""
    return "/".join([node_id(value), *edges])


@sensitive_variables()
def app_token() -> str:
    """The app access token (`app id|app secret`), for calls Padu makes as the app."""
    return f"{settings.META_APP_ID}|{settings.META_APP_SECRET}"


def take(*buckets: tuple[str, str]) -> None:
    """One token from each `(limit, subject)` bucket, or RateLimited with the wait."""
    for limit, subject in buckets:
        try:
            ratelimit.acquire(limit, subject)
        except ratelimit.Throttled as throttled:
            raise RateLimited(str(throttled), retry_after=throttled.retry_after) from None
