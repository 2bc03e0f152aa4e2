"""Deleting one's own account, and an owner deleting their organisation: each asks for
proof (the password; for an organisation, its name typed too) on a page that says what happens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts.errors import RuleError
from accounts.net import client_ip
from accounts.tenancy import require_owner, tenant_view
from privacy import selectors, tasks
from privacy.forms import AccountDeleteForm, OrganizationDeleteForm
from privacy.services import deletion


@login_required
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            deletion.user_delete(
                user=request.user, password=form.cleaned_data["password"], ip=client_ip(request)
            )
        except RuleError as refusal:
            form.add_error(None, str(refusal))
        else:
            logout(request)
            messages.success(request, _("Your account has been deleted."))
            return redirect("home")
    context = {
        "form": form,
        "only_owner_of": selectors.organizations_only_owned_by(request.user),
        "cancel_url": reverse("my_data"),
    }
    return render(request, "privacy/account_delete.html", context)


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True, suspended_too=True)
def organization_delete(request: HttpRequest) -> HttpResponse:
    require_owner(request.membership)
    form = OrganizationDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            deletion.organization_delete(
                membership=request.membership,
                confirmation=form.cleaned_data["confirmation"],
                password=form.cleaned_data["password"],
                erase_later=tasks.erase_later,
                ip=client_ip(request),
            )
        except RuleError as refusal:
            form.add_error(None, str(refusal))
        else:
            request.session.pop("current_org", None)
            messages.success(
                request,
                _("%(organization)s has been deleted; its data is being erased.")
                % {"organization": request.organization.name},
            )
            return redirect("home")
    context = {
        "form": form,
        "held": selectors.organization_holdings(request.organization),
        "cancel_url": reverse("organization_settings", args=[request.organization.slug]),
    }
    return render(request, "privacy/organization_delete.html", context)
