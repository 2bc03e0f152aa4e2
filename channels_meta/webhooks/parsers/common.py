"""Reading Meta's JSON defensively: every helper takes whatever is there and gives back
the expected type, and every URL kept is an https URL (or, in rehearsals, an http one
on the simulator's configured media origin)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from channels_meta.graph.hosts import media_url_allowed


def at(value: Any) -> datetime:
    """A Meta timestamp: milliseconds (Messenger, Instagram) or seconds, maybe as a
    string (WhatsApp, comments, dashboard tests); now when it is missing or absurd.
    Anything over 1e11 is milliseconds: as seconds it would be the year 5138."""
    try:
        number = float(value)
        if number > 1e11:
            number /= 1000
        return datetime.fromtimestamp(number, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(tz=UTC)


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def safe_url(value: Any) -> tuple[str, str]:
    """(url, "") for an https URL with a host (or an http one on a media origin configured
    for rehearsals, the simulator's); ("", scheme) for anything else, so a `javascript:`
    or `data:` link never reaches a page and staff can see one was dropped."""
    url = as_str(value)
    if not url:
        return "", ""
    try:
        parts = urlsplit(url)
        safe = bool(parts.hostname) and (
            parts.scheme == "https" or (parts.scheme == "http" and media_url_allowed(url))
        )
    except ValueError:
        parts, safe = None, False
    if safe and not any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return url, ""
    scheme = parts.scheme if parts is not None else ""
    return "", (scheme if scheme.isalnum() else "")[:20] or "unknown"


def url_fields(value: Any, name: str = "url") -> dict:
    """`{name: url}` when the URL is safe, else `{name: "", "dropped_<name>_scheme": ...}`."""
    safe, dropped = safe_url(value)
    return {name: safe, **({f"dropped_{name}_scheme": dropped} if dropped else {})}


def safe_links(value: Any) -> Any:
    """A copy of Meta's nested data with every `...url` or `...uri` field made safe."""
    if isinstance(value, list):
        return [safe_links(item) for item in value]
    if not isinstance(value, dict):
        return value
    cleaned: dict = {}
    for key, item in value.items():
        if isinstance(key, str) and key.lower().endswith(("url", "uri")) and isinstance(item, str):
            cleaned.update(url_fields(item, key))
        else:
            cleaned[key] = safe_links(item)
    return cleaned


def rest(item: dict, read: set[str] | frozenset[str], name: str = "other_fields") -> dict:
    """`{name: ...}` with what Padu does not read of one of Meta's items (links made
    safe), so nothing Meta sent is thrown away; `{}` when Padu read it all."""
    other = {key: value for key, value in item.items() if key not in read}
    return {name: safe_links(other)} if other else {}


def json_or_text(value: Any) -> Any:
    """A JSON document Meta sends as a string (a WhatsApp Flow's `response_json`),
    parsed; the string itself when it is not JSON."""
    if not isinstance(value, str):
        return safe_links(value)
    try:
        return safe_links(json.loads(value))
    except (ValueError, RecursionError):
        return value


def errors_of(value: Any) -> list[dict]:
    """Meta's `errors[]` as staff need them: code, title, message and details."""
    found = []
    for error in map(as_dict, as_list(value)):
        code = error.get("code")
        found.append(
            {
                "code": code if isinstance(code, int) else as_str(code),
                "title": as_str(error.get("title")),
                "message": as_str(error.get("message")),
                "details": as_str(as_dict(error.get("error_data")).get("details")),
                **({"href": url_fields(error["href"])["url"]} if error.get("href") else {}),
            }
        )
    return found
