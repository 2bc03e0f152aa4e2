"""Meta's webhook deliveries take a short way through Django."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from channels_meta.webhooks.endpoint import meta_webhook


class WebhookShortcutMiddleware:
    """Sends Meta's deliveries straight to their endpoint, past the middleware below it,
    which serves people in browsers (sessions, language, CSRF, sign-in, the access log,
    CSP). A machine's signed POST needs none of that, and Meta judges a receiver by how
    fast it answers. The host is still checked against ALLOWED_HOSTS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.webhook_path = reverse("meta_webhook")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != self.webhook_path:
            return self.get_response(request)
        request.get_host()
        return meta_webhook(request)
