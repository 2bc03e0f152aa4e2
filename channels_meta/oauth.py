"""Connecting accounts through Meta's login dialogs.

`dialog_url` starts a flow with a `state` bound to the browser session and the
organisation (single use, ten minutes); `take_state` checks it on the way back; the
`accounts_from_*` functions exchange the code with Meta and say which accounts the
person shared, without saving anything. Which accounts those are comes only from Meta's
answers for the code, never from the browser, and every id in them is checked.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from channels_meta import vault
from channels_meta.connected import ChannelError, ConnectedAccount
from channels_meta.graph.calls import connect, tokens
from channels_meta.graph.errors import GraphError, UnsafeRequest
from channels_meta.graph.ids import node_id
from channels_meta.models import Channel, ChannelKind

logger = logging.getLogger(__name__)

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
    pin: str = field(default="", repr=False)


def _live_states(request: HttpRequest) -> dict:
    return {
        key: value
        for key, value in request.session.get(SESSION_KEY, {}).items()
        if value["created"] > time.time() - STATE_LIFETIME_SECONDS
    }


@sensitive_variables("pin")
def dialog_url(
    request: HttpRequest, *, org_slug: str, flow: str, redirect_uri: str, pin: str = ""
) -> str:
    """The Meta login dialog for `flow`, remembering a fresh state in the session (with
    the WhatsApp PIN, if any, encrypted and bound to that state, until the person comes
    back, ten minutes at most)."""
    state = secrets.token_urlsafe(32)
    states = _live_states(request)
    states[state] = {
        "org": org_slug,
        "flow": flow,
        "sealed_pin": vault.encrypt_oauth_pin(pin, state=state) if pin else "",
        "created": time.time(),
    }
    request.session[SESSION_KEY] = states
    params = {
        "client_id": settings.META_APP_ID,
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
    }
    if flow == "instagram":
        params["client_id"] = settings.META_INSTAGRAM_APP_ID
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


@sensitive_variables("pin")
def take_state(request: HttpRequest, state: str) -> OAuthState:
    """What a returning `state` was made for. A state works once, within ten minutes,
    in the browser session that started the flow; once taken, its PIN (and any expired
    state's) is gone from the session, whatever happens next."""
    states = _live_states(request)
    entry = states.pop(state, None) if state else None
    request.session[SESSION_KEY] = states
    # Saved at once, not with the response: a connection that fails with an error page
    # must not leave the PIN behind.
    request.session.save()
    refused = ChannelError(
        _("That sign-in with Meta could not be verified or took too long. Please start again.")
    )
    if entry is None:
        raise refused
    pin = ""
    if entry.get("sealed_pin"):
        try:
            pin = vault.decrypt_oauth_pin(entry["sealed_pin"], state=state)
        except vault.VaultError:
            raise refused from None
    return OAuthState(org_slug=entry["org"], flow=entry["flow"], pin=pin)


def _expiry(seconds: int | None):
    return timezone.now() + timedelta(seconds=seconds) if seconds else None


def _answered_id(value: object, *, what: str) -> str:
    """An id from Meta's answer, checked before it names anything Padu stores or calls."""
    try:
        return node_id(value)
    except UnsafeRequest:
        raise ChannelError(
            _("Meta answered with an invalid %(what)s id, so nothing was connected.")
            % {"what": what}
        ) from None


@sensitive_variables()
def accounts_from_facebook_login(*, code: str, redirect_uri: str) -> list[ConnectedAccount]:
    """The Pages the person shared, and the Instagram accounts linked to them, each with
    its Page token (which does not expire, being made from a long-lived user token)."""
    short = tokens.oauth_code_exchange(code=code, redirect_uri=redirect_uri)
    user_token = tokens.user_token_extend(token=short)
    me = connect.me_get(token=user_token, fields="id")
    meta_user_id = _answered_id(me.get("id"), what=_("user"))
    accounts = []
    for page in connect.pages_list(user_token=user_token):
        page_token = page["access_token"]
        accounts.append(
            ConnectedAccount(
                kind=ChannelKind.MESSENGER,
                external_id=_answered_id(page.get("id"), what=_("Page")),
                name=page.get("name", ""),
                token=page_token,
                scopes=FACEBOOK_SCOPES,
                meta_user_id=meta_user_id,
            )
        )
        page_id = accounts[-1].external_id
        linked = page.get("instagram_business_account") or {}
        if linked.get("id"):
            username = linked.get("username", "")
            accounts.append(
                ConnectedAccount(
                    kind=ChannelKind.INSTAGRAM,
                    external_id=_answered_id(linked["id"], what=_("Instagram account")),
                    page_id=page_id,
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


@sensitive_variables()
def accounts_from_instagram_login(*, code: str, redirect_uri: str) -> list[ConnectedAccount]:
    """The Instagram professional account, with a long-lived (60-day) token."""
    short = tokens.instagram_code_exchange(code=code, redirect_uri=redirect_uri)
    long_lived = tokens.instagram_token_extend(token=short.token)
    token = long_lived.token
    me = connect.me_get(token=token, fields="user_id,username,name", instagram_login=True)
    username = me.get("username", "")
    login_user_id = short.user_id
    return [
        ConnectedAccount(
            kind=ChannelKind.INSTAGRAM,
            external_id=_answered_id(
                me.get("user_id") or login_user_id, what=_("Instagram account")
            ),
            name=me.get("name") or username,
            handle=f"@{username}" if username else "",
            token=token,
            token_expires_at=_expiry(long_lived.expires_in),
            scopes=INSTAGRAM_SCOPES,
            meta_user_id=_answered_id(login_user_id, what=_("user")) if login_user_id else "",
            uses_instagram_login=True,
        )
    ]


@sensitive_variables()
def _token_grant(token: str) -> dict:
    """What Meta says about a token Padu was just given (debug_token), once it has
    confirmed that the token is valid and was issued to this app."""
    grant = tokens.token_debug(token=token)
    if (
        not isinstance(grant, dict)
        or not settings.META_APP_ID
        or str(grant.get("app_id", "")) != settings.META_APP_ID
        or grant.get("is_valid") is not True
    ):
        raise ChannelError(
            _("Meta did not confirm this sign-in as one for Padu, so nothing was connected.")
        )
    return grant


def _granted_wabas(grant: dict, scope: str = "whatsapp_business_management") -> list[str]:
    """The WhatsApp Business Accounts a token was granted `scope` on, from debug_token's
    granular scopes."""
    waba_ids = []
    for entry in grant.get("granular_scopes") or []:
        if isinstance(entry, dict) and entry.get("scope") == scope:
            waba_ids.extend(
                _answered_id(target, what=_("WhatsApp Business Account"))
                for target in entry.get("target_ids") or []
            )
    return list(dict.fromkeys(waba_ids))


def _scoped_to(grant: dict, scope: str) -> bool:
    return any(
        isinstance(entry, dict) and entry.get("scope") == scope
        for entry in grant.get("granular_scopes") or []
    )


@sensitive_variables("token")
def _numbers_of(
    waba_id: str, *, token: str, meta_user_id: str, only: str = ""
) -> list[ConnectedAccount]:
    """The phone numbers Meta lists under a WhatsApp Business Account (or only `only`)."""
    accounts = []
    for item in connect.phone_numbers_list(waba_id=waba_id, token=token):
        number = item if isinstance(item, dict) else {}
        phone_number_id = _answered_id(number.get("id"), what=_("phone number"))
        if only and phone_number_id != only:
            continue
        accounts.append(
            ConnectedAccount(
                kind=ChannelKind.WHATSAPP,
                external_id=phone_number_id,
                waba_id=waba_id,
                name=number.get("verified_name") or number.get("display_phone_number", ""),
                handle=number.get("display_phone_number", ""),
                token=token,
                scopes=WHATSAPP_SCOPES,
                meta_user_id=meta_user_id,
            )
        )
    return accounts


def _grant_user(grant: dict) -> str:
    user_id = grant.get("user_id")
    return _answered_id(user_id, what=_("user")) if user_id else ""


@sensitive_variables()
def accounts_from_whatsapp_signup(*, code: str, redirect_uri: str) -> list[ConnectedAccount]:
    """Every phone number of the WhatsApp Business Accounts Meta says this code's token
    was granted (debug_token's granular scopes). Nothing the browser sends names an
    account."""
    token = tokens.oauth_code_exchange(code=code, redirect_uri=redirect_uri)
    grant = _token_grant(token)
    meta_user_id = _grant_user(grant)
    accounts = [
        account
        for waba_id in _granted_wabas(grant)
        for account in _numbers_of(waba_id, token=token, meta_user_id=meta_user_id)
    ]
    if not accounts:
        raise ChannelError(_("No WhatsApp number was shared with Padu."))
    return accounts


@sensitive_variables()
def accounts_from_whatsapp_session(
    *, code: str, waba_id: str, phone_number_id: str
) -> list[ConnectedAccount]:
    """The number the business chose in Embedded Signup (the popup's session info names
    it and its WhatsApp Business Account), once Meta confirms both: the account must be
    among those the code's token was granted (debug_token's granular scopes, for managing
    and, when Meta lists that scope, for messaging), and the number must be one Meta
    lists under it. The ids come from the browser, so they are only ever compared."""
    waba_id, phone_number_id = _given_id(waba_id), _given_id(phone_number_id)
    # A code from the JavaScript SDK was issued without a redirect URI.
    token = tokens.oauth_code_exchange(code=code, redirect_uri="")
    grant = _token_grant(token)
    granted = set(_granted_wabas(grant))
    if _scoped_to(grant, "whatsapp_business_messaging"):
        granted &= set(_granted_wabas(grant, "whatsapp_business_messaging"))
    if waba_id not in granted:
        raise ChannelError(
            _(
                "Meta did not grant Padu the WhatsApp Business Account %(waba)s in this "
                "sign-in, so nothing was connected."
            )
            % {"waba": waba_id}
        )
    accounts = _numbers_of(
        waba_id, token=token, meta_user_id=_grant_user(grant), only=phone_number_id
    )
    if not accounts:
        raise ChannelError(
            _(
                "Meta does not list the number %(id)s under the WhatsApp Business Account "
                "%(waba)s, so nothing was connected."
            )
            % {"id": phone_number_id, "waba": waba_id}
        )
    return accounts


@sensitive_variables("pin", "accounts")
def whatsapp_numbers_register(
    accounts: list[ConnectedAccount], *, pin: str
) -> tuple[list[ConnectedAccount], list[str]]:
    """Register each number for the Cloud API with the business's two-step verification
    PIN. Returns the numbers Meta registered, and what it said about the others: one
    number Meta refuses does not keep the others from being connected."""
    registered, problems = [], []
    for account in accounts:
        try:
            connect.phone_number_register(
                phone_number_id=account.external_id, token=account.token, pin=pin
            )
        except GraphError as error:
            logger.warning("Registering number %s failed: %s", account.external_id, error)
            problems.append(
                _("Meta could not register %(number)s for the Cloud API. %(error)s")
                % {"number": account.handle or account.external_id, "error": error.explain()}
            )
        else:
            registered.append(account)
    return registered, problems


def reconnect_flow(channel: Channel) -> str | None:
    """The login flow that reconnects `channel`; None for a WhatsApp number connected
    with a pasted token, which is reconnected on the manual form."""
    if channel.kind == ChannelKind.WHATSAPP and not channel.meta_user_id:
        return None
    return {
        ChannelKind.MESSENGER: "facebook",
        ChannelKind.WHATSAPP: "whatsapp",
        ChannelKind.INSTAGRAM: "instagram" if channel.uses_instagram_login else "facebook",
    }[channel.kind]


def error_from_callback(query: dict) -> str | None:
    """What to tell the person when Meta sent them back without a code."""
    if query.get("code"):
        return None
    if query.get("error_reason") == "user_denied" or query.get("error") == "access_denied":
        return _("You cancelled the connection at Meta, so nothing was connected.")
    return _("Meta did not complete the connection (%(reason)s). Nothing was connected.") % {
        "reason": query.get("error_description") or query.get("error") or _("no code returned")
    }


def _given_id(value: str) -> str:
    try:
        return node_id(value)
    except UnsafeRequest:
        raise ChannelError(
            _("%(id)s is not a Meta id: Meta's ids are digits only.") % {"id": value}
        ) from None


@sensitive_variables("token")
def account_from_token(
    *, kind: str, external_id: str, token: str, waba_id: str = ""
) -> ConnectedAccount:
    """Check a pasted token (a system-user token, usually) against Meta: it must be able
    to read the account it is for, and a WhatsApp number must be one Meta lists under
    the given WhatsApp Business Account."""
    external_id = _given_id(external_id)
    whatsapp = kind == ChannelKind.WHATSAPP
    if whatsapp and not waba_id:
        raise ChannelError(_("A WhatsApp number needs its WhatsApp Business Account id."))
    waba_id = _given_id(waba_id) if whatsapp else ""
    fields = "id,display_phone_number,verified_name" if whatsapp else "id,name,username"
    try:
        node = connect.node_get(node=external_id, token=token, fields=fields)
    except GraphError as error:
        logger.warning("A pasted token for %s was refused: %s", external_id, error)
        raise ChannelError(
            _("Meta did not accept this token for %(id)s. %(error)s")
            % {"id": external_id, "error": error.explain()}
        ) from None
    if str(node.get("id", "")) != external_id:
        raise ChannelError(
            _("Meta answered for another account than %(id)s, so nothing was connected.")
            % {"id": external_id}
        )
    if whatsapp:
        _check_number_of_waba(external_id=external_id, waba_id=waba_id, token=token)
    username = node.get("username", "")
    return ConnectedAccount(
        kind=kind,
        external_id=external_id,
        waba_id=waba_id,
        name=node.get("verified_name") or node.get("name") or username or external_id,
        handle=node.get("display_phone_number") or (f"@{username}" if username else ""),
        token=token,
    )


@sensitive_variables("token")
def _check_number_of_waba(*, external_id: str, waba_id: str, token: str) -> None:
    try:
        numbers = connect.phone_numbers_list(waba_id=waba_id, token=token)
        listed = {str(number.get("id", "")) for number in numbers if isinstance(number, dict)}
    except GraphError as error:
        logger.warning("Listing the numbers of %s failed: %s", waba_id, error)
        raise ChannelError(
            _("Meta did not let this token list the numbers of %(waba)s. %(error)s")
            % {"waba": waba_id, "error": error.explain()}
        ) from None
    if external_id not in listed:
        raise ChannelError(
            _(
                "Meta does not list the number %(id)s under the WhatsApp Business Account "
                "%(waba)s, so nothing was connected."
            )
            % {"id": external_id, "waba": waba_id}
        )
