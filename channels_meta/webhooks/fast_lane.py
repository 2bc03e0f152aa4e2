"""Meta's deliveries take a short way through Django."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from channels_meta.webhooks.endpoint import meta_webhook


def _checked_host_webhook(request: HttpRequest) -> HttpResponse:
    request.get_host()  # ALLOWED_HOSTS applies here too
    return meta_webhook(request)


class WebhookFastLaneHandler(WSGIHandler):
    """Django's WSGI handler, except for Meta's deliveries: a POST to the webhook URL
    goes straight to its view, past the URL resolver, the request signals and the
    middleware, which serves people in browsers (sessions, language, CSRF, sign-in, the
    access log, CSP). A machine's signed POST needs none of it, and Meta judges a
    receiver by how fast it answers. What the signals would do for it is done here:
    the database connection is closed if it broke or outlived DATABASE_CONN_MAX_AGE;
    an error still becomes a logged 400 or 500, as anywhere else."""

    def __init__(self) -> None:
        super().__init__()
        self.webhook_path = reverse("meta_webhook")
        self.webhook = convert_exception_to_response(_checked_host_webhook)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != self.webhook_path or environ["REQUEST_METHOD"] != "POST":
            return super().__call__(environ, start_response)
        try:
            response = self.webhook(WSGIRequest(environ))
        finally:
            close_old_connections()
        start_response(f"{response.status_code} {response.reason_phrase}", [*response.items()])
        return [response.content]
