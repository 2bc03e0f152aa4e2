"""Messenger (`object: page`) and Instagram (`object: instagram`) deliveries: the
`messaging`/`standby` items of direct messages, and the `changes` of Instagram comments,
live comments and mentions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from channels_meta.webhooks.events import (
    DeletionEvent,
    EditEvent,
    MessageEvent,
    ReactionEvent,
    Route,
    StatusEvent,
    Unparsed,
)
from channels_meta.webhooks.parsers import comments
from channels_meta.webhooks.parsers.common import (
    as_dict,
    as_list,
    as_str,
    at,
    rest,
    safe_links,
    url_fields,
)

# Messenger's "like" stickers: the thumbs-up button, in its three sizes.
LIKE_STICKERS = {"369239263222822", "369239343222814", "369239383222810"}

MESSAGE_FIELDS_READ = frozenset(
    {
        "mid",
        "text",
        "attachments",
        "reply_to",
        "quick_reply",
        "referral",
        "is_unsupported",
        "is_echo",
        "app_id",
        "is_deleted",
    }
)
# Items Padu deliberately does not record in the inbox (they carry no customer content).
IGNORED_ITEMS = {
    "account_linking": "account linking",
    "pass_thread_control": "a thread handover",
    "take_thread_control": "a thread handover",
    "request_thread_control": "a thread handover request",
    "app_roles": "app roles",
    "policy_enforcement": "a policy notice",
    "messaging_feedback": "customer feedback",
    "response_feedback": "response feedback",
    "game_play": "a game event",
}


def entry_events(kind: str, entry: dict) -> Iterator:
    entry_id = as_str(entry.get("id"))
    for item in [*as_list(entry.get("messaging")), *as_list(entry.get("standby"))]:
        yield from item_events(kind, entry_id, as_dict(item))
    changes = as_list(entry.get("changes"))
    if "field" in entry and "value" in entry:  # a variant with the change on the entry
        changes = [*changes, {"field": entry["field"], "value": entry["value"]}]
    for change in map(as_dict, changes):
        value = as_dict(change.get("value"))
        field = as_str(change.get("field"))
        if kind == "instagram" and field in comments.FIELDS:
            yield comments.FIELDS[field](entry_id, value, entry)
        elif "sender" in value:
            # Meta's dashboard test sends messaging events as changes.
            yield from item_events(kind, entry_id, value)
        else:
            yield Unparsed(f"Unhandled {kind} field {field!r}.")


def _party(value: object) -> tuple[str, str]:
    """(id, user_ref) of a sender or recipient: chat-plugin and checkbox users come as a
    `user_ref` without a Page-scoped id."""
    party = as_dict(value)
    return as_str(party.get("id")), as_str(party.get("user_ref"))


def _prior_ref(item: dict) -> str:
    """The user_ref a customer was first known by: on their first message after the
    business wrote to that user_ref, Meta names it in `prior_message`."""
    prior = as_dict(item.get("prior_message") or as_dict(item.get("message")).get("prior_message"))
    return as_str(prior.get("identifier"))


def item_events(kind: str, entry_id: str, item: dict) -> Iterator:
    sender, sender_ref = _party(item.get("sender"))
    recipient, recipient_ref = _party(item.get("recipient"))
    business = recipient or entry_id
    customer, customer_ref = sender or sender_ref, sender_ref or _prior_ref(item)
    when = at(item.get("timestamp"))
    message = as_dict(item.get("message"))
    route = Route(kind, business)
    for change in ("message_edit", "reaction"):
        if change in item and not as_dict(item[change]).get("mid"):
            yield _lost(kind, f"{change} without the id of its message", item)
            return
    if message:
        if message.get("is_echo"):
            route = Route(kind, sender or entry_id)
            customer, customer_ref = recipient or recipient_ref, recipient_ref
        if not as_str(message.get("mid")):
            yield _lost(kind, "message without a message id", message)
        elif message.get("is_deleted") and not (message.get("text") or message.get("attachments")):
            # Instagram reports an unsent message as the message, emptied: it changes the
            # stored one (or waits for it), never adds a blank one.
            yield DeletionEvent(
                route=route,
                customer_id=customer,
                target_external_id=as_str(message.get("mid")),
                at=when,
            )
        else:
            yield _message(route, customer, customer_ref, message, when)
    elif "message_edit" in item:
        edit = as_dict(item["message_edit"])
        if as_str(edit.get("num_edit")) == "0":
            # Seen from Instagram apps in development mode: a new message delivered as
            # its edit number 0, and no `message` event. Recorded as the message (once,
            # should the `message` event come too).
            original = {key: value for key, value in edit.items() if key != "num_edit"}
            yield _message(route, customer, customer_ref, original, when)
            return
        yield EditEvent(
            route=route,
            customer_id=customer,
            target_external_id=as_str(edit.get("mid")),
            text=as_str(edit.get("text")),
            at=when,
            extra={"num_edit": edit["num_edit"]} if "num_edit" in edit else {},
        )
    elif "delivery" in item:
        delivery = as_dict(item["delivery"])
        watermark = delivery.get("watermark")
        yield StatusEvent(
            route=route,
            customer_id=customer,
            status="delivered",
            at=when,
            external_ids=tuple(as_str(m) for m in as_list(delivery.get("mids"))),
            watermark=at(watermark) if watermark else None,
        )
    elif "read" in item:
        read = as_dict(item["read"])
        mid = as_str(read.get("mid"))
        watermark = read.get("watermark")
        yield StatusEvent(
            route=route,
            customer_id=customer,
            status="read",
            at=when,
            external_ids=(mid,) if mid else (),
            watermark=at(watermark) if watermark and not mid else None,
        )
    elif "reaction" in item:
        reaction = as_dict(item["reaction"])
        removed = reaction.get("action") == "unreact"
        yield ReactionEvent(
            route=route,
            customer_id=customer,
            target_external_id=as_str(reaction.get("mid")),
            emoji="" if removed else as_str(reaction.get("emoji") or reaction.get("reaction")),
            at=when,
        )
    elif "postback" in item:
        yield _postback(route, customer, customer_ref, as_dict(item["postback"]), item, when)
    elif "referral" in item:
        yield _referral(route, customer, customer_ref, as_dict(item["referral"]), item, when)
    elif "optin" in item:
        optin = as_dict(item["optin"])
        # A checkbox-plugin opt-in names the person by a user_ref only (no sender).
        customer = customer or as_str(optin.get("user_ref"))
        yield _optin(
            route, customer, customer_ref or as_str(optin.get("user_ref")), optin, item, when
        )
    else:
        keys = sorted(set(item) - {"sender", "recipient", "timestamp"})
        known = [IGNORED_ITEMS[key] for key in keys if key in IGNORED_ITEMS]
        if known:
            yield Unparsed(f"Not recorded: {known[0]} ({kind} {keys}).")
        else:
            yield Unparsed(f"Unhandled {kind} event {keys}.")


def _lost(kind: str, what: str, item: dict) -> Unparsed:
    return Unparsed(f"A {kind} {what} could not be stored: {safe_links(item)}"[:1000], lost=True)


def _postback(
    route: Route, customer: str, customer_ref: str, postback: dict, item: dict, when: datetime
) -> MessageEvent | Unparsed:
    if not customer:
        return _lost(route.kind, "button press without a customer id", item)
    referral = safe_links(as_dict(postback.get("referral")))
    extra: dict = {"postback_payload": as_str(postback.get("payload"))}
    if referral:
        extra["referral"] = referral
    extra.update(rest(postback, {"mid", "title", "payload", "referral"}))
    return MessageEvent(
        route=route,
        customer_id=customer,
        customer_other_id=customer_ref,
        external_id=as_str(postback.get("mid"))
        or f"postback-{customer}-{item.get('timestamp')}"[:200],
        at=when,
        text=as_str(postback.get("title")),
        extra=extra,
        referral=referral,
    )


def _system_line(
    route: Route,
    customer: str,
    customer_ref: str,
    item: dict,
    when: datetime,
    what: str,
    text: str,
    extra: dict,
    referral: dict | None = None,
) -> MessageEvent | Unparsed:
    """An event that is not a message but that staff should see in the conversation, as
    a line of its own (Meta gives it no id: it gets one from who and when)."""
    if not customer:
        return _lost(route.kind, f"{what} without a customer id", item)
    return MessageEvent(
        route=route,
        customer_id=customer,
        customer_other_id=customer_ref,
        external_id=f"{what}-{customer}-{item.get('timestamp')}"[:200],
        at=when,
        text=text,
        extra=extra,
        kind="system",
        referral=referral or {},
    )


def _referral(
    route: Route, customer: str, customer_ref: str, referral: dict, item: dict, when: datetime
) -> MessageEvent | Unparsed:
    """A customer came back to an existing thread through an ad, a link or a plugin: a
    line in the conversation, which remembers where they came from."""
    safe = safe_links(referral)
    ad = as_dict(safe.get("ads_context_data"))
    label = as_str(ad.get("ad_title") or referral.get("ref") or referral.get("source"))
    return _system_line(
        route, customer, customer_ref, item, when, "referral", label, {"referral": safe}, safe
    )


def _optin(
    route: Route, customer: str, customer_ref: str, optin: dict, item: dict, when: datetime
) -> MessageEvent | Unparsed:
    """A person opted in (the checkbox plugin, Send to Messenger, marketing messages): a
    line in their conversation, so the business sees who is waiting for a first message.
    The marketing-messages token is left out: it is a credential to send with."""
    kept = {key: value for key, value in optin.items() if not key.endswith("_token")}
    label = as_str(optin.get("title") or optin.get("ref") or optin.get("type"))
    return _system_line(
        route, customer, customer_ref, item, when, "optin", label, {"optin": safe_links(kept)}
    )


def _attachment(attachment: dict) -> dict:
    """One attachment: its type, its (safe) URL, a title, and whatever else its payload
    says (sticker id, reel id, coordinates, a template's elements)."""
    payload = as_dict(attachment.get("payload"))
    kind = as_str(attachment.get("type")) or "file"
    # A fallback (a link Meta could not render) may carry title and URL beside the payload.
    title = as_str(payload.get("title") or attachment.get("title"))
    url = payload.get("url") or attachment.get("url")
    found: dict = {"type": kind, **url_fields(url)}
    if title:
        found["title"] = title
    if kind == "location":
        coordinates = as_dict(payload.get("coordinates"))
        found.update(latitude=coordinates.get("lat"), longitude=coordinates.get("long"))
        if title:
            found["name"] = title
    sticker = as_str(payload.get("sticker_id"))
    if sticker:
        # Stickers arrive as images; the thumbs-up is Messenger's "like" button.
        found.update(type="sticker", sticker_id=sticker)
        if sticker in LIKE_STICKERS:
            found["like"] = True
    found.update(rest(payload, {"url", "title", "coordinates", "sticker_id"}, "payload"))
    found.update(rest(attachment, {"type", "payload", "url", "title"}))
    return found


def _message(
    route: Route, customer: str, customer_ref: str, message: dict, when: datetime
) -> MessageEvent | Unparsed:
    echo = bool(message.get("is_echo"))
    if not customer:
        return _lost(route.kind, "message without a customer id", message)
    if not as_str(message.get("mid")):
        return _lost(route.kind, "message without a message id", message)
    reply_to = as_dict(message.get("reply_to"))
    extra: dict = {}
    if reply_to.get("story"):
        story = as_dict(reply_to["story"])
        extra["story_reply"] = {"id": as_str(story.get("id")), **url_fields(story.get("url"))}
    if message.get("quick_reply"):
        extra["quick_reply"] = as_str(as_dict(message["quick_reply"]).get("payload"))
    referral = safe_links(as_dict(message.get("referral")))
    if referral:
        extra["referral"] = referral
    if message.get("is_unsupported"):
        extra["unsupported"] = True
    if echo and message.get("app_id"):
        extra["app_id"] = as_str(message["app_id"])
    extra.update(rest(reply_to, {"mid", "story"}, "reply_to"))
    extra.update(rest(message, MESSAGE_FIELDS_READ))
    return MessageEvent(
        route=route,
        customer_id=customer,
        customer_other_id=customer_ref,
        external_id=as_str(message.get("mid")),
        at=when,
        text=as_str(message.get("text")),
        attachments=tuple(_attachment(as_dict(a)) for a in as_list(message.get("attachments"))),
        reply_to=as_str(reply_to.get("mid")),
        extra=extra,
        is_echo=echo,
        app_id=as_str(message.get("app_id")),
        is_deleted=bool(message.get("is_deleted")),
        referral=referral,
    )
