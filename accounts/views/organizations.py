"""The front door, new organisations, and an organisation's own pages: settings and
audit log (its overview is `inbox.overview`, which reads the inbox)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import OrganizationForm
from accounts.models import Notice
from accounts.net import client_ip, safe_next_url
from accounts.tenancy import get_for_member, require_manager, require_owner, tenant_view
from accounts.two_factor import selectors as two_factor_selectors
from accounts.two_factor import services as two_factor_services
from accounts.two_factor.forms import RequirementForm


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Signed out: what Padu is. Signed in: the organisation last used, or the first."""
    if not request.user.is_authenticated:
        return render(request, "accounts/landing.html")
    slug = selectors.default_organization_slug(request.user, request.session.get("current_org"))
    if slug is None:
        return render(request, "accounts/no_organization.html")
    return redirect("organization_home", org_slug=slug)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and container health checks: is the database answering?"""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_http_methods(["GET", "POST"])
def organization_new(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = services.organization_create(
            name=form.cleaned_data["name"], owner=request.user, ip=client_ip(request)
        )
        messages.success(request, _("Your new organisation is ready."))
        return redirect("organization_home", org_slug=organization.slug)
    return render(request, "accounts/organization_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
@tenant_view()
def organization_settings(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    form = OrganizationForm(request.POST or None, initial={"name": request.organization.name})
    if request.method == "POST":
        require_manager(membership)
        if form.is_valid():
            services.organization_rename(
                membership=membership, name=form.cleaned_data["name"], ip=client_ip(request)
            )
            messages.success(request, _("The organisation has been renamed."))
            return redirect("organization_settings", org_slug=request.organization.slug)
    context = {
        "form": form,
        "requirement_form": RequirementForm(
            initial={"require_two_factor": request.organization.require_two_factor}
        ),
        "two_factor_on": two_factor_selectors.user_has_two_factor(request.user),
    }
    return render(request, "accounts/organization_settings.html", context)


@require_POST
@tenant_view()
def organization_two_factor(request: HttpRequest) -> HttpResponse:
    """Owners require (or stop requiring) two-factor authentication of every member."""
    membership = request.membership
    require_owner(membership)
    form = RequirementForm(request.POST)
    required = form.is_valid() and form.cleaned_data["require_two_factor"]
    try:
        changed = two_factor_services.organization_set_two_factor_required(
            membership=membership, required=required, ip=client_ip(request)
        )
    except two_factor_services.TwoFactorError as error:
        messages.error(request, str(error))
    else:
        if changed and required:
            messages.success(request, _("Every member now needs two-factor authentication."))
        elif changed:
            messages.success(request, _("Two-factor authentication is no longer required."))
    return redirect("organization_settings", org_slug=request.organization.slug)


@require_http_methods(["GET", "POST"])
@tenant_view()
def organization_leave(request: HttpRequest) -> HttpResponse:
    """GET asks to confirm; POST leaves the organisation."""
    membership = request.membership
    if request.method == "GET":
        cancel_url = reverse("organization_settings", args=[request.organization.slug])
        return render(request, "accounts/leave_confirm.html", {"cancel_url": cancel_url})
    try:
        services.membership_leave(membership=membership, ip=client_ip(request))
    except services.MembershipRuleError as error:
        messages.error(request, str(error))
        return redirect("organization_settings", org_slug=request.organization.slug)
    request.session.pop("current_org", None)
    messages.success(
        request, _("You have left %(organization)s.") % {"organization": request.organization}
    )
    return redirect("home")


@require_GET
@tenant_view(managers_only=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    events = selectors.audit_events_for_org(request.organization)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/audit_log.html", {"page": page})


@require_POST
@tenant_view(managers_only=True)
def notice_dismiss(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = get_for_member(Notice.objects, request.membership, notice_id)
    services.notice_dismiss(membership=request.membership, notice=notice)
    next_url = safe_next_url(request, request.POST.get("next"))
    return redirect(next_url or reverse("organization_home", args=[request.organization.slug]))
