"""An organisation's retention: owners choose it, admins see it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.net import client_ip
from accounts.tenancy import require_owner, tenant_view
from privacy.forms import RetentionPolicyForm
from privacy.services import retention


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
                membership=request.membership, **form.cleaned_data, ip=client_ip(request)
            )
            messages.success(request, _("The retention policy has been saved."))
            return redirect("retention_settings", org_slug=request.organization.slug)
    return render(request, "privacy/retention.html", {"form": form, "policy": policy})
