"""Meta's OAuth endpoints: code exchanges, long-lived tokens, debug_token, and removal."""

from __future__ import annotations

from channels_meta.simulator.http import GraphFault, Request, Response, invalid_parameter, ok
from channels_meta.simulator.state import (
    DAY,
    LONG_LIVED_SECONDS,
    SHORT_LIVED_SECONDS,
    SimulatorState,
    Token,
)

CODE_LIFETIME_SECONDS = 10 * 60


def _check_app(state: SimulatorState, request: Request, *, instagram: bool = False) -> None:
    """The request names the app and proves it with the secret: the Facebook app's, or
    for Instagram Login the Instagram app's (a different id and secret)."""
    app_id = state.instagram_app_id if instagram else state.app_id
    app_secret = state.instagram_app_secret if instagram else state.app_secret
    if request.param("client_id") != app_id:
        raise invalid_parameter("Error validating application. Invalid application ID.")
    if request.param("client_secret") != app_secret:
        raise GraphFault(100, "Error validating client secret.", subcode=None)


def _redeem_code(state: SimulatorState, request: Request) -> dict:
    code = request.param("code")
    grant = state.codes.get(code)
    if grant is None:
        raise invalid_parameter("Invalid verification code format.")
    if grant.get("used"):
        raise GraphFault(100, "This authorization code has been used.", subcode=36009)
    if state.clock() - grant["issued_at"] > CODE_LIFETIME_SECONDS:
        raise GraphFault(100, "This authorization code has expired.", subcode=36007)
    if request.param("redirect_uri") != grant["redirect_uri"]:
        raise GraphFault(
            100,
            "Error validating verification code. Please make sure your redirect_uri is "
            "identical to the one you used in the OAuth dialog request",
            subcode=36008,
        )
    grant["used"] = True
    return grant


def valid_token(state: SimulatorState, value: str) -> Token:
    problem = state.token_problem(value)
    if problem is not None:
        subcode, message = problem
        raise GraphFault(190, message, subcode=subcode or None)
    return state.tokens[value]


def _token_answer(token: Token) -> dict:
    answer = {"access_token": token.value, "token_type": "bearer"}
    if token.expires_at is not None:
        answer["expires_in"] = int(token.expires_at - token.issued_at)
    return answer


def facebook_access_token(state: SimulatorState, request: Request) -> Response:
    """GET /oauth/access_token: a code for a short-lived user token, or
    grant_type=fb_exchange_token for a long-lived one."""
    _check_app(state, request)
    with state.lock:
        if request.param("grant_type") == "fb_exchange_token":
            short = valid_token(state, request.param("fb_exchange_token"))
            token = state.new_token(
                "user", short.user_id, scopes=short.scopes, granted=short.granted
            )
            token.expires_at = token.issued_at + LONG_LIVED_SECONDS
            return ok(_token_answer(token))
        grant = _redeem_code(state, request)
        token = state.new_token(
            "user", grant["user_id"], scopes=grant["scopes"], granted=grant["assets"]
        )
        token.expires_at = token.issued_at + SHORT_LIVED_SECONDS
        return ok(_token_answer(token))


def instagram_access_token(state: SimulatorState, request: Request) -> Response:
    """POST api.instagram.com/oauth/access_token: a code for a short-lived Instagram token."""
    _check_app(state, request, instagram=True)
    if request.param("grant_type") != "authorization_code":
        raise invalid_parameter("Invalid grant_type.")
    with state.lock:
        grant = _redeem_code(state, request)
        account_id = next(iter(grant["assets"]), "")
        if account_id not in state.instagram_accounts:
            raise invalid_parameter("No Instagram professional account was chosen.")
        token = state.new_token(
            "instagram", grant["user_id"], subject_id=account_id, scopes=grant["scopes"]
        )
        token.expires_at = token.issued_at + 60 * 60
    return ok(
        {
            "data": [
                {
                    "access_token": token.value,
                    "user_id": account_id,
                    "permissions": ",".join(grant["scopes"]),
                }
            ]
        }
    )


def instagram_long_lived(state: SimulatorState, request: Request) -> Response:
    """GET graph.instagram.com/access_token?grant_type=ig_exchange_token."""
    if request.param("grant_type") != "ig_exchange_token":
        raise invalid_parameter("Invalid grant_type.")
    if request.param("client_secret") != state.instagram_app_secret:
        raise GraphFault(100, "Error validating client secret.")
    with state.lock:
        short = valid_token(state, request.param("access_token") or request.token)
        token = state.new_token(
            "instagram", short.user_id, subject_id=short.subject_id, scopes=short.scopes
        )
        token.expires_at = token.issued_at + LONG_LIVED_SECONDS
    return ok(_token_answer(token))


def instagram_refresh(state: SimulatorState, request: Request) -> Response:
    """GET graph.instagram.com/refresh_access_token: a token at least a day old and unexpired."""
    if request.param("grant_type") != "ig_refresh_token":
        raise invalid_parameter("Invalid grant_type.")
    with state.lock:
        old = valid_token(state, request.param("access_token") or request.token)
        if state.clock() - old.issued_at < DAY:
            raise invalid_parameter("The access token must be at least 24 hours old to refresh.")
        token = state.new_token(
            "instagram", old.user_id, subject_id=old.subject_id, scopes=old.scopes
        )
        token.expires_at = token.issued_at + LONG_LIVED_SECONDS
    return ok(_token_answer(token))


def debug_token(state: SimulatorState, request: Request) -> Response:
    """GET /debug_token?input_token=: what a token is and which assets it was granted."""
    app_token = f"{state.app_id}|{state.app_secret}"
    if request.token != app_token:
        valid_token(state, request.token)
    token = state.tokens.get(request.param("input_token"))
    if token is None:
        raise GraphFault(190, "Invalid OAuth access token - Cannot parse access token")
    assets = sorted(state.assets_of(token))
    wabas = [asset for asset in assets if asset in state.wabas]
    pages = [asset for asset in assets if asset in state.pages]
    return ok(
        {
            "data": {
                "app_id": state.app_id,
                "type": {"system": "SYSTEM_USER", "page": "PAGE"}.get(token.kind, "USER"),
                "is_valid": state.token_problem(token.value) is None,
                "issued_at": int(token.issued_at),
                "expires_at": int(token.expires_at) if token.expires_at else 0,
                "scopes": token.scopes,
                "granular_scopes": [
                    {"scope": "whatsapp_business_management", "target_ids": wabas},
                    {"scope": "whatsapp_business_messaging", "target_ids": wabas},
                    {"scope": "pages_messaging", "target_ids": pages},
                ],
                "user_id": token.user_id,
            }
        }
    )


def remove_permissions(state: SimulatorState, request: Request) -> Response:
    """DELETE /me/permissions: the person removes the app; their tokens stop working."""
    with state.lock:
        token = valid_token(state, request.token)
        if token.kind != "user":
            raise invalid_parameter("A user access token is required.")
        state.revoke_user(token.user_id)
    return ok({"success": True})


def remove_user_permissions(state: SimulatorState, request: Request, user_id: str) -> Response:
    """DELETE /{user-id}/permissions with the app token: the app revokes a person's grant."""
    if request.token != f"{state.app_id}|{state.app_secret}":
        raise GraphFault(190, "An app access token is required for this request.")
    if user_id not in state.users:
        raise invalid_parameter(f"Unknown user {user_id!r}.")
    with state.lock:
        state.revoke_user(user_id)
    return ok({"success": True})
