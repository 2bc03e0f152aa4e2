"""Codes and tokens: what Meta grants for a login, longer-lived tokens for short ones,
and what Meta says of a token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.calls.base import app_token
from channels_meta.graph.calls.connect import node_get
from channels_meta.graph.client import client

# Meta's answer when it leaves out a long-lived Instagram token's lifetime (60 days).
INSTAGRAM_TOKEN_SECONDS = 5183944


@dataclass(frozen=True)
class IssuedToken:
    """A token Meta issued, with what it said about it."""

    token: str = field(repr=False)
    expires_in: int | None = None
    user_id: object = None


def _expires_in(answer: dict[str, Any]) -> int | None:
    seconds = answer.get("expires_in")
    return int(seconds) if seconds else None


@sensitive_variables()
def oauth_code_exchange(*, code: str, redirect_uri: str) -> str:
    """The token Meta grants for a Facebook Login or WhatsApp Embedded Signup code. A code
    the JavaScript SDK got (Embedded Signup's popup) was issued without a redirect URI,
    and is exchanged without one (`redirect_uri=""`)."""
    params = {
        "client_id": settings.META_APP_ID,
        "client_secret": settings.META_APP_SECRET,
        "code": code,
    }
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    return client().get(
        "oauth/access_token", params=params, secrets=(settings.META_APP_SECRET, code)
    )["access_token"]


@sensitive_variables()
def user_token_extend(*, token: str) -> str:
    """A long-lived (about 60 days) user token for a short-lived Facebook Login one."""
    return client().get(
        "oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": settings.META_APP_ID,
            "client_secret": settings.META_APP_SECRET,
            "fb_exchange_token": token,
        },
        secrets=(settings.META_APP_SECRET, token),
    )["access_token"]


@sensitive_variables()
def instagram_code_exchange(*, code: str, redirect_uri: str) -> IssuedToken:
    """The short-lived token (and the user it is for) of an Instagram Login code, asked
    as the Instagram app (its own id and secret, not the Facebook app's)."""
    answer = client().post(
        "oauth/access_token",
        host="instagram_api",
        versioned=False,
        form={
            "client_id": settings.META_INSTAGRAM_APP_ID,
            "client_secret": settings.META_INSTAGRAM_APP_SECRET,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": code,
        },
        secrets=(settings.META_INSTAGRAM_APP_SECRET, code),
    )
    # Meta has answered both {"data": [{...}]} and a flat object here.
    first = (answer.get("data") or [answer])[0]
    return IssuedToken(token=first["access_token"], user_id=first.get("user_id"))


@sensitive_variables()
def instagram_token_extend(*, token: str) -> IssuedToken:
    """A long-lived (60-day) Instagram Login token for a short-lived one."""
    answer = client().get(
        "access_token",
        host="instagram",
        versioned=False,
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": settings.META_INSTAGRAM_APP_SECRET,
            "access_token": token,
        },
        secrets=(settings.META_INSTAGRAM_APP_SECRET, token),
    )
    return IssuedToken(token=answer["access_token"], expires_in=_expires_in(answer))


@sensitive_variables()
def token_refresh(*, token: str) -> IssuedToken:
    """A fresh 60-day Instagram Login token for one that is at least a day old and
    still valid."""
    answer = client().get(
        "refresh_access_token",
        host="instagram",
        versioned=False,
        params={"grant_type": "ig_refresh_token", "access_token": token},
        secrets=(token,),
    )
    return IssuedToken(
        token=answer["access_token"],
        expires_in=int(answer.get("expires_in", INSTAGRAM_TOKEN_SECONDS)),
    )


@sensitive_variables()
def token_debug(*, token: str) -> Any:
    """What Meta says about a token (debug_token's `data`), asked as the app."""
    answer = client().get(
        "debug_token",
        token=app_token(),
        params={"input_token": token},
        secrets=(settings.META_APP_SECRET, token),
    )
    return answer.get("data")


@sensitive_variables("token")
def token_check(*, account_id: str, token: str, instagram_login: bool = False) -> None:
    """Succeeds when Meta still accepts `token` for the account; TokenInvalid when not."""
    node_get(node=account_id, token=token, fields="id", instagram_login=instagram_login)
