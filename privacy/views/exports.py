"""Downloading data: a person's own (from their profile), everything an organisation
holds (its owners), or what it holds about a customer who asked (a signed link). The
ZIP is built by a worker; the page shows its progress."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.errors import RuleError
from accounts.services import audit_record
from accounts.tenancy import get_for_member, require_owner, tenant_view
from privacy import selectors, tasks
from privacy.models import Export, ExportStatus
from privacy.services import export_jobs


def _ask_or_retry(request: HttpRequest, organization, listed) -> None:
    retry = request.POST.get("retry", "")
    if retry:
        export = listed.filter(pk=retry if retry.isdigit() else None).first()
        if export is None:
            raise Http404
        export_jobs.export_retry(export=export, build=tasks.build_later)
        return
    try:
        export_jobs.export_ask(
            user=request.user, organization=organization, build=tasks.build_later
        )
    except RuleError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("Your export is being prepared. You will be e-mailed."))


def _page(request: HttpRequest, template: str, listed) -> HttpResponse:
    shown = list(listed[:10])
    return render(
        request,
        template,
        {"exports": shown, "pending": any(export.is_pending for export in shown)},
    )


def _download(request: HttpRequest, export: Export) -> FileResponse:
    if export.status != ExportStatus.READY or export.expires_at <= timezone.now():
        raise Http404
    audit_record(
        action="export.downloaded",
        organization=export.organization,
        actor=request.user if request.user.is_authenticated else None,
        target=str(export),
    )
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=f"padu-export-{export.created_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    listed = selectors.own_exports(request.user)
    if request.method == "POST":
        _ask_or_retry(request, None, listed)
        return redirect("my_data")
    return _page(request, "privacy/my_data.html", listed)


@login_required
@require_GET
def my_data_download(request: HttpRequest, export_id: int) -> FileResponse:
    export = selectors.own_exports(request.user).filter(pk=export_id).first()
    if export is None:
        raise Http404
    return _download(request, export)


@require_GET
def customer_export_download(request: HttpRequest, token: str) -> FileResponse:
    """A business's customer downloads the copy of their data their request asked for,
    with the signed link they were e-mailed (no account needed)."""
    export = export_jobs.customer_export_for_token(token)
    if export is None:
        raise Http404
    return _download(request, export)


@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True)
def organization_export(request: HttpRequest) -> HttpResponse:
    require_owner(request.membership)
    listed = selectors.organization_exports(request.organization)
    if request.method == "POST":
        _ask_or_retry(request, request.organization, listed)
        return redirect("organization_export", org_slug=request.organization.slug)
    return _page(request, "privacy/organization_export.html", listed)


@require_GET
@tenant_view(managers_only=True)
def organization_export_download(request: HttpRequest, export_id: int) -> FileResponse:
    require_owner(request.membership)
    return _download(request, get_for_member(Export.objects.all(), request.membership, export_id))
