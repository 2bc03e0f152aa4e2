"""Graph API nodes and edges for accounts: /me, /me/accounts, a node, subscribed_apps,
WhatsApp phone numbers, registration and message templates."""

from __future__ import annotations

from urllib.parse import urlencode

from channels_meta.simulator.http import GraphFault, Request, Response, invalid_parameter, ok
from channels_meta.simulator.oauth import valid_token
from channels_meta.simulator.state import (
    DASHBOARD_FIELDS,
    INSTAGRAM_WEBHOOK_FIELDS,
    PAGE_WEBHOOK_FIELDS,
    Comment,
    SimulatorState,
    Token,
)


def token_for_asset(state: SimulatorState, request: Request, asset_id: str) -> Token:
    token = valid_token(state, request.token)
    if asset_id not in state.assets_of(token):
        raise GraphFault(
            200,
            "Permissions error: the token may not act for this object.",
            status=403,
            kind="OAuthException",
        )
    return token


def me(state: SimulatorState, request: Request) -> Response:
    token = valid_token(state, request.token)
    if token.kind == "instagram":
        account = state.instagram_accounts[token.subject_id]
        return ok(
            {
                "id": account.id,
                "user_id": account.id,
                "username": account.username,
                "name": account.name,
            }
        )
    if token.kind in {"page", "system"} and token.subject_id in state.pages:
        page = state.pages[token.subject_id]
        return ok({"id": page.id, "name": page.name})
    if token.kind == "system":
        return ok({"id": "sys" + token.subject_id, "name": "System User"})
    user = state.users[token.user_id]
    return ok({"id": user.id, "name": user.name})


def me_accounts(state: SimulatorState, request: Request) -> Response:
    """The Pages the person granted, each with a Page token (which never expires when
    made from a long-lived user token) and its linked Instagram account."""
    with state.lock:
        token = valid_token(state, request.token)
        if token.kind != "user":
            raise invalid_parameter("A user access token is required.")
        long_lived = token.expires_at is None or token.expires_at - token.issued_at > 86400
        pages = []
        for page_id in sorted(state.assets_of(token) & set(state.pages)):
            page = state.pages[page_id]
            page_token = state.new_token(
                "page", token.user_id, subject_id=page.id, scopes=token.scopes
            )
            page_token.expires_at = None if long_lived else token.expires_at
            entry = {
                "id": page.id,
                "name": page.name,
                "access_token": page_token.value,
                "category": "Local business",
                "tasks": ["MESSAGING", "MODERATE"],
            }
            if page.instagram_id:
                account = state.instagram_accounts[page.instagram_id]
                entry["instagram_business_account"] = {
                    "id": account.id,
                    "username": account.username,
                }
            pages.append(entry)
    return ok({"data": pages, "paging": {"cursors": {"before": "QVFIUjEx", "after": "QVFIUjEz"}}})


def node(state: SimulatorState, request: Request, object_id: str) -> Response:
    token_for_asset(state, request, object_id)
    if object_id in state.pages:
        page = state.pages[object_id]
        return ok({"id": page.id, "name": page.name})
    if object_id in state.instagram_accounts:
        account = state.instagram_accounts[object_id]
        return ok({"id": account.id, "username": account.username, "name": account.name})
    if object_id in state.phone_numbers:
        phone = state.phone_numbers[object_id]
        return ok(
            {
                "id": phone.id,
                "display_phone_number": phone.display_phone_number,
                "verified_name": phone.verified_name,
                "quality_rating": "GREEN",
            }
        )
    if object_id in state.wabas:
        return ok({"id": object_id, "name": state.wabas[object_id].name})
    raise GraphFault(100, f"Unsupported get request. Object with ID '{object_id}' does not exist.")


def _unsupported(object_id: str, method: str) -> GraphFault:
    return GraphFault(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation.",
        subcode=33,
    )


def _fields_of(request: Request, allowed: frozenset[str]) -> set[str]:
    fields = {f for f in request.param("subscribed_fields").split(",") if f}
    if not fields:
        raise invalid_parameter("(#100) The parameter subscribed_fields is required.")
    unknown = sorted(fields - allowed)
    if unknown:
        raise invalid_parameter(
            f"(#100) Param subscribed_fields[{unknown[0]}] must be one of "
            f"{{{', '.join(sorted(allowed))}}}"
        )
    return fields


def subscribed_apps(state: SimulatorState, request: Request, object_id: str) -> Response:
    """A Page's, a WhatsApp Business Account's or (on graph.instagram.com, with an
    Instagram Login token) an Instagram account's subscription. A Page-linked Instagram
    account has none of its own: its webhooks come through its Page's subscription, with
    the Instagram fields chosen in the App Dashboard."""
    token = token_for_asset(state, request, object_id)
    if object_id in state.instagram_accounts and token.kind != "instagram":
        raise _unsupported(object_id, request.method)
    with state.lock:
        if request.method == "GET":
            fields = sorted(state.subscriptions.get(object_id, set()))
            active = object_id in state.subscriptions
            return ok(
                {"data": [{"id": state.app_id, "subscribed_fields": fields}] if active else []}
            )
        linked = state.pages[object_id].instagram_id if object_id in state.pages else ""
        if request.method == "DELETE":
            state.subscriptions.pop(object_id, None)
            state.instagram_login_ids.discard(object_id)
            if linked and linked not in state.instagram_login_ids:
                state.subscriptions.pop(linked, None)
            return ok({"success": True})
        if object_id in state.pages:
            state.subscriptions[object_id] = _fields_of(request, PAGE_WEBHOOK_FIELDS)
            if linked and linked not in state.instagram_login_ids:
                state.subscriptions[linked] = set(DASHBOARD_FIELDS["instagram"])
        elif object_id in state.instagram_accounts:
            state.subscriptions[object_id] = _fields_of(request, INSTAGRAM_WEBHOOK_FIELDS)
            state.instagram_login_ids.add(object_id)
        elif object_id in state.wabas:
            state.subscriptions[object_id] = set(DASHBOARD_FIELDS["whatsapp_business_account"])
        else:
            raise _unsupported(object_id, request.method)
    return ok({"success": True})


def phone_numbers(state: SimulatorState, request: Request, waba_id: str) -> Response:
    token_for_asset(state, request, waba_id)
    numbers = [
        {
            "id": phone.id,
            "display_phone_number": phone.display_phone_number,
            "verified_name": phone.verified_name,
            "quality_rating": "GREEN",
        }
        for phone in state.phone_numbers.values()
        if phone.waba_id == waba_id
    ]
    return ok({"data": numbers, "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}}})


def register(state: SimulatorState, request: Request, phone_id: str) -> Response:
    token_for_asset(state, request, phone_id)
    if request.param("messaging_product") != "whatsapp":
        raise invalid_parameter("(#100) The parameter messaging_product is required.")
    pin = request.param("pin")
    if not (len(pin) == 6 and pin.isdigit()):
        raise invalid_parameter("(#100) Param pin must be a 6-digit number.")
    phone = state.phone_numbers[phone_id]
    if phone.pin and phone.pin != pin:
        raise GraphFault(133005, "Two step verification PIN Mismatch")
    phone.pin, phone.registered = pin, True
    return ok({"success": True})


def message_templates(state: SimulatorState, request: Request, waba_id: str) -> Response:
    """Paged with cursors and an absolute `next` URL, the way the Graph API pages."""
    token_for_asset(state, request, waba_id)
    templates = state.wabas[waba_id].templates
    limit = max(1, min(int(request.query.get("limit") or 2), 100))
    start = int(request.query.get("after") or 0)
    chunk = templates[start : start + limit]
    paging: dict = {"cursors": {"before": str(start), "after": str(start + len(chunk))}}
    if start + limit < len(templates):
        query = urlencode({"limit": limit, "after": start + limit, "access_token": request.token})
        paging["next"] = f"{request.base_url}/v25.0/{waba_id}/message_templates?{query}"
    data = [
        {"id": f"{waba_id}{index}", **template} for index, template in enumerate(chunk, start=start)
    ]
    return ok({"data": data, "paging": paging})


POST_CAPTIONS = [
    "Our new autumn menu is here 🍂",
    "Fresh beans from Ethiopia this week",
    "Sunday brunch, every Sunday ☕",
]


def post(state: SimulatorState, request: Request, comment: Comment) -> Response:
    """An Instagram post that customers commented on, for its account's token."""
    token_for_asset(state, request, comment.instagram_id)
    caption = POST_CAPTIONS[int(comment.media_id) % len(POST_CAPTIONS)]
    return ok(
        {
            "id": comment.media_id,
            "caption": caption,
            "media_type": "IMAGE",
            "media_product_type": "FEED",
            "permalink": f"https://www.instagram.com/p/{comment.media_id}/",
            "timestamp": "2026-11-20T09:00:00+0000",
        }
    )
