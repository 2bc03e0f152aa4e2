"""The API keys page: an organisation's keys to the REST API, made and revoked by its
owners and admins."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import api_keys, selectors
from accounts.forms import ApiKeyForm
from accounts.models import ApiKey
from accounts.net import client_ip
from accounts.services import MembershipRuleError
from accounts.tenancy import get_for_member, tenant_view


def _page(request: HttpRequest, form: ApiKeyForm, new_key: str = "") -> HttpResponse:
    context = {
        "form": form,
        "new_key": new_key,
        "keys": selectors.active_api_keys(request.organization),
        "docs_url": reverse("api_docs"),
    }
    return render(request, "accounts/api_keys.html", context)


@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True)
def api_key_list(request: HttpRequest) -> HttpResponse:
    """GET lists the keys; POST creates one and shows it, this once."""
    if request.method == "GET":
        return _page(request, ApiKeyForm())
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, form)
    try:
        _api_key, secret = api_keys.api_key_create(
            membership=request.membership,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            ip=client_ip(request),
        )
    except MembershipRuleError as error:
        form.add_error(None, str(error))
        return _page(request, form)
    return _page(request, ApiKeyForm(), new_key=secret)


@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True)
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    """GET asks to confirm; POST revokes the key."""
    api_key = get_for_member(ApiKey.objects.active(), request.membership, key_id)
    if request.method == "GET":
        cancel_url = reverse("api_keys", args=[request.organization.slug])
        context = {"api_key": api_key, "cancel_url": cancel_url}
        return render(request, "accounts/api_key_revoke_confirm.html", context)
    api_keys.api_key_revoke(membership=request.membership, api_key=api_key, ip=client_ip(request))
    messages.success(request, _("The key “%(name)s” was revoked.") % {"name": api_key.name})
    return redirect("api_keys", org_slug=request.organization.slug)
