from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

LANGUAGE_SESSION_KEY = "language"


class UserPreferencesMiddleware:
    """Serve a signed-in person in the language and time zone of their profile; anyone
    else in the language they chose, if they did."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        # The profile's language, else one chosen in the session (never a cookie of its own).
        language = (user.language if user.is_authenticated else "") or request.session.get(
            LANGUAGE_SESSION_KEY, ""
        )
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        if user.is_authenticated:
            timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
        else:
            timezone.deactivate()
        return self.get_response(request)


class PrivatePagesMiddleware:
    """Nothing shown to a signed-in person is kept by a browser's cache or a proxy: a
    shared computer's back button must not reveal an inbox after signing out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # A view that says how its answer may be kept (members' files) has decided.
        if request.user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
