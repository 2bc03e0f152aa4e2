"""Meta's ids, and the addresses in Meta's answers, checked before they name anything
Padu stores or calls."""

from __future__ import annotations

import re

import httpx
from django.conf import settings

from channels_meta.graph.errors import UnsafeRequest

# Meta's node ids (Pages, accounts, phone numbers, users) are decimal numbers.
NODE_ID_PATTERN = re.compile(r"[0-9]{1,32}")
# Longer addresses than this are not kept (nor are they Meta's).
MAX_URL_LENGTH = 1000


def node_id(value: object) -> str:
    """`value` as a Graph node id (digits only), or UnsafeRequest. Every id that goes
    into a Graph path passes through here."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not NODE_ID_PATTERN.fullmatch(value):
        raise UnsafeRequest("That is not a Meta id (Meta's ids are digits only).")
    return value


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def picture_url(value: object) -> str:
    """`value` when it is a picture on Meta's content hosts (https, on a host named in
    META_PROFILE_PICTURE_HOSTS or under one) or on a configured Graph host, as
    configured (the simulator's, when rehearsing); "" for anything else."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return ""
    try:
        url = httpx.URL(value)
        graph_hosts = [
            httpx.URL(base) for base in (settings.META_GRAPH_URL, settings.META_INSTAGRAM_GRAPH_URL)
        ]
    except (httpx.InvalidURL, TypeError, ValueError):
        return ""
    if url.userinfo or not url.host:
        return ""
    if any(_origin(url) == _origin(base) for base in graph_hosts):
        return value
    on_cdn = any(
        url.host == host or url.host.endswith(f".{host}")
        for host in (h.lower().strip(".") for h in settings.META_PROFILE_PICTURE_HOSTS)
        if host
    )
    return value if url.scheme == "https" and on_cdn and url.port in (None, 443) else ""
