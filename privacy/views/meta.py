"""Meta's data deletion and deauthorize callbacks, and the public page where a data
request's progress is read by its confirmation code."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from privacy import selectors, tasks
from privacy.services import data_requests
from privacy.signed_request import SignedRequest, SignedRequestError, signed_request_read

logger = logging.getLogger(__name__)


def _signed(request: HttpRequest) -> SignedRequest | None:
    try:
        return signed_request_read(request.POST.get("signed_request", ""))
    except SignedRequestError as error:
        logger.warning("Meta callback refused: %s", error)
        return None


def _refused() -> JsonResponse:
    return JsonResponse({"error": "The signed request is missing or not valid."}, status=403)


@csrf_exempt
@require_POST
def meta_data_deletion(request: HttpRequest) -> HttpResponse:
    signed = _signed(request)
    if signed is None:
        return _refused()
    data_request = data_requests.meta_erasure_request(
        meta_user_id=signed.meta_user_id,
        instagram_login=signed.instagram_login,
        carry_out=tasks.carry_out_later,
    )
    return JsonResponse(
        {
            "url": data_requests.data_request_status_url(data_request),
            "confirmation_code": data_request.confirmation_code,
        }
    )


@csrf_exempt
@require_POST
def meta_deauthorize(request: HttpRequest) -> HttpResponse:
    signed = _signed(request)
    if signed is None:
        return _refused()
    data_requests.meta_app_removed(
        meta_user_id=signed.meta_user_id, instagram_login=signed.instagram_login
    )
    return JsonResponse({})


@require_GET
def request_status(request: HttpRequest, code: str) -> HttpResponse:
    """What became of a request, for whoever holds its code; nothing personal."""
    data_request = selectors.data_request_for_code(code)
    if data_request is None:
        raise Http404
    return render(request, "privacy/request_status.html", {"data_request": data_request})
