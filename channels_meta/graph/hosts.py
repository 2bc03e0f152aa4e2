"""Which hosts Padu's requests may reach: plain functions on URLs and settings, shared
by the Graph client and by whatever checks a link before it is kept."""

from __future__ import annotations

import httpx
from django.conf import settings

Origin = tuple[str, str, int]


def origin(url: httpx.URL) -> Origin:
    """(scheme, host, port) of an http(s) URL; ValueError for anything else."""
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    if default_port is None or not url.host:
        raise ValueError("not an http(s) URL with a host")
    return (url.scheme, url.host, url.port or default_port)


def media_url_allowed(url: str) -> bool:
    """Whether `url` is on one of Meta's media hosts (META_MEDIA_HOSTS): an https URL on
    a named host or a subdomain of a `*.` entry, or on an entry's full origin (the
    simulator's, in rehearsals); never with a user name or password in it."""
    try:
        parsed = httpx.URL(url)
        target = origin(parsed)
        entries = [
            httpx.URL(entry.strip()) if "://" in entry else entry
            for entry in settings.META_MEDIA_HOSTS
        ]
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    return not parsed.userinfo and any(_admits(entry, target) for entry in entries)


def _admits(entry: httpx.URL | str, target: Origin) -> bool:
    if isinstance(entry, httpx.URL):
        try:
            return origin(entry) == target
        except ValueError:
            return False
    entry = entry.strip().lower()
    scheme, host, port = target
    if scheme != "https" or port != 443 or not entry:
        return False
    return host.endswith(entry[1:]) if entry.startswith("*.") else host == entry
