"""Pure functions from Meta's webhook payloads (META.md) to normalized events.

They never raise on odd input: an item they cannot read becomes `Unparsed` with the
reason, and the rest of the batch is still read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from channels_meta.webhooks import account_events
from channels_meta.webhooks.events import (
    CommentEvent,
    MessageEvent,
    ReactionEvent,
    Route,
    StatusEvent,
    Unparsed,
)

OBJECT_KINDS = {"page": "messenger", "instagram": "instagram"}


def _at(value: Any) -> datetime:
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


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def _safe_url(value: Any) -> tuple[str, str]:
    """(url, "") for an https URL with a host; ("", scheme) for anything else, so a
    `javascript:` or `data:` link never reaches a page and staff can see one was dropped."""
    url = _str(value)
    if not url:
        return "", ""
    try:
        parts = urlsplit(url)
        safe = parts.scheme == "https" and bool(parts.hostname)
    except ValueError:
        parts, safe = None, False
    if safe and not any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return url, ""
    scheme = parts.scheme if parts is not None else ""
    return "", (scheme if scheme.isalnum() else "")[:20] or "unknown"


def _url_fields(value: Any, name: str = "url") -> dict:
    """`{name: url}` when the URL is safe, else `{name: "", "dropped_<name>_scheme": ...}`."""
    safe, dropped = _safe_url(value)
    return {name: safe, **({f"dropped_{name}_scheme": dropped} if dropped else {})}


def _safe_links(value: Any) -> Any:
    """A copy of Meta's nested data with every `...url` or `...uri` field made safe."""
    if isinstance(value, list):
        return [_safe_links(item) for item in value]
    if not isinstance(value, dict):
        return value
    cleaned: dict = {}
    for key, item in value.items():
        if isinstance(key, str) and key.lower().endswith(("url", "uri")) and isinstance(item, str):
            cleaned.update(_url_fields(item, key))
        else:
            cleaned[key] = _safe_links(item)
    return cleaned


def parse(payload: Any) -> list:
    """Every event in one webhook delivery, in the order Meta listed them."""
    if not isinstance(payload, dict):
        return [Unparsed("The body is not a JSON object.")]
    object_type = _str(payload.get("object"))
    events: list = []
    for entry in _list(payload.get("entry")):
        entry = _dict(entry)
        try:
            if object_type in OBJECT_KINDS:
                events.extend(_messaging_entry(OBJECT_KINDS[object_type], entry))
            elif object_type == "whatsapp_business_account":
                events.extend(_whatsapp_entry(entry))
            else:
                events.append(Unparsed(f"Unknown object {object_type!r}."))
        except Exception as error:  # a malformed entry must not hide the others
            events.append(Unparsed(f"Unreadable entry: {type(error).__name__}: {error}"[:300]))
    if not events and not _list(payload.get("entry")):
        events.append(Unparsed("The delivery has no entries."))
    return events


# Messenger and Instagram


def _messaging_entry(kind: str, entry: dict) -> Iterator:
    entry_id = _str(entry.get("id"))
    for item in [*_list(entry.get("messaging")), *_list(entry.get("standby"))]:
        yield from _messaging_item(kind, entry_id, _dict(item))
    changes = _list(entry.get("changes"))
    if "field" in entry and "value" in entry:  # a variant with the change on the entry
        changes = [*changes, {"field": entry["field"], "value": entry["value"]}]
    for change in changes:
        change = _dict(change)
        value = _dict(change.get("value"))
        if change.get("field") == "comments" and kind == "instagram":
            yield _comment(entry_id, value, entry)
        elif "sender" in value:
            # Meta's dashboard test sends messaging events as changes.
            yield from _messaging_item(kind, entry_id, value)
        else:
            yield Unparsed(f"Unhandled {kind} field {_str(change.get('field'))!r}.")


def _messaging_item(kind: str, entry_id: str, item: dict) -> Iterator:
    sender = _str(_dict(item.get("sender")).get("id"))
    recipient = _str(_dict(item.get("recipient")).get("id"))
    at = _at(item.get("timestamp"))
    message = _dict(item.get("message"))
    if message:
        echo = bool(message.get("is_echo"))
        business, customer = (sender, recipient) if echo else (recipient or entry_id, sender)
        yield _message(kind, business or entry_id, customer, message, at, echo)
    elif "delivery" in item:
        delivery = _dict(item["delivery"])
        watermark = delivery.get("watermark")
        yield StatusEvent(
            route=Route(kind, recipient or entry_id),
            customer_id=sender,
            status="delivered",
            at=at,
            external_ids=tuple(_str(m) for m in _list(delivery.get("mids"))),
            watermark=_at(watermark) if watermark else None,
        )
    elif "read" in item:
        read = _dict(item["read"])
        mid = _str(read.get("mid"))
        watermark = read.get("watermark")
        yield StatusEvent(
            route=Route(kind, recipient or entry_id),
            customer_id=sender,
            status="read",
            at=at,
            external_ids=(mid,) if mid else (),
            watermark=_at(watermark) if watermark and not mid else None,
        )
    elif "reaction" in item:
        reaction = _dict(item["reaction"])
        removed = reaction.get("action") == "unreact"
        yield ReactionEvent(
            route=Route(kind, recipient or entry_id),
            customer_id=sender,
            target_external_id=_str(reaction.get("mid")),
            emoji="" if removed else _str(reaction.get("emoji") or reaction.get("reaction")),
            at=at,
        )
    elif "postback" in item:
        postback = _dict(item["postback"])
        yield MessageEvent(
            route=Route(kind, recipient or entry_id),
            customer_id=sender,
            external_id=_str(postback.get("mid")) or f"postback-{sender}-{item.get('timestamp')}",
            at=at,
            text=_str(postback.get("title")),
            extra={"postback_payload": _str(postback.get("payload"))},
        )
    else:
        keys = sorted(set(item) - {"sender", "recipient", "timestamp"})
        yield Unparsed(f"Unhandled {kind} event {keys}.")


def _message(
    kind: str, business: str, customer: str, message: dict, at: datetime, echo: bool
) -> MessageEvent:
    attachments = []
    for attachment in _list(message.get("attachments")):
        attachment = _dict(attachment)
        payload = _dict(attachment.get("payload"))
        attachments.append(
            {
                "type": _str(attachment.get("type")) or "file",
                **_url_fields(payload.get("url")),
                **({"title": _str(payload.get("title"))} if payload.get("title") else {}),
            }
        )
    reply_to = _dict(message.get("reply_to"))
    extra: dict = {}
    if reply_to.get("story"):
        story = _dict(reply_to["story"])
        extra["story_reply"] = {"id": _str(story.get("id")), **_url_fields(story.get("url"))}
    if message.get("quick_reply"):
        extra["quick_reply"] = _str(_dict(message["quick_reply"]).get("payload"))
    if message.get("referral"):
        extra["referral"] = _safe_links(_dict(message["referral"]))
    if message.get("is_unsupported"):
        extra["unsupported"] = True
    return MessageEvent(
        route=Route(kind, business),
        customer_id=customer,
        external_id=_str(message.get("mid")),
        at=at,
        text=_str(message.get("text")),
        attachments=tuple(attachments),
        reply_to=_str(reply_to.get("mid")),
        extra=extra,
        is_echo=echo,
        app_id=_str(message.get("app_id")),
        is_deleted=bool(message.get("is_deleted")),
    )


def _comment(account_id: str, value: dict, entry: dict) -> CommentEvent | Unparsed:
    comment_id = _str(value.get("id") or value.get("comment_id"))
    if not comment_id:
        return Unparsed("A comment without an id.")
    sender = _dict(value.get("from"))
    return CommentEvent(
        route=Route("instagram", account_id),
        comment_id=comment_id,
        media_id=_str(_dict(value.get("media")).get("id") or value.get("media_id")),
        customer_id=_str(sender.get("id")),
        username=_str(sender.get("username")),
        text=_str(value.get("text")),
        at=_at(entry.get("time")),
        parent_id=_str(value.get("parent_id")),
    )


# WhatsApp


def _whatsapp_entry(entry: dict) -> Iterator:
    waba_id = _str(entry.get("id"))
    for change in _list(entry.get("changes")):
        change = _dict(change)
        value = _dict(change.get("value"))
        field = change.get("field")
        if field == "messages":
            phone_id = _str(_dict(value.get("metadata")).get("phone_number_id"))
            yield from _whatsapp_messages(Route("whatsapp", phone_id), value)
        elif field in account_events.FIELD_PARSERS:
            yield from account_events.FIELD_PARSERS[field](waba_id, value)
        else:
            yield Unparsed(f"Unhandled WhatsApp field {_str(field)!r}.")


def _whatsapp_messages(route: Route, value: dict) -> Iterator:
    names = {
        _str(contact.get("wa_id")): _str(_dict(contact.get("profile")).get("name"))
        for contact in map(_dict, _list(value.get("contacts")))
    }
    for message in map(_dict, _list(value.get("messages"))):
        sender = _str(message.get("from"))
        at = _at(message.get("timestamp"))
        kind = _str(message.get("type"))
        if kind == "reaction":
            reaction = _dict(message.get("reaction"))
            yield ReactionEvent(
                route=route,
                customer_id=sender,
                target_external_id=_str(reaction.get("message_id")),
                emoji=_str(reaction.get("emoji")),
                at=at,
            )
            continue
        text, attachments, extra = _whatsapp_content(kind, message)
        yield MessageEvent(
            route=route,
            customer_id=sender,
            external_id=_str(message.get("id")),
            at=at,
            text=text,
            attachments=tuple(attachments),
            reply_to=_str(_dict(message.get("context")).get("id")),
            extra=extra,
            customer_name=names.get(sender, ""),
            customer_phone=sender,
        )
    for status in map(_dict, _list(value.get("statuses"))):
        errors = [_dict(error) for error in _list(status.get("errors"))]
        first = errors[0] if errors else {}
        details = _str(_dict(first.get("error_data")).get("details"))
        code = first.get("code")
        yield StatusEvent(
            route=route,
            customer_id=_str(status.get("recipient_id")),
            status=_str(status.get("status")),
            at=_at(status.get("timestamp")),
            external_ids=(_str(status.get("id")),),
            error_code=code if isinstance(code, int) else None,
            error_reason=" — ".join(filter(None, [_str(first.get("title")), details]))[:500],
        )


def _whatsapp_content(kind: str, message: dict) -> tuple[str, list, dict]:
    body = _dict(message.get(kind))
    if kind == "text":
        return _str(body.get("body")), [], {}
    if kind in {"image", "audio", "video", "document", "sticker"}:
        attachment = {
            "type": kind,
            "media_id": _str(body.get("id")),
            "mime_type": _str(body.get("mime_type")),
        }
        if body.get("filename"):
            attachment["filename"] = _str(body["filename"])
        return _str(body.get("caption")), [attachment], {}
    if kind == "location":
        location = {key: body.get(key) for key in ("latitude", "longitude", "name", "address")}
        return _str(body.get("name") or body.get("address")), [{"type": "location", **location}], {}
    if kind == "contacts":
        shared = _safe_links(_list(message.get("contacts")))
        names = [_str(_dict(_dict(c).get("name")).get("formatted_name")) for c in shared]
        return ", ".join(filter(None, names)), [{"type": "contacts", "contacts": shared}], {}
    if kind == "button":
        return _str(body.get("text")), [], {"button_payload": _str(body.get("payload"))}
    if kind == "interactive":
        reply = _dict(body.get("button_reply") or body.get("list_reply"))
        return _str(reply.get("title")), [], {"interactive_reply_id": _str(reply.get("id"))}
    return "", [], {"unsupported": kind or "unknown"}
