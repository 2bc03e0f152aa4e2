"""Webhook payloads in the shapes META.md documents, for tests."""

from __future__ import annotations

import hashlib
import hmac
import json

PAGE_ID = "106700000000001"
IG_ID = "17841400000000001"
WABA_ID = "102290000000001"
PHONE_ID = "109870000000001"
T_MS = 1_700_000_000_000


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


def messaging(object_type: str, entry_id: str, *items: dict) -> dict:
    return {
        "object": object_type,
        "entry": [{"id": entry_id, "time": T_MS, "messaging": list(items)}],
    }


def customer_message(
    business_id: str, customer: str, mid: str, text: str = "hello", at: int = T_MS, **message
) -> dict:
    return {
        "sender": {"id": customer},
        "recipient": {"id": business_id},
        "timestamp": at,
        "message": {"mid": mid, "text": text, **message},
    }


def echo(business_id: str, customer: str, mid: str, text: str = "hi", app_id: str = "") -> dict:
    message = {"mid": mid, "text": text, "is_echo": True}
    if app_id:
        message["app_id"] = app_id
    return {
        "sender": {"id": business_id},
        "recipient": {"id": customer},
        "timestamp": T_MS,
        "message": message,
    }


def whatsapp(value: dict, phone_id: str = PHONE_ID, field: str = "messages") -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": field,
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550001111",
                                "phone_number_id": phone_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def whatsapp_message(
    wa_id: str,
    wamid: str,
    kind: str = "text",
    name: str = "A Customer",
    timestamp: str = "1700000000",
    **content,
) -> dict:
    body = content or {"text": {"body": "Hi"}}
    return whatsapp(
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {"from": wa_id, "id": wamid, "timestamp": timestamp, "type": kind, **body}
            ],
        }
    )


def whatsapp_status(
    wamid: str, status: str, wa_id: str = "15550002222", timestamp: str = "1700000100", errors=None
) -> dict:
    entry = {
        "id": wamid,
        "status": status,
        "timestamp": timestamp,
        "recipient_id": wa_id,
        "pricing": {"billable": True, "category": "service"},
    }
    if errors:
        entry["errors"] = errors
    return whatsapp({"statuses": [entry]})


def comment(
    comment_id: str,
    text: str = "Price?",
    parent_id: str = "",
    from_id: str = "5550001",
    username: str = "a_customer",
) -> dict:
    value = {
        "id": comment_id,
        "from": {"id": from_id, "username": username},
        "text": text,
        "media": {"id": "18000000000000001", "media_product_type": "FEED"},
    }
    if parent_id:
        value["parent_id"] = parent_id
    return {
        "object": "instagram",
        "entry": [
            {"id": IG_ID, "time": 1700000000, "changes": [{"field": "comments", "value": value}]}
        ],
    }


def waba_change(field: str, value: dict, entry_id: str = WABA_ID, time: int = 1743451903) -> dict:
    """A WhatsApp Business Account field other than messages, as Meta's webhook reference
    shows it: no metadata, the account (or for partner events the partner's business
    portfolio) as the entry id."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": entry_id, "time": time, "changes": [{"value": value, "field": field}]}],
    }
