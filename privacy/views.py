"""Meta's data deletion and deauthorize callbacks, the public page where a data
deletion's progress is read by its confirmation code, and an organisation's retention."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.net import client_ip
from accounts.tenancy import require_owner, tenant_view
from privacy import tasks
from privacy.forms import RetentionPolicyForm
from privacy.models import DataRequest
from privacy.services import data_requests, retention
from privacy.signed_request import SignedRequest, SignedRequestError, signed_request_read

logger = logging.getLogger(__name__)


def _carry_out(request_id: int) -> None:
    tasks.data_request_carry_out.delay(request_id)


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
        carry_out=_carry_out,
    )
    code = data_request.confirmation_code
    url = settings.SITE_URL + reverse("privacy_deletion_status", args=[code])
    return JsonResponse({"url": url, "confirmation_code": code})


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
def deletion_status(request: HttpRequest, code: str) -> HttpResponse:
    data_request = get_object_or_404(DataRequest, confirmation_code=code)
    return render(request, "privacy/deletion_status.html", {"data_request": data_request})


@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True)
def retention_settings(request: HttpRequest) -> HttpResponse:
    """Owners choose how long the organisation keeps its customers' data; admins see it."""
    policy = retention.retention_policy(request.organization)
    form = RetentionPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST":
        require_owner(request.membership)
        if form.is_valid():
            retention.retention_policy_set(
                membership=request.membership,
                conversation_days=form.cleaned_data["conversation_days"],
                disconnected_channel_days=form.cleaned_data["disconnected_channel_days"],
                ip=client_ip(request),
            )
            messages.success(request, _("The retention policy has been saved."))
            return redirect("retention_settings", org_slug=request.organization.slug)
    return render(request, "privacy/retention.html", {"form": form, "policy": policy})
