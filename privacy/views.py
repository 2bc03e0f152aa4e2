"""Meta's data deletion and deauthorize callbacks, and the public page where a data
deletion's progress is read by its confirmation code."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from privacy import services, tasks
from privacy.models import DataRequest, RequestSource
from privacy.signed_request import SignedRequestError, meta_user_id

logger = logging.getLogger(__name__)


def _carry_out(request_id: int) -> None:
    tasks.data_request_carry_out.delay(request_id)


def _signed_user_id(request: HttpRequest) -> str | None:
    try:
        return meta_user_id(request.POST.get("signed_request", ""))
    except SignedRequestError as error:
        logger.warning("Meta callback refused: %s", error)
        return None


def _refused() -> JsonResponse:
    return JsonResponse({"error": "The signed request is missing or not valid."}, status=403)


@csrf_exempt
@require_POST
def meta_data_deletion(request: HttpRequest) -> HttpResponse:
    user_id = _signed_user_id(request)
    if user_id is None:
        return _refused()
    data_request = services.meta_erasure_request(
        meta_user_id=user_id, source=RequestSource.META_DATA_DELETION, carry_out=_carry_out
    )
    code = data_request.confirmation_code
    url = settings.SITE_URL + reverse("privacy_deletion_status", args=[code])
    return JsonResponse({"url": url, "confirmation_code": code})


@csrf_exempt
@require_POST
def meta_deauthorize(request: HttpRequest) -> HttpResponse:
    user_id = _signed_user_id(request)
    if user_id is None:
        return _refused()
    services.meta_app_removed(meta_user_id=user_id, carry_out=_carry_out)
    return JsonResponse({})


@require_GET
def deletion_status(request: HttpRequest, code: str) -> HttpResponse:
    data_request = get_object_or_404(DataRequest, confirmation_code=code)
    return render(request, "privacy/deletion_status.html", {"data_request": data_request})
