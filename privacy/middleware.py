from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from privacy.services.access_log import access_record


class AccessLogMiddleware:
    """Write each signed-in person's request to the access log, once answered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated:
            access_record(request=request, response=response)
        return response
