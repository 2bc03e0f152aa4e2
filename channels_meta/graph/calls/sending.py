"""Messages to customers: texts from a Page or an Instagram account, answers to
comments, texts and templates from a WhatsApp number, and Meta's receipt for each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.calls.base import host, node_path, take
from channels_meta.graph.client import client

# A WhatsApp business-scoped user id (BSUID): a country code, a dot, maybe `ENT.` (a
# parent BSUID shared by a business's portfolios), then letters and digits.
BSUID_PATTERN = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


@dataclass(frozen=True)
class Sent:
    """Meta's receipt for a message it accepted."""

    message_id: str
    recipient_id: str


@sensitive_variables("token")
def _send_from_account(
    *, kind: str, account_id: str, token: str, instagram_login: bool, body: dict[str, Any]
) -> Sent:
    answer = client().post(
        node_path(account_id, "messages"),
        token=token,
        host=host(instagram_login and kind == "instagram"),
        json_body=body,
    )
    return Sent(
        message_id=str(answer.get("message_id", "")),
        recipient_id=str(answer.get("recipient_id", "")),
    )


@sensitive_variables("token")
def account_message_send(
    *,
    kind: str,
    account_id: str,
    token: str,
    recipient_id: str,
    message: dict[str, Any],
    instagram_login: bool,
    tag: str,
) -> Sent:
    """Send `message` (Meta's message object) from a Page or an Instagram account to a
    person: a response, or with a `tag` a tagged message."""
    take((kind, account_id))
    body: dict[str, Any] = {
        "recipient": {"id": recipient_id},
        "messaging_type": "MESSAGE_TAG" if tag else "RESPONSE",
        "message": message,
    }
    if tag:
        body["tag"] = tag
    return _send_from_account(
        kind=kind, account_id=account_id, token=token, instagram_login=instagram_login, body=body
    )


@sensitive_variables("token")
def message_send(
    *,
    kind: str,
    account_id: str,
    token: str,
    recipient_id: str,
    text: str,
    instagram_login: bool = False,
    tag: str = "",
) -> Sent:
    """Send a text from a Page (Messenger) or an Instagram account to a person. With a
    `tag` (HUMAN_AGENT) it is a tagged message, allowed up to 7 days after theirs."""
    return account_message_send(
        kind=kind,
        account_id=account_id,
        token=token,
        recipient_id=recipient_id,
        message={"text": text},
        instagram_login=instagram_login,
        tag=tag,
    )


@sensitive_variables("token")
def private_reply_send(
    *,
    kind: str,
    account_id: str,
    token: str,
    comment_id: str,
    text: str,
    instagram_login: bool = False,
) -> Sent:
    """Answer a comment with a direct message to its author (once per comment, within
    7 days of it)."""
    take((kind, account_id), ("instagram_private_reply", account_id))
    body = {"recipient": {"comment_id": comment_id}, "message": {"text": text}}
    return _send_from_account(
        kind=kind, account_id=account_id, token=token, instagram_login=instagram_login, body=body
    )


@sensitive_variables("token")
def comment_reply_send(*, comment_id: str, token: str, text: str, instagram_login: bool) -> Sent:
    """Answer an Instagram comment publicly, under it."""
    answer = client().post(
        node_path(comment_id, "replies"),
        token=token,
        host=host(instagram_login),
        json_body={"message": text},
    )
    return Sent(message_id=str(answer.get("id", "")), recipient_id="")


@sensitive_variables("token")
def whatsapp_send(*, phone_number_id: str, token: str, to: str, content: dict[str, Any]) -> Sent:
    """Send to `to`, a phone id or, for a customer known only by their username, a
    business-scoped user id: Meta takes those in `recipient` (`to` would win over it)."""
    take(("whatsapp", phone_number_id), ("whatsapp_recipient", f"{phone_number_id}:{to}"))
    address = "recipient" if BSUID_PATTERN.fullmatch(to) else "to"
    answer = client().post(
        node_path(phone_number_id, "messages"),
        token=token,
        json_body={
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            address: to,
            **content,
        },
    )
    messages = answer.get("messages") or [{}]
    contacts = answer.get("contacts") or [{}]
    return Sent(
        message_id=str(messages[0].get("id", "")),
        recipient_id=str(contacts[0].get("wa_id") or contacts[0].get("user_id") or to),
    )


@sensitive_variables("token")
def whatsapp_text_send(
    *, phone_number_id: str, token: str, to: str, text: str, reply_to: str = ""
) -> Sent:
    """Send a free-form text from a WhatsApp number (within 24 hours of the customer's
    last message), optionally as a reply to one of theirs."""
    content: dict[str, Any] = {"type": "text", "text": {"body": text, "preview_url": False}}
    if reply_to:
        content["context"] = {"message_id": reply_to}
    return whatsapp_send(phone_number_id=phone_number_id, token=token, to=to, content=content)


@sensitive_variables("token")
def whatsapp_template_send(
    *,
    phone_number_id: str,
    token: str,
    to: str,
    name: str,
    language: str,
    components: list[dict[str, Any]] | None = None,
) -> Sent:
    """Send an approved message template from a WhatsApp number (allowed at any time)."""
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components:
        template["components"] = components
    return whatsapp_send(
        phone_number_id=phone_number_id,
        token=token,
        to=to,
        content={"type": "template", "template": template},
    )
