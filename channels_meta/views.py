"""Channels page: connect through Meta's dialogs or by hand, reconnect, disconnect."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.net import client_ip
from accounts.tenancy import get_for_member, require_manager, tenant_view
from channels_meta import oauth, selectors
from channels_meta.connected import ChannelError, ConnectedAccount
from channels_meta.forms import (
    ChannelSettingsForm,
    EmbeddedSignupFinishForm,
    EmbeddedSignupForm,
    ManualWhatsAppForm,
)
from channels_meta.graph.errors import GraphError
from channels_meta.models import Channel, ChannelKind, ChannelStatus
from channels_meta.services import channels as channel_services

logger = logging.getLogger(__name__)


def _callback_url(request: HttpRequest) -> str:
    """Where Meta's dialog sends the person back. Production: SITE_URL, the redirect URI
    registered with Meta. Development: the host the browser is on (ALLOWED_HOSTS vouches
    for it), so that someone who opened localhost instead of 127.0.0.1 comes back with
    their session cookie."""
    path = reverse("meta_oauth_callback")
    if settings.PRODUCTION:
        return settings.SITE_URL + path
    return request.build_absolute_uri(path)


def _channel(request: HttpRequest, channel_id: int) -> Channel:
    return get_for_member(Channel.objects, request.membership, channel_id)


def _to_channels(request: HttpRequest) -> HttpResponse:
    return redirect("channels", org_slug=request.organization.slug)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _embedded_signup() -> dict[str, str] | None:
    """What the channels page needs to run WhatsApp Embedded Signup in Meta's popup (the
    JavaScript SDK), or None when it is not configured: the page then keeps the
    redirect to Meta's dialog, which also serves browsers without JavaScript."""
    if not (settings.META_APP_ID and settings.META_WHATSAPP_CONFIG_ID and settings.META_JS_SDK_URL):
        return None
    return {
        "app_id": settings.META_APP_ID,
        "config_id": settings.META_WHATSAPP_CONFIG_ID,
        "graph_version": settings.META_GRAPH_VERSION,
        "sdk_url": settings.META_JS_SDK_URL,
        "dialog_origin": _origin(settings.META_DIALOG_URL),
    }


def _embedded_signup_csp(signup: dict[str, str]) -> dict[str, list[str]]:
    """The sources Meta's SDK needs on the channels page, and nothing more: its script,
    and the facebook.com frames and requests of its login popup."""
    dialog = signup["dialog_origin"]
    meta_frames = (
        [dialog, "https://*.facebook.com"] if dialog.endswith("facebook.com") else [dialog]
    )
    return {
        "script-src": [_origin(signup["sdk_url"])],
        "frame-src": meta_frames,
        "connect-src": meta_frames,
    }


@require_GET
@tenant_view()
def channels(request: HttpRequest) -> HttpResponse:
    signup = _embedded_signup() if request.membership.is_manager else None
    channels = selectors.channels_for_org(request.organization)
    context = {
        "channels": channels,
        # Each row shows its channel's state: its notices need not repeat it.
        "announced_topics": {channel.notice_topic for channel in channels},
        "instagram_flow": "instagram" if settings.META_INSTAGRAM_LOGIN else "facebook",
        "embedded_signup": signup,
    }
    response = render(request, "channels_meta/channels.html", context)
    if signup:
        # Read by django-csp's middleware, as its csp_update decorator would set it.
        response._csp_update = _embedded_signup_csp(signup)
        # Meta's popup answers through window.opener, which Django's default
        # same-origin opener policy would sever (SecurityMiddleware keeps this value).
        response["Cross-Origin-Opener-Policy"] = "same-origin-allow-popups"
    return response


@sensitive_post_parameters("pin")
@require_POST
@tenant_view(managers_only=True)
@sensitive_variables("form", "pin")
def connect_start(request: HttpRequest, flow: str) -> HttpResponse:
    if flow not in oauth.FLOWS:
        messages.error(request, _("Unknown way to connect."))
        return _to_channels(request)
    pin = ""
    if flow == "whatsapp":
        form = EmbeddedSignupForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["pin"]))
            return _to_channels(request)
        pin = form.cleaned_data["pin"]
    url = oauth.dialog_url(
        request,
        org_slug=request.organization.slug,
        flow=flow,
        redirect_uri=_callback_url(request),
        pin=pin,
    )
    return redirect(url)


@require_POST
@tenant_view(managers_only=True)
def reconnect(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _channel(request, channel_id)
    flow = oauth.reconnect_flow(channel)
    if flow is None:
        return redirect("channel_manual_whatsapp", org_slug=request.organization.slug)
    url = oauth.dialog_url(
        request, org_slug=request.organization.slug, flow=flow, redirect_uri=_callback_url(request)
    )
    return redirect(url)


@login_required
@require_GET
@sensitive_variables("state")
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Where Meta's dialogs send the person back (one fixed URL, as Meta requires)."""
    try:
        state = oauth.take_state(request, request.GET.get("state", ""))
    except ChannelError as error:
        messages.error(request, str(error))
        return redirect("home")
    return _finish_connect(request, org_slug=state.org_slug, state=state)


@tenant_view(managers_only=True)
@sensitive_variables("state", "code")
def _finish_connect(request: HttpRequest, state: oauth.OAuthState) -> HttpResponse:
    flow = state.flow
    problem = oauth.error_from_callback(request.GET)
    if problem:
        messages.error(request, problem)
        return _to_channels(request)
    code = request.GET["code"]
    find_accounts = {
        "facebook": oauth.accounts_from_facebook_login,
        "instagram": oauth.accounts_from_instagram_login,
        "whatsapp": oauth.accounts_from_whatsapp_signup,
    }[flow]
    return _connect(
        request,
        lambda: find_accounts(code=code, redirect_uri=_callback_url(request)),
        pin=state.pin,
    )


@sensitive_post_parameters("pin", "code")
@require_POST
@tenant_view(managers_only=True)
@sensitive_variables("form")
def whatsapp_signup(request: HttpRequest) -> HttpResponse:
    """Where the channels page posts what WhatsApp Embedded Signup's popup gave it: the
    code, and the account and number the business chose (checked with Meta, never
    trusted), with the PIN to register the number."""
    form = EmbeddedSignupFinishForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, " ".join(error for errors in form.errors.values() for error in errors)
        )
        return _to_channels(request)
    data = form.cleaned_data
    return _connect(
        request,
        lambda: oauth.accounts_from_whatsapp_session(
            code=data["code"], waba_id=data["waba_id"], phone_number_id=data["phone_number_id"]
        ),
        pin=data["pin"],
    )


@sensitive_variables("find_accounts", "pin", "accounts")
def _connect(
    request: HttpRequest, find_accounts: Callable[[], list[ConnectedAccount]], *, pin: str = ""
) -> HttpResponse:
    """Find the accounts at Meta, register WhatsApp numbers with `pin` (when given),
    connect what Meta accepted, and say what happened."""
    problems: list[str] = []
    try:
        accounts = find_accounts()
        if pin:
            accounts, problems = oauth.whatsapp_numbers_register(accounts, pin=pin)
        if not accounts:
            raise ChannelError(" ".join(problems) or _("Nothing was connected."))
        connection = channel_services.channels_connect(
            organization=request.organization,
            accounts=accounts,
            connected_by=request.user,
            ip=client_ip(request),
        )
    except GraphError as error:
        logger.warning("Connecting for organisation %s failed: %s", request.organization.pk, error)
        messages.error(
            request,
            _("Meta refused the connection, so nothing was connected. %(error)s")
            % {"error": error.explain()},
        )
        return _to_channels(request)
    except ChannelError as error:
        messages.error(request, str(error))
        return _to_channels(request)
    connection.problems[:0] = problems
    _report_connection(request, connection)
    return _to_channels(request)


def _report_connection(request: HttpRequest, connection: channel_services.Connection) -> None:
    names = ", ".join(str(channel) for channel in connection.channels)
    messages.success(request, _("Connected: %(names)s.") % {"names": names})
    for problem in connection.problems:
        messages.warning(request, problem)


@sensitive_post_parameters("token")
@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True)
@sensitive_variables("form", "account")
def manual_whatsapp(request: HttpRequest) -> HttpResponse:
    form = ManualWhatsAppForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = oauth.account_from_token(
                kind=ChannelKind.WHATSAPP,
                external_id=form.cleaned_data["phone_number_id"],
                waba_id=form.cleaned_data["waba_id"],
                token=form.cleaned_data["token"],
            )
            connection = channel_services.channels_connect(
                organization=request.organization,
                accounts=[account],
                connected_by=request.user,
                ip=client_ip(request),
            )
        except ChannelError as error:
            form.add_error(None, str(error))
        else:
            _report_connection(request, connection)
            return _to_channels(request)
    return render(request, "channels_meta/manual_whatsapp.html", {"form": form})


@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True)
def disconnect(request: HttpRequest, channel_id: int) -> HttpResponse:
    """GET asks to confirm, saying what disconnecting does; POST does it."""
    channel = _channel(request, channel_id)
    if request.method == "GET":
        if channel.status == ChannelStatus.DISCONNECTED:
            return _to_channels(request)
        context = {
            "channel": channel,
            "cancel_url": reverse("channels", args=[channel.organization.slug]),
        }
        return render(request, "channels_meta/disconnect_confirm.html", context)
    problems = channel_services.channel_disconnect(
        channel=channel, actor=request.user, ip=client_ip(request)
    )
    if problems is None:  # it was already disconnected
        return _to_channels(request)
    messages.success(request, _("%(name)s is disconnected.") % {"name": channel})
    if problems:
        messages.warning(
            request,
            _(
                "Meta did not confirm every step: %(problems)s Padu has forgotten the token "
                "anyway. You can also remove Padu in your Meta business settings."
            )
            % {"problems": " ".join(problems)},
        )
    return _to_channels(request)


@require_POST
@tenant_view(managers_only=True)
def channel_settings(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _channel(request, channel_id)
    form = ChannelSettingsForm(request.POST)
    if form.is_valid():
        channel_services.channel_set_human_agent(
            channel=channel,
            enabled=form.cleaned_data["human_agent_enabled"],
            actor=request.user,
            ip=client_ip(request),
        )
        messages.success(request, _("Settings of %(name)s saved.") % {"name": channel})
    return _to_channels(request)


@require_http_methods(["GET", "POST"])
@tenant_view()
def templates(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _channel(request, channel_id)
    if channel.kind != ChannelKind.WHATSAPP:
        raise Http404
    if request.method == "POST":
        require_manager(request.membership)
        try:
            channel_services.templates_sync_request(channel=channel)
        except ChannelError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, _("Fetching the templates from Meta: they appear here in a moment.")
            )
        return redirect(
            "channel_templates", org_slug=request.organization.slug, channel_id=channel.pk
        )
    context = {
        "channel": channel,
        "templates": selectors.templates_for_channel(channel),
    }
    return render(request, "channels_meta/templates.html", context)
