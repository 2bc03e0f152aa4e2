"""An organisation's public privacy page, where its customers ask about their data, and
the link that confirms what they asked. Nothing here tells whether the organisation
knows the person: every request gets the same answer."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts import throttle
from accounts.models import Organization
from accounts.net import client_ip
from privacy.forms import CustomerRequestForm
from privacy.models import RequestStatus
from privacy.services import customer_requests

DAY = 24 * 60 * 60


def _client(request: HttpRequest) -> str:
    """The client's address; an IPv6 client by its /64, which one holder has whole."""
    address = client_ip(request) or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


def _within_budget(request: HttpRequest, organization: Organization, email: str) -> bool:
    """Requests are counted per client, per address at this organisation, and per address
    at every organisation (so no one's inbox is filled from many organisations' pages)."""
    address = email.lower()
    return (
        throttle.hit(
            "privacy-request:ip",
            _client(request),
            limit=settings.DATA_REQUESTS_PER_IP_PER_DAY,
            window_seconds=DAY,
        )
        and throttle.hit(
            "privacy-request:address",
            f"{organization.pk}:{address}",
            limit=settings.DATA_REQUESTS_PER_ADDRESS_PER_DAY,
            window_seconds=DAY,
        )
        and throttle.hit(
            "privacy-request:address-everywhere",
            address,
            limit=settings.DATA_REQUESTS_PER_ADDRESS_EVERYWHERE_PER_DAY,
            window_seconds=DAY,
        )
    )


@require_http_methods(["GET", "POST"])
def customer_request(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    form = CustomerRequestForm(request.POST or None)
    context = {"organization": organization, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not _within_budget(request, organization, data["requester_email"]):
            context["refused"] = True
            return render(request, "privacy/customer_request.html", context, status=429)
        customer_requests.customer_request_submit(
            organization=organization,
            kind=data["kind"],
            identifier=data["identifier"],
            requester_email=data["requester_email"],
            details=data["details"],
        )
        return redirect("privacy_request_sent", slug=organization.slug)
    return render(request, "privacy/customer_request.html", context)


@require_GET
def customer_request_sent(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    return render(request, "privacy/customer_request_sent.html", {"organization": organization})


@require_http_methods(["GET", "POST"])
def customer_request_confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The link e-mailed to the person: a button (a mail scanner opening the link
    confirms nothing) that verifies the request."""
    data_request = customer_requests.request_for_confirmation_token(token)
    if data_request is None or data_request.organization.slug != slug:
        return render(request, "privacy/customer_request_invalid.html", {"slug": slug}, status=404)
    if request.method == "POST":
        customer_requests.customer_request_confirm(data_request=data_request)
        return redirect("privacy_request_status", code=data_request.confirmation_code)
    if data_request.status != RequestStatus.RECEIVED:
        return redirect("privacy_request_status", code=data_request.confirmation_code)
    return render(
        request,
        "privacy/customer_request_confirm.html",
        {"data_request": data_request, "organization": data_request.organization},
    )
