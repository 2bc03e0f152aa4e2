"""Connecting accounts through Meta's login dialogs.

`dialog_url` starts a flow with a `state` bound to the browser session and the
organisation (single use, ten minutes); `take_state` checks it on the way back; the
`accounts_from_*` functions exchange the code with Meta and say which accounts the
person shared, without saving anything.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_meta import graph
from channels_meta.models import ChannelKind
from channels_meta.services import ChannelError, ConnectedAccount

STATE_LIFETIME_SECONDS = 10 * 60
SESSION_KEY = "meta_oauth_states"
FLOWS = ("facebook", "instagram", "whatsapp")
FACEBOOK_SCOPES = [
    "pages_show_list",
    "pages_messaging",
    "pages_manage_metadata",
    "business_management",
    "instagram_basic",
    "instagram_manage_messages",
    "instagram_manage_comments",
]
INSTAGRAM_SCOPES = [
    "instagram_business_basic",
    "instagram_business_manage_messages",
    "instagram_business_manage_comments",
]
WHATSAPP_SCOPES = [
    "whatsapp_business_management",
    "whatsapp_business_messaging",
    "business_management",
]


@dataclass(frozen=True)
class OAuthState:
    org_slug: str
    flow: str
    # WhatsApp's two-step verification PIN, to register the shared numbers with.
    pin: str = ""


def dialog_url(
    request: HttpRequest, *, org_slug: str, flow: str, redirect_uri: str, pin: str = ""
) -> str:
    """The Meta login dialog for `flow`, remembering a fresh state in the session (with
    the WhatsApp PIN, if any, until the person comes back, ten minutes at most)."""
    state = secrets.token_urlsafe(32)
    states = {
        key: value
        for key, value in request.session.get(SESSION_KEY, {}).items()
        if value["created"] > time.time() - STATE_LIFETIME_SECONDS
    }
    states[state] = {"org": org_slug, "flow": flow, "pin": pin, "created": time.time()}
    request.session[SESSION_KEY] = states
    params = {
        "client_id": settings.META_APP_ID,
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
    }
    if flow == "instagram":
        params["scope"] = ",".join(INSTAGRAM_SCOPES)
        return f"{settings.META_INSTAGRAM_AUTHORIZE_URL}?{urlencode(params)}"
    if flow == "whatsapp":
        params["scope"] = ",".join(WHATSAPP_SCOPES)
        if settings.META_WHATSAPP_CONFIG_ID:
            params["config_id"] = settings.META_WHATSAPP_CONFIG_ID
            params["override_default_response_type"] = "true"
        params["extras"] = '{"sessionInfoVersion":"3","featureType":"whatsapp_embedded_signup"}'
    else:
        params["scope"] = ",".join(FACEBOOK_SCOPES)
        if settings.META_LOGIN_CONFIG_ID:
            params["config_id"] = settings.META_LOGIN_CONFIG_ID
    version = settings.META_GRAPH_VERSION
    return f"{settings.META_DIALOG_URL}/{version}/dialog/oauth?{urlencode(params)}"


def take_state(request: HttpRequest, state: str) -> OAuthState:
    """What a returning `state` was made for. A state works once, within ten minutes,
    in the browser session that started the flow."""
    states = request.session.get(SESSION_KEY, {})
    entry = states.pop(state, None) if state else None
    request.session[SESSION_KEY] = states
    if entry is None or entry["created"] <= time.time() - STATE_LIFETIME_SECONDS:
        raise ChannelError(
            _("That sign-in with Meta could not be verified or took too long. Please start again.")
        )
    return OAuthState(org_slug=entry["org"], flow=entry["flow"], pin=entry.get("pin", ""))


def _expiry(answer: dict):
    seconds = answer.get("expires_in")
    return timezone.now() + timedelta(seconds=int(seconds)) if seconds else None


def _redeem_code(code: str, redirect_uri: str) -> str:
    """Exchange a login dialog's code for the token Meta grants with it."""
    return graph.client().get(
        "oauth/access_token",
        params={
            "client_id": settings.META_APP_ID,
            "client_secret": settings.META_APP_SECRET,
            "redirect_uri": redirect_uri,
            "code": code,
        },
        secrets=(settings.META_APP_SECRET, code),
    )["access_token"]


def _exchange_facebook_code(code: str, redirect_uri: str) -> str:
    """A long-lived user token (about 60 days) from a Facebook Login code."""
    short = _redeem_code(code, redirect_uri)
    return graph.client().get(
        "oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": settings.META_APP_ID,
            "client_secret": settings.META_APP_SECRET,
            "fb_exchange_token": short,
        },
        secrets=(settings.META_APP_SECRET, short),
    )["access_token"]


def accounts_from_facebook_login(*, code: str, redirect_uri: str) -> list[ConnectedAccount]:
    """The Pages the person shared, and the Instagram accounts linked to them, each with
    its Page token (which does not expire, being made from a long-lived user token)."""
    client = graph.client()
    user_token = _exchange_facebook_code(code, redirect_uri)
    meta_user_id = client.get("me", token=user_token, params={"fields": "id"})["id"]
    fields = "id,name,access_token,instagram_business_account{id,username}"
    accounts = []
    for page in client.paginate("me/accounts", token=user_token, params={"fields": fields}):
        page_token = page["access_token"]
        accounts.append(
            ConnectedAccount(
                kind=ChannelKind.MESSENGER,
                external_id=str(page["id"]),
                name=page.get("name", ""),
                token=page_token,
                scopes=FACEBOOK_SCOPES,
                meta_user_id=meta_user_id,
            )
        )
        linked = page.get("instagram_business_account") or {}
        if linked.get("id"):
            username = linked.get("username", "")
            accounts.append(
                ConnectedAccount(
                    kind=ChannelKind.INSTAGRAM,
                    external_id=str(linked["id"]),
                    name=username or page.get("name", ""),
                    handle=f"@{username}" if username else "",
                    token=page_token,
                    scopes=FACEBOOK_SCOPES,
                    meta_user_id=meta_user_id,
                )
            )
    if not accounts:
        raise ChannelError(_("No Facebook Page was shared with Padu. Choose at least one Page."))
    return accounts


def accounts_from_instagram_login(*, code: str, redirect_uri: str) -> list[ConnectedAccount]:
    """The Instagram professional account, with a long-lived (60-day) token."""
    client = graph.client()
    answer = client.post(
        "oauth/access_token",
        host="instagram_api",
        versioned=False,
        form={
            "client_id": settings.META_APP_ID,
            "client_secret": settings.META_APP_SECRET,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": code,
        },
        secrets=(settings.META_APP_SECRET, code),
    )
    # Meta has answered both {"data": [{...}]} and a flat object here.
    first = (answer.get("data") or [answer])[0]
    long_lived = client.get(
        "access_token",
        host="instagram",
        versioned=False,
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": settings.META_APP_SECRET,
            "access_token": first["access_token"],
        },
        secrets=(settings.META_APP_SECRET, first["access_token"]),
    )
    token = long_lived["access_token"]
    me = client.get("me", token=token, host="instagram", params={"fields": "user_id,username,name"})
    username = me.get("username", "")
    return [
        ConnectedAccount(
            kind=ChannelKind.INSTAGRAM,
            external_id=str(me.get("user_id") or first["user_id"]),
            name=me.get("name") or username,
            handle=f"@{username}" if username else "",
            token=token,
            token_expires_at=_expiry(long_lived),
            scopes=INSTAGRAM_SCOPES,
            meta_user_id=str(first.get("user_id", "")),
            uses_instagram_login=True,
        )
    ]


def accounts_from_whatsapp_signup(
    *, code: str, redirect_uri: str, waba_id: str = "", pin: str = ""
) -> list[ConnectedAccount]:
    """Every phone number of the WhatsApp Business Accounts shared in Embedded Signup,
    registered for the Cloud API with `pin` when one is given. The accounts come from
    the page's session info when it has them, else from debug_token's granular scopes."""
    client = graph.client()
    token = _redeem_code(code, redirect_uri)
    waba_ids = [waba_id] if waba_id else []
    if not waba_ids:
        debug = client.get(
            "debug_token",
            token=f"{settings.META_APP_ID}|{settings.META_APP_SECRET}",
            params={"input_token": token},
            secrets=(settings.META_APP_SECRET, token),
        ).get("data", {})
        for scope in debug.get("granular_scopes") or []:
            if scope.get("scope") == "whatsapp_business_management":
                waba_ids.extend(str(target) for target in scope.get("target_ids") or [])
        meta_user_id = str(debug.get("user_id", ""))
    else:
        meta_user_id = ""
    accounts = []
    for waba in dict.fromkeys(waba_ids):
        for number in client.paginate(f"{waba}/phone_numbers", token=token):
            accounts.append(
                ConnectedAccount(
                    kind=ChannelKind.WHATSAPP,
                    external_id=str(number["id"]),
                    waba_id=waba,
                    name=number.get("verified_name") or number.get("display_phone_number", ""),
                    handle=number.get("display_phone_number", ""),
                    token=token,
                    scopes=WHATSAPP_SCOPES,
                    meta_user_id=meta_user_id,
                )
            )
    if not accounts:
        raise ChannelError(_("No WhatsApp number was shared with Padu."))
    for account in accounts if pin else []:
        _register_number(account, pin)
    return accounts


def _register_number(account: ConnectedAccount, pin: str) -> None:
    try:
        graph.client().post(
            f"{account.external_id}/register",
            token=account.token,
            json_body={"messaging_product": "whatsapp", "pin": pin},
            secrets=(pin,),
        )
    except graph.GraphError as error:
        raise ChannelError(
            _("Meta could not register %(number)s for the Cloud API: %(error)s")
            % {"number": account.handle or account.external_id, "error": error}
        ) from None


def error_from_callback(query: dict) -> str | None:
    """What to tell the person when Meta sent them back without a code."""
    if query.get("code"):
        return None
    if query.get("error_reason") == "user_denied" or query.get("error") == "access_denied":
        return _("You cancelled the connection at Meta, so nothing was connected.")
    return _("Meta did not complete the connection (%(reason)s). Nothing was connected.") % {
        "reason": query.get("error_description") or query.get("error") or _("no code returned")
    }


def account_from_token(
    *, kind: str, external_id: str, token: str, waba_id: str = ""
) -> ConnectedAccount:
    """Check a pasted token (a system-user token, usually) against Meta: it must be able
    to read the account it is for."""
    fields = (
        "id,display_phone_number,verified_name"
        if kind == ChannelKind.WHATSAPP
        else ("id,name,username")
    )
    try:
        node = graph.client().get(external_id, token=token, params={"fields": fields})
    except graph.GraphError as error:
        raise ChannelError(
            _("Meta did not accept this token for %(id)s: %(error)s")
            % {"id": external_id, "error": error}
        ) from None
    username = node.get("username", "")
    return ConnectedAccount(
        kind=kind,
        external_id=external_id,
        waba_id=waba_id,
        name=node.get("verified_name") or node.get("name") or username or external_id,
        handle=node.get("display_phone_number") or (f"@{username}" if username else ""),
        token=token,
    )
