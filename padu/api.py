"""What every API view shares: refusals under the same rules as the web, and every error
in one shape: `{"detail": "<what went wrong, in words>", "code": "<machine-readable>",
"fields": {"<field>": ["<what is wrong with it>"]}}` (`fields` is empty but for invalid
input)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.errors import RuleError


def _words(messages: Any) -> str:
    if isinstance(messages, list | tuple):
        return " ".join(_words(message) for message in messages)
    if isinstance(messages, dict):
        return " ".join(_words(message) for message in messages.values())
    return str(messages)


def _body(exc: exceptions.APIException) -> dict[str, Any]:
    if not isinstance(exc, exceptions.ValidationError):
        code = exc.get_codes()
        return {"detail": _words(exc.detail), "code": code if isinstance(code, str) else "error"}
    fields = dict(exc.detail) if isinstance(exc.detail, dict) else {}
    general = fields.pop(api_settings.NON_FIELD_ERRORS_KEY, None)
    if not isinstance(exc.detail, dict):
        general = exc.detail
    detail = _words(general) if general else _("Some fields are not valid; see `fields`.")
    return {"detail": detail, "code": "invalid", "fields": fields}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler with Padu's one error shape; a rule's refusal (`RuleError`) is a 400
    carrying the rule's message, the message the web shows next to the form."""
    if isinstance(exc, RuleError):
        body = {"detail": str(exc), "code": "refused", "fields": {}}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"fields": {}, **_body(exc)}
    return response


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers."""

    detail = serializers.CharField(help_text="What went wrong, in words.")
    code = serializers.CharField(help_text="`invalid`, `refused`, `not_found`, `throttled`, …")
    fields = serializers.DictField(
        help_text="For `invalid`: what is wrong with each field named, as a list of messages "
        "(for a list of rows, by the row's index)."
    )


def page_serializer(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The shape of a page of `item`s: `results`, and `next`, the address of the next
    page (null on the last)."""
    name = item.__name__.removesuffix("Serializer") + "PageSerializer"
    fields = {
        "results": item(many=True),
        "next": serializers.URLField(allow_null=True, help_text="The next page, or null."),
    }
    return type(name, (serializers.Serializer,), fields)


def page_response(
    request: Request, items: list[Any], item: type[serializers.Serializer], **next_query: Any
) -> Response:
    """A page of `items` and, when `next_query` names where the next page starts, the
    address of the next page (this request's with `next_query` in its query string)."""
    next_url = None
    if any(value is not None for value in next_query.values()):
        query = request.query_params.copy()
        for name, value in next_query.items():
            query[name] = value
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    context = {"request": request}
    return Response({"results": item(items, many=True, context=context).data, "next": next_url})


ERROR_RESPONSES = {
    "400": "The input is not valid (`invalid`, with `fields`), or one of Meta's rules refuses "
    "it (`refused`, with the reason in `detail`).",
    "401": "No API key or session, or the key is not valid or was revoked.",
    "403": "The key may only read, only owners and admins may do this, or the organisation is "
    "suspended.",
    "404": "No such organisation for this key, or no such row in it (another organisation's "
    "ids included).",
    "429": "Too many requests with this key: wait the seconds the `Retry-After` header says.",
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, with the errors every organisation endpoint may answer."""

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        if direction != "response" or "{org_slug}" not in self.path:
            return responses
        takes_input = self.method != "GET" or any(
            parameter["in"] == "query" for parameter in self._get_parameters()
        )
        for code, description in ERROR_RESPONSES.items():
            if code == "400" and (not takes_input or self.method == "DELETE"):
                continue
            response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
            responses.setdefault(code, {**response, "description": description})
        return responses


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other address under /api/ (a negative id, say): a 404 in the API's shape, not
    the web's page."""
    body = {"detail": str(exceptions.NotFound.default_detail), "code": "not_found", "fields": {}}
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)
