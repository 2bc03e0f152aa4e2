"""Where this browser session stands with the second factor.

After a right password, a person with two-factor authentication is not signed in: the
session holds only their id (with the page to open next) for a few minutes, until the
code step accepts a code. Nothing but the code step reads it, so it opens no page.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.two_factor import selectors

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

PENDING_KEY = "two_factor_pending_sign_in"


@dataclass(frozen=True)
class PendingSignIn:
    user: User
    backend: str
    next_url: str


def pending_sign_in_start(request: HttpRequest, *, user: User, next_url: str) -> None:
    # A new session key, so an id planted before the password step is worth nothing.
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "next": next_url,
        "expires": time.time() + settings.TWO_FACTOR_PENDING_SECONDS,
        "failures": 0,
    }


def pending_sign_in(request: HttpRequest) -> PendingSignIn | None:
    """The sign-in waiting for its code, unless it has expired or its account closed."""
    state = request.session.get(PENDING_KEY)
    if not state:
        return None
    user = None
    if state["expires"] > time.time():
        user = User.objects.filter(pk=state["user_id"], is_active=True).first()
    if user is None:
        pending_sign_in_end(request)
        return None
    return PendingSignIn(user=user, backend=state["backend"], next_url=state["next"])


def pending_sign_in_failed(request: HttpRequest) -> bool:
    """Count a wrong code; True when that was the last one allowed (the pending sign-in
    is then forgotten, and the person starts again with their password)."""
    state = request.session[PENDING_KEY]
    state["failures"] += 1
    if state["failures"] >= settings.TWO_FACTOR_MAX_ATTEMPTS:
        pending_sign_in_end(request)
        return True
    request.session[PENDING_KEY] = state
    return False


def pending_sign_in_end(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def redirect_to_second_factor(request: HttpRequest, *, next_url: str, reason: str) -> HttpResponse:
    """Send a signed-in person who has not passed a second factor in this session to the
    code step, or to set up an authenticator app when they have none; `reason` says why."""
    if selectors.user_has_two_factor(request.user):
        step = reverse("sign_in_code")
        what_to_do = _("Enter a code from your authenticator app to continue.")
    else:
        step = reverse("two_factor_set_up")
        what_to_do = _("Set up an authenticator app to continue.")
    messages.info(request, f"{reason} {what_to_do}")
    return redirect(f"{step}?{urlencode({'next': next_url})}")
