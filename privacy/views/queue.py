"""An organisation's data requests: the queue its owners and admins answer, and what
any member records for a customer from the contact's panel."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.errors import RuleError
from accounts.net import safe_next_url
from accounts.tenancy import get_for_member, tenant_view
from inbox.models import Contact
from privacy import selectors, tasks
from privacy.forms import ApproveForm, ContactRequestForm, RejectForm
from privacy.models import DataRequest
from privacy.services import customer_requests

PAGE_SIZE = 50


@require_GET
@tenant_view(managers_only=True)
def data_requests(request: HttpRequest) -> HttpResponse:
    answered = request.GET.get("show") == "answered"
    page = Paginator(
        selectors.data_request_queue(request.organization, answered=answered), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    public_url = request.build_absolute_uri(
        reverse("privacy_request", args=[request.organization.slug])
    )
    return render(
        request,
        "privacy/data_requests.html",
        {"page": page, "answered": answered, "public_url": public_url},
    )


def _data_request(request: HttpRequest, data_request_id: int) -> DataRequest:
    return get_for_member(selectors.answerable_data_requests(), request.membership, data_request_id)


def _detail(request: HttpRequest, data_request: DataRequest, **forms) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    candidates = selectors.contacts_to_match(data_request, search)
    context = {
        "data_request": data_request,
        "matched": data_request.contacts.select_related("channel"),
        "search": search,
        "approve_form": forms.get("approve_form")
        or ApproveForm(
            candidates=candidates,
            initial={"contacts": list(data_request.contacts.values_list("pk", flat=True))},
        ),
        "reject_form": forms.get("reject_form") or RejectForm(),
    }
    return render(request, "privacy/data_request.html", context, status=400 if forms else 200)


@require_GET
@tenant_view(managers_only=True)
def data_request(request: HttpRequest, data_request_id: int) -> HttpResponse:
    return _detail(request, _data_request(request, data_request_id))


def _answered(request: HttpRequest, data_request: DataRequest, answer) -> HttpResponse:
    try:
        answer()
    except RuleError as refusal:
        messages.error(request, str(refusal))
    return redirect(
        "data_request", org_slug=request.organization.slug, data_request_id=data_request.pk
    )


@require_POST
@tenant_view(managers_only=True)
def data_request_approve(request: HttpRequest, data_request_id: int) -> HttpResponse:
    data_request = _data_request(request, data_request_id)
    form = ApproveForm(
        request.POST, candidates=selectors.organization_contacts(request.organization)
    )
    if not form.is_valid():
        return _detail(request, data_request, approve_form=form)
    return _answered(
        request,
        data_request,
        lambda: customer_requests.data_request_approve(
            membership=request.membership,
            data_request=data_request,
            contacts=form.cleaned_data["contacts"],
            carry_out=tasks.carry_out_later,
        ),
    )


@require_POST
@tenant_view(managers_only=True)
def data_request_reject(request: HttpRequest, data_request_id: int) -> HttpResponse:
    data_request = _data_request(request, data_request_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _detail(request, data_request, reject_form=form)
    return _answered(
        request,
        data_request,
        lambda: customer_requests.data_request_reject(
            membership=request.membership,
            data_request=data_request,
            reason=form.cleaned_data["reason"],
        ),
    )


@require_http_methods(["GET", "POST"])
@tenant_view()
def contact_data_request(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Any member records a request a customer made to them; owners and admins answer."""
    contact = get_for_member(
        Contact.objects.select_related("channel"), request.membership, contact_id
    )
    form = ContactRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        recorded = customer_requests.contact_request_record(
            membership=request.membership, contact=contact, **form.cleaned_data
        )
        messages.success(
            request,
            _("The request was recorded. It is due on %(due)s.")
            % {"due": date_format(recorded.due_at)},
        )
        if request.membership.is_manager:
            return redirect(
                "data_request", org_slug=request.organization.slug, data_request_id=recorded.pk
            )
        return _back(request)
    return render(
        request,
        "privacy/contact_request.html",
        {"contact": contact, "form": form, "next": _next(request)},
    )


@require_POST
@tenant_view(managers_only=True)
def contact_restriction_lift(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = get_for_member(Contact.objects.all(), request.membership, contact_id)
    customer_requests.contact_restriction_lift(membership=request.membership, contact=contact)
    messages.success(request, _("The restriction was lifted: your team may answer again."))
    return _back(request)


def _next(request: HttpRequest) -> str:
    """The page of this site the member came from (the conversation), or the inbox."""
    wanted = request.POST.get("next") or request.GET.get("next")
    return safe_next_url(request, wanted) or reverse("inbox", args=[request.organization.slug])


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(_next(request))
