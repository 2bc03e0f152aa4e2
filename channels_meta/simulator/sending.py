"""The Send APIs, with Meta's rules: windows, tags, private replies, lengths and rates."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from channels_meta.simulator import uploads
from channels_meta.simulator.edges import token_for_asset
from channels_meta.simulator.http import GraphFault, Request, Response, invalid_parameter, ok
from channels_meta.simulator.state import DAY, SentMessage

if TYPE_CHECKING:
    from channels_meta.simulator.app import MetaSimulator

RETIRED_TAGS = {"CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "POST_PURCHASE_UPDATE"}
TEXT_LIMITS = {"messenger": 2000, "instagram": 1000, "whatsapp": 4096}
WINDOW_SUBCODES = {"messenger": 2018278, "instagram": 2534022}
# (calls, per seconds) per sending account; Meta's published limits.
RATES = {"messenger": (250, 1.0), "instagram": (100, 1.0), "whatsapp": (80, 1.0)}
RATE_ERRORS = {"messenger": 613, "instagram": 4, "whatsapp": 130429}
# A WhatsApp business-scoped user id: a country code, a dot, maybe `ENT.` (a parent id
# shared by a business's portfolios), then letters and digits.
BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


def check_rate(sim: MetaSimulator, kind: str, business_id: str) -> None:
    """Count a call an account makes; Meta's rate limit error when it made too many."""
    if not sim.enforce_rates:
        return
    calls, seconds = RATES[kind]
    now = sim.state.clock()
    recent = [t for t in sim.state.calls.get(business_id, []) if now - t < seconds]
    if len(recent) >= calls:
        raise GraphFault(RATE_ERRORS[kind], "Calls to this api have exceeded the rate limit.")
    recent.append(now)
    sim.state.calls[business_id] = recent


def _check_text(kind: str, text: str) -> None:
    if len(text) > TEXT_LIMITS[kind]:
        raise invalid_parameter(
            f"(#100) Length of param message[text] must be less than or equal to "
            f"{TEXT_LIMITS[kind]}"
        )


def _check_window(
    sim: MetaSimulator, kind: str, business_id: str, customer_id: str, body: dict
) -> None:
    last = sim.state.last_inbound.get((business_id, customer_id))
    age = sim.state.clock() - last if last is not None else None
    tag = body.get("tag") or ""
    if tag in RETIRED_TAGS:
        raise invalid_parameter(f"(#100) Tag {tag} is no longer supported.")
    if body.get("messaging_type") == "MESSAGE_TAG" and tag != "HUMAN_AGENT":
        raise invalid_parameter("(#100) Param tag must be HUMAN_AGENT for MESSAGE_TAG.")
    human_agent = body.get("messaging_type") == "MESSAGE_TAG" and tag == "HUMAN_AGENT"
    allowed = age is not None and (age <= DAY or (human_agent and age <= 7 * DAY))
    if not allowed:
        raise _outside_window(kind)


def _outside_window(kind: str) -> GraphFault:
    """Meta's refusal of a message outside the window: Messenger answers 400 with an
    OAuthException, Instagram 403 with an IGApiException."""
    if kind == "instagram":
        return GraphFault(
            10,
            "(#10) This message is sent outside of allowed window.",
            subcode=WINDOW_SUBCODES[kind],
            status=403,
            kind="IGApiException",
        )
    return GraphFault(
        10,
        "(#10) This message is sent outside of allowed window.",
        subcode=WINDOW_SUBCODES[kind],
        kind="OAuthException",
    )


def _private_reply(sim: MetaSimulator, account_id: str, comment_id: str) -> str:
    comment = sim.state.comments.get(comment_id)
    if comment is None or comment.instagram_id != account_id:
        raise invalid_parameter("(#100) The comment does not exist.")
    if comment.private_replied:
        raise GraphFault(
            10, "(#10) This comment has already been replied to privately.", subcode=2534023
        )
    if sim.state.clock() - comment.created_at > 7 * DAY:
        raise _outside_window("instagram")
    comment.private_replied = True
    return comment.from_id


def send_message(sim: MetaSimulator, request: Request, object_id: str) -> Response:
    state = sim.state
    token_for_asset(state, request, object_id)
    body = request.json or request.form
    with state.lock:
        if object_id in state.phone_numbers:
            return _send_whatsapp(sim, object_id, body)
        kind = "messenger" if object_id in state.pages else "instagram"
        if object_id not in state.pages and object_id not in state.instagram_accounts:
            raise invalid_parameter(f"(#100) Object with ID '{object_id}' cannot send messages.")
        check_rate(sim, kind, object_id)
        recipient = body.get("recipient") or {}
        message = body.get("message") or {}
        if not isinstance(recipient, dict) or not isinstance(message, dict):
            raise invalid_parameter("(#100) Param recipient and message must be objects.")
        text = str(message.get("text") or "")
        if bool(text) == bool(message.get("attachment")):
            raise invalid_parameter("(#100) The message must have text or an attachment.")
        _check_text(kind, text)
        echoed = []
        if message.get("attachment"):
            echoed = [
                uploads.attachment_checked(
                    state, kind, object_id, message["attachment"], base_url=sim.public_url
                )
            ]
        if kind == "instagram" and recipient.get("comment_id"):
            customer_id = _private_reply(sim, object_id, str(recipient["comment_id"]))
        elif recipient.get("id"):
            customer_id = str(recipient["id"])
            _check_window(sim, kind, object_id, customer_id, body)
        else:
            raise invalid_parameter("(#100) The parameter recipient is required.")
        mid = "m_" + state.new_id(20) if kind == "messenger" else "aWdf" + state.new_id(24)
        state.sent.append(
            SentMessage(mid, kind, object_id, customer_id, body, state.clock(), request.path)
        )
    sim.after_send(kind, object_id, customer_id, mid, text, attachments=echoed)
    return ok({"recipient_id": customer_id, "message_id": mid})


def _send_whatsapp(sim: MetaSimulator, phone_id: str, body: dict) -> Response:
    state = sim.state
    if body.get("messaging_product") != "whatsapp":
        raise invalid_parameter("(#100) The parameter messaging_product is required.")
    if body.get("status") == "read":
        return ok({"success": True})
    check_rate(sim, "whatsapp", phone_id)
    customer_id, contact = _whatsapp_recipient(body)
    kind = body.get("type", "text")
    text = ""
    if kind == "text":
        text = str((body.get("text") or {}).get("body") or "")
        if not text:
            raise invalid_parameter("(#100) Param text['body'] is required.")
        _check_text("whatsapp", text)
    elif kind == "template":
        template = body.get("template") or {}
        language = (template.get("language") or {}).get("code")
        waba = state.wabas[state.phone_numbers[phone_id].waba_id]
        if not any(
            t["name"] == template.get("name")
            and t["language"] == language
            and t["status"] == "APPROVED"
            for t in waba.templates
        ):
            raise GraphFault(132001, "(#132001) Template name does not exist in the translation")
        text = f"[template {template.get('name')}]"
    elif kind in ("image", "document", "audio", "video", "sticker"):
        uploads.whatsapp_media_checked(state, phone_id, kind, body)
    wamid = "wamid.HBgL" + state.new_id(24)
    last = state.last_inbound.get((phone_id, customer_id))
    window_open = last is not None and state.clock() - last <= DAY
    state.sent.append(
        SentMessage(
            wamid, "whatsapp", phone_id, customer_id, body, state.clock(), f"/{phone_id}/messages"
        )
    )
    sim.after_whatsapp_send(
        phone_id,
        customer_id,
        wamid,
        closed=kind != "template" and not window_open,
        by_user_id="user_id" in contact,
    )
    return ok({"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]})


def _whatsapp_recipient(body: dict) -> tuple[str, dict]:
    """Who a WhatsApp send is for, and the answer's `contacts` item: a phone number in
    `to`, or a customer known only by their username in `recipient`, their
    business-scoped user id (`to` wins when both are given)."""
    to = str(body.get("to") or "")
    if to:
        if not to.lstrip("+").isdigit():
            raise invalid_parameter("(#100) Param to must be a valid WhatsApp phone number.")
        return to.lstrip("+"), {"input": to, "wa_id": to.lstrip("+")}
    user_id = str(body.get("recipient") or "")
    if not BSUID.fullmatch(user_id):
        raise invalid_parameter(
            "(#100) Param to must be a valid WhatsApp phone number, or recipient a "
            "business-scoped user id."
        )
    return user_id, {"input": user_id, "user_id": user_id}


def reply_to_comment(sim: MetaSimulator, request: Request, comment_id: str) -> Response:
    comment = sim.state.comments.get(comment_id)
    if comment is None:
        raise invalid_parameter(f"(#100) Object with ID '{comment_id}' does not exist.")
    token_for_asset(sim.state, request, comment.instagram_id)
    message = request.param("message")
    if not message:
        raise invalid_parameter("(#100) The parameter message is required.")
    with sim.state.lock:
        reply_id = sim.state.new_id(17)
        sim.state.sent.append(
            SentMessage(
                reply_id,
                "instagram",
                comment.instagram_id,
                comment.from_id,
                request.json or request.form,
                sim.state.clock(),
                request.path,
            )
        )
    return ok({"id": reply_id})
