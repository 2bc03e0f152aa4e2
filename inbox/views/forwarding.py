"""Event forwarding's pages, for owners and admins: the organisation's endpoints, each
with its events, signing secret (shown once) and delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.tenancy import get_for_member, tenant_view
from inbox import selectors
from inbox.forms import BridgeModeForm, EndpointForm
from inbox.models import EventDelivery, WebhookEndpoint
from inbox.services import endpoints


def _endpoint(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    return get_for_member(WebhookEndpoint.objects.all(), request.membership, endpoint_id)


def _list(request: HttpRequest, form: EndpointForm) -> HttpResponse:
    del form.fields["is_active"]  # a new endpoint starts on
    context = {
        "endpoints": selectors.endpoints_of(request.organization),
        "form": form,
        "bridge_form": BridgeModeForm(initial={"bridge_mode": request.organization.bridge_mode}),
    }
    return render(request, "inbox/forwarding.html", context)


def _detail(
    request: HttpRequest, endpoint: WebhookEndpoint, form: EndpointForm, secret: str = ""
) -> HttpResponse:
    context = {
        "endpoint": endpoint,
        "form": form,
        "secret": secret,
        "deliveries": selectors.delivery_log(endpoint),
    }
    return render(request, "inbox/forwarding_endpoint.html", context)


def _form_of(endpoint: WebhookEndpoint) -> EndpointForm:
    return EndpointForm(
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "is_active": endpoint.is_active,
        }
    )


@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True)
def forwarding(request: HttpRequest) -> HttpResponse:
    """GET lists the endpoints; POST adds one and shows its secret, this once."""
    if request.method == "GET":
        return _list(request, EndpointForm())
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _list(request, form)
    try:
        endpoint, secret = endpoints.endpoint_create(
            membership=request.membership,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
        )
    except endpoints.EndpointRefused as refusal:
        form.add_error(None, str(refusal))
        return _list(request, form)
    return _detail(request, endpoint, _form_of(endpoint), secret)


@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True)
def forwarding_endpoint(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """GET shows the endpoint and its latest deliveries; POST changes it."""
    endpoint = _endpoint(request, endpoint_id)
    if request.method == "GET":
        return _detail(request, endpoint, _form_of(endpoint))
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _detail(request, endpoint, form)
    try:
        endpoints.endpoint_update(
            membership=request.membership, endpoint=endpoint, **form.cleaned_data
        )
    except endpoints.EndpointRefused as refusal:
        form.add_error(None, str(refusal))
        return _detail(request, endpoint, form)
    messages.success(request, _("Saved."))
    return redirect(
        "forwarding_endpoint", org_slug=request.organization.slug, endpoint_id=endpoint.pk
    )


@require_POST
@tenant_view(managers_only=True)
def forwarding_secret(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    secret = endpoints.endpoint_secret_rotate(membership=request.membership, endpoint=endpoint)
    return _detail(request, endpoint, _form_of(endpoint), secret)


@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True)
def forwarding_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """GET asks to confirm; POST removes the endpoint."""
    endpoint = _endpoint(request, endpoint_id)
    if request.method == "GET":
        cancel_url = reverse("forwarding_endpoint", args=[request.organization.slug, endpoint.pk])
        context = {"endpoint": endpoint, "cancel_url": cancel_url}
        return render(request, "inbox/forwarding_delete_confirm.html", context)
    endpoints.endpoint_delete(membership=request.membership, endpoint=endpoint)
    messages.success(request, _("Event forwarding to %(url)s removed.") % {"url": endpoint.url})
    return redirect("forwarding", org_slug=request.organization.slug)


@require_POST
@tenant_view(managers_only=True)
def forwarding_redeliver(request: HttpRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    delivery = get_for_member(
        EventDelivery.objects.filter(endpoint=endpoint), request.membership, delivery_id
    )
    endpoints.delivery_redeliver(membership=request.membership, delivery=delivery)
    messages.success(request, _("The event is on its way again."))
    return redirect(
        "forwarding_endpoint", org_slug=request.organization.slug, endpoint_id=endpoint.pk
    )


@require_POST
@tenant_view(managers_only=True)
def forwarding_bridge(request: HttpRequest) -> HttpResponse:
    """Turn bridge mode on or off."""
    form = BridgeModeForm(request.POST)
    form.is_valid()  # a checkbox: anything but "on" is off
    try:
        endpoints.bridge_mode_set(
            membership=request.membership, enabled=form.cleaned_data["bridge_mode"]
        )
    except endpoints.EndpointRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("Saved."))
    return redirect("forwarding", org_slug=request.organization.slug)
