"""WhatsApp Business Account deliveries (`object: whatsapp_business_account`): one
function per webhook field, each reading a change's `value`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from channels_meta.webhooks.events import (
    ContactChangeEvent,
    DeletionEvent,
    EditEvent,
    MessageEvent,
    PreferenceEvent,
    ReactionEvent,
    Route,
    StatusEvent,
    Unparsed,
)
from channels_meta.webhooks.parsers import health
from channels_meta.webhooks.parsers.common import (
    as_dict,
    as_list,
    as_str,
    at,
    errors_of,
    json_or_text,
    rest,
    safe_links,
    url_fields,
)

MEDIA = {"image", "audio", "video", "document", "sticker"}
MEDIA_FIELDS_READ = frozenset(
    {"id", "mime_type", "caption", "filename", "sha256", "voice", "animated", "url"}
)
# Who sent or received a message, as Meta names them: the phone id (`from`/`to`) and,
# since the 2026 usernames rollout, the business-scoped user id (BSUID), which may come
# alone when the customer hides their number behind a username.
PARTY_FIELDS = frozenset(
    {"from", "from_user_id", "from_parent_user_id", "to", "to_user_id", "to_parent_user_id"}
)
MESSAGE_FIELDS_READ = PARTY_FIELDS | {"id", "timestamp", "type", "context", "referral", "errors"}
STATUS_FIELDS_READ = frozenset(
    {
        "id",
        "status",
        "timestamp",
        "recipient_id",
        "recipient_user_id",
        "pricing",
        "conversation",
        "biz_opaque_callback_data",
        "errors",
    }
)
CHANGED_NUMBER = {"user_changed_number", "customer_changed_number"}
CHANGED_IDENTITY = {"customer_identity_changed", "user_identity_changed"}
# A customer opening a chat for the first time: a line, not a bubble.
SYSTEM_LINES = {"request_welcome"}


def entry_events(entry: dict) -> Iterator:
    waba_id = as_str(entry.get("id"))
    for change in map(as_dict, as_list(entry.get("changes"))):
        field = as_str(change.get("field"))
        read = FIELDS.get(field)
        if read is None:
            yield Unparsed(f"Unhandled WhatsApp field {field!r}.")
        else:
            yield from read(waba_id, as_dict(change.get("value")))


def _number(value: dict) -> Route:
    return Route("whatsapp", as_str(as_dict(value.get("metadata")).get("phone_number_id")))


class _Customer:
    """Who a message is from (or, for the business's own, to), from the message and the
    change's `contacts[]`: phone id, business-scoped user id, profile name, username."""

    def __init__(self, item: dict, contacts: list[dict], outbound: bool = False) -> None:
        side = "to" if outbound else "from"
        self.phone = as_str(item.get(side))
        self.user_id = as_str(item.get(f"{side}_user_id"))
        found = _contact_for(contacts, self.phone, self.user_id)
        self.phone = self.phone or as_str(found.get("wa_id"))
        self.user_id = self.user_id or as_str(found.get("user_id"))
        profile = as_dict(found.get("profile"))
        self.name = as_str(profile.get("name"))
        self.username = as_str(profile.get("username"))
        # What else Meta says about them (identity_key_hash, country_code, parent ids).
        self.rest = rest(found, {"profile", "wa_id", "user_id"}, "contact")

    @property
    def id(self) -> str:
        return self.phone or self.user_id


def _contact_for(contacts: list[dict], phone: str, user_id: str) -> dict:
    for contact in contacts:
        if (phone and as_str(contact.get("wa_id")) == phone) or (
            user_id and as_str(contact.get("user_id")) == user_id
        ):
            return contact
    # A message that names nobody belongs to the change's only contact, if it has one.
    if not (phone or user_id) and len(contacts) == 1:
        return contacts[0]
    return {}


def _lost(what: str, item: dict) -> Unparsed:
    return Unparsed(f"A WhatsApp {what} could not be stored: {safe_links(item)}"[:1000], lost=True)


# The `messages` field: customers' messages and the statuses of the business's.


def _messages(waba_id: str, value: dict) -> Iterator:
    route = _number(value)
    contacts = [as_dict(contact) for contact in as_list(value.get("contacts"))]
    for message in map(as_dict, as_list(value.get("messages"))):
        yield from _message(route, message, contacts)
    for status in map(as_dict, as_list(value.get("statuses"))):
        yield _status(route, status)
    errors = errors_of(value.get("errors"))
    if errors:
        yield Unparsed(f"WhatsApp reported errors: {errors}"[:1000])


def _message(route: Route, message: dict, contacts: list[dict], echo: bool = False) -> Iterator:
    customer = _Customer(message, contacts, outbound=echo)
    external_id = as_str(message.get("id"))
    if not customer.id:
        yield _lost("message without a customer id", message)
        return
    if not external_id:
        yield _lost("message without a message id", message)
        return
    kind = as_str(message.get("type"))
    when = at(message.get("timestamp"))
    body = as_dict(message.get(kind))
    if kind in {"reaction", "edit", "revoke"} and not (
        body.get("message_id") or body.get("original_message_id")
    ):
        yield _lost(f"{kind} without the id of its message", message)
        return
    if kind == "reaction" and echo:
        # Message.reaction is the customer's; the business's own is only noted.
        yield Unparsed(f"Not recorded: a reaction sent from the WhatsApp Business app ({body}).")
        return
    if kind == "reaction":
        yield ReactionEvent(
            route=route,
            customer_id=customer.id,
            target_external_id=as_str(body.get("message_id")),
            emoji=as_str(body.get("emoji")),
            at=when,
        )
        return
    if kind == "edit":
        edited = as_dict(body.get("message"))
        text, attachments, extra = _content(as_str(edited.get("type")), edited)
        yield EditEvent(
            route=route,
            customer_id=customer.id,
            target_external_id=as_str(body.get("original_message_id")),
            text=text,
            at=when,
            attachments=tuple(attachments) if attachments else None,
            extra={**extra, "edit_id": external_id},
        )
        return
    if kind == "revoke":
        yield DeletionEvent(
            route=route,
            customer_id=customer.id,
            target_external_id=as_str(body.get("original_message_id")),
            at=when,
        )
        return
    if kind == "system":
        text, attachments, extra = as_str(body.get("body")), [], {"system": safe_links(body)}
    else:
        text, attachments, extra = _content(kind, message)
    extra.update(_context(message))
    referral = safe_links(as_dict(message.get("referral")))
    if referral:
        extra["referral"] = referral
    errors = errors_of(message.get("errors"))
    if errors:
        extra["errors"] = errors
    extra.update(rest(message, MESSAGE_FIELDS_READ | {kind}))
    extra.update(customer.rest)
    yield MessageEvent(
        route=route,
        customer_id=customer.id,
        customer_other_id=customer.user_id,
        external_id=external_id,
        at=when,
        text=text,
        attachments=tuple(attachments),
        reply_to=as_str(as_dict(message.get("context")).get("id")),
        extra=extra,
        is_echo=echo,
        customer_name=customer.name,
        customer_username=customer.username,
        customer_phone=customer.phone or _shared_own_number(kind, message),
        kind="system" if kind == "system" or kind in SYSTEM_LINES else "message",
        referral=referral,
    )
    if kind == "system":
        yield from _system_changes(route, customer, body, when)


def _shared_own_number(kind: str, message: dict) -> str:
    """The number a username customer shared when the business asked for it (a
    template's REQUEST_CONTACT_INFO button): a contact card with `origin`
    `contact_request`."""
    if kind != "contacts" or not as_str(message.get("origin")).startswith("contact_request"):
        return ""
    for card in map(as_dict, as_list(message.get("contacts"))):
        for phone in map(as_dict, as_list(card.get("phones"))):
            if phone.get("phone"):
                return as_str(phone["phone"])[:32]
    return ""


def _system_changes(route: Route, customer: _Customer, system: dict, when: datetime) -> Iterator:
    """What a system message changes about the customer: a new number (and with it a
    new business-scoped user id), a new identity, or their marketing preference."""
    change = as_str(system.get("type"))
    if change in CHANGED_IDENTITY:
        yield ContactChangeEvent(
            route=route,
            customer_id=customer.id,
            customer_other_id=customer.user_id,
            at=when,
            identity_changed=True,
        )
    elif change in CHANGED_NUMBER or change == "user_changed_user_id":
        yield ContactChangeEvent(
            route=route,
            customer_id=customer.id,
            customer_other_id=customer.user_id,
            at=when,
            new_customer_id=as_str(system.get("wa_id") or system.get("new_wa_id")),
            new_other_id=as_str(system.get("user_id") or system.get("new_user_id")),
        )
    elif change == "user_preference_changed" and system.get("marketing"):
        yield PreferenceEvent(
            route=route,
            customer_id=customer.id,
            customer_other_id=customer.user_id,
            category="marketing_messages",
            value=as_str(system.get("marketing")),
            at=when,
        )


def _context(message: dict) -> dict:
    """Forwarding flags, the product a customer asks about, and what else `context`
    says (the message replied to is `reply_to`)."""
    context = as_dict(message.get("context"))
    extra: dict = {}
    for flag in ("forwarded", "frequently_forwarded"):
        if context.get(flag):
            extra[flag] = True
    product = as_dict(context.get("referred_product"))
    if product:
        extra["product"] = {
            "catalog_id": as_str(product.get("catalog_id")),
            "product_retailer_id": as_str(product.get("product_retailer_id")),
        }
    read = {"id", "forwarded", "frequently_forwarded", "referred_product"}
    extra.update(rest(context, read, "context"))
    return extra


def _media(kind: str, body: dict) -> dict:
    attachment = {
        "type": kind,
        "media_id": as_str(body.get("id")),
        "mime_type": as_str(body.get("mime_type")),
    }
    if body.get("sha256"):
        attachment["sha256"] = as_str(body["sha256"])
    if body.get("filename"):
        attachment["filename"] = as_str(body["filename"])
    if kind == "audio":
        attachment["voice"] = bool(body.get("voice"))  # a voice note, not an audio file
    if kind == "sticker":
        attachment["animated"] = bool(body.get("animated"))
    if body.get("url"):
        attachment.update(url_fields(body["url"]))
    attachment.update(rest(body, MEDIA_FIELDS_READ))
    return attachment


def _content(kind: str, message: dict) -> tuple[str, list, dict]:
    """(text, attachments, extra) of a message's content, by its type."""
    body = as_dict(message.get(kind))
    if kind == "text":
        return as_str(body.get("body")), [], {}
    if kind in MEDIA:
        return as_str(body.get("caption")), [_media(kind, body)], {}
    if kind == "location":
        location = {key: body.get(key) for key in ("latitude", "longitude", "name", "address")}
        if body.get("url"):
            location.update(url_fields(body["url"]))
        return (
            as_str(body.get("name") or body.get("address")),
            [{"type": "location", **location}],
            {},
        )
    if kind == "contacts":
        shared = safe_links(as_list(message.get("contacts")))
        names = [as_str(as_dict(as_dict(c).get("name")).get("formatted_name")) for c in shared]
        return ", ".join(filter(None, names)), [{"type": "contacts", "contacts": shared}], {}
    if kind == "button":
        # A quick-reply button of a template.
        return as_str(body.get("text")), [], {"button_payload": as_str(body.get("payload"))}
    if kind == "interactive":
        return _interactive(body)
    if kind == "order":
        return as_str(body.get("text")), [], {"order": _order(body)}
    if kind in SYSTEM_LINES:
        return "", [], {kind: True}
    unread = {"unsupported_content": safe_links(body)} if body else {}
    return "", [], {"unsupported": kind or "unknown", **unread}


def _interactive(body: dict) -> tuple[str, list, dict]:
    """A customer's answer to an interactive message: a reply button, a list row, or a
    completed Flow (`nfm_reply`, its answers in `response_json`)."""
    reply_type = as_str(body.get("type"))
    if reply_type == "nfm_reply" or "nfm_reply" in body:
        flow = as_dict(body.get("nfm_reply"))
        return (
            as_str(flow.get("body")),
            [],
            {
                "flow_reply": {
                    "name": as_str(flow.get("name")),
                    "body": as_str(flow.get("body")),
                    "response": json_or_text(flow.get("response_json")),
                }
            },
        )
    reply = as_dict(body.get("button_reply") or body.get("list_reply"))
    if not reply:
        return "", [], {"interactive": safe_links(body)}
    answer = {
        "type": reply_type or ("button_reply" if "button_reply" in body else "list_reply"),
        "id": as_str(reply.get("id")),
        "title": as_str(reply.get("title")),
    }
    if reply.get("description"):
        answer["description"] = as_str(reply["description"])
    return answer["title"], [], {"interactive_reply_id": answer["id"], "interactive": answer}


def _order(body: dict) -> dict:
    items = []
    for item in map(as_dict, as_list(body.get("product_items"))):
        items.append(
            {
                "product_retailer_id": as_str(item.get("product_retailer_id")),
                "quantity": item.get("quantity"),
                "item_price": item.get("item_price"),
                "currency": as_str(item.get("currency")),
            }
        )
    order = {
        "catalog_id": as_str(body.get("catalog_id")),
        "text": as_str(body.get("text")),
        "product_items": items,
    }
    order.update(rest(body, {"catalog_id", "text", "product_items"}))
    return order


def _status(route: Route, status: dict) -> StatusEvent | Unparsed:
    external_id = as_str(status.get("id"))
    if not external_id:
        return Unparsed(f"A WhatsApp status without a message id: {safe_links(status)}"[:1000])
    errors = errors_of(status.get("errors"))
    first = errors[0] if errors else {}
    details: dict = {}
    for key in ("pricing", "conversation"):
        if status.get(key):
            details[key] = safe_links(as_dict(status[key]))
    if status.get("biz_opaque_callback_data"):
        details["biz_opaque_callback_data"] = as_str(status["biz_opaque_callback_data"])
    if errors:
        details["errors"] = errors
    details.update(rest(status, STATUS_FIELDS_READ))
    code = first.get("code")
    return StatusEvent(
        route=route,
        customer_id=as_str(status.get("recipient_id") or status.get("recipient_user_id")),
        status=as_str(status.get("status")),
        at=at(status.get("timestamp")),
        external_ids=(external_id,),
        error_code=code if isinstance(code, int) else None,
        error_reason=" — ".join(filter(None, [first.get("title"), first.get("details")]))[:500],
        details=details,
    )


# Other fields.


def _echoes(waba_id: str, value: dict) -> Iterator:
    """`smb_message_echoes`: what the business sent from the WhatsApp Business app on a
    number shared with the Cloud API (coexistence), recorded as outbound messages."""
    route = _number(value)
    contacts = [as_dict(contact) for contact in as_list(value.get("contacts"))]
    for echo in map(as_dict, as_list(value.get("message_echoes"))):
        yield from _message(route, echo, contacts, echo=True)


def _preferences(waba_id: str, value: dict) -> Iterator:
    """`user_preferences`: a customer stopped or resumed marketing messages."""
    route = _number(value)
    contacts = [as_dict(contact) for contact in as_list(value.get("contacts"))]
    for preference in map(as_dict, as_list(value.get("user_preferences"))):
        customer = _Customer(
            {"from": preference.get("wa_id"), "from_user_id": preference.get("user_id")}, contacts
        )
        category, choice = as_str(preference.get("category")), as_str(preference.get("value"))
        if not customer.id:
            yield _lost("preference without a customer id", preference)
        elif category != "marketing_messages" or choice not in {"stop", "resume"}:
            yield Unparsed(f"Not recorded: WhatsApp preference {category!r} = {choice!r}.")
        else:
            yield PreferenceEvent(
                route=route,
                customer_id=customer.id,
                customer_other_id=customer.user_id,
                customer_name=customer.name,
                category=category,
                value=choice,
                at=at(preference.get("timestamp")),
            )


# Webhook field → what reads its value.
FIELDS: dict[str, Callable[[str, dict], Iterator]] = {
    "messages": _messages,
    "smb_message_echoes": _echoes,
    "user_preferences": _preferences,
    **health.FIELDS,
}
