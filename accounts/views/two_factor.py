"""Two-factor authentication: the code step of signing in, and, from the profile,
setting up an authenticator app, replacing recovery codes and turning it off."""

from __future__ import annotations

from base64 import b32encode

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import services as account_services
from accounts.net import client_ip, safe_next_url
from accounts.two_factor import selectors, services, session
from accounts.two_factor.forms import CodeForm, DisableForm, ReplaceRecoveryCodesForm, SetUpForm


def _next_url(request: HttpRequest) -> str:
    return safe_next_url(request, request.POST.get("next") or request.GET.get("next"))


def _qr_svg(url: str) -> SafeString:
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr-code", light="#fff")
    # segno writes only the modules as path data; nothing of the URL is in the markup.
    return mark_safe(svg)  # noqa: S308


def _grouped(secret: str) -> str:
    return " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))


def _recovery_codes_page(request: HttpRequest, codes: list[str], next_url: str) -> HttpResponse:
    return render(request, "accounts/two_factor_codes.html", {"codes": codes, "next": next_url})


def _two_factor_page(
    request: HttpRequest,
    *,
    disable_form: DisableForm | None = None,
    replace_form: ReplaceRecoveryCodesForm | None = None,
) -> HttpResponse:
    user = request.user
    context = {
        "enabled": selectors.user_has_two_factor(user),
        "codes_left": selectors.recovery_codes_left(user),
        "disable_form": disable_form or DisableForm(),
        "replace_form": replace_form or ReplaceRecoveryCodesForm(),
    }
    return render(request, "accounts/two_factor.html", context)


@login_required
@require_GET
def two_factor(request: HttpRequest) -> HttpResponse:
    return _two_factor_page(request)


@login_required
@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def two_factor_set_up(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _next_url(request)
    if selectors.user_has_two_factor(user):
        return redirect("two_factor")
    device = services.totp_device_prepare(user=user)
    form = SetUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.two_factor_enable(
                user=user, device=device, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except services.TwoFactorError as error:
            form.add_error("code", str(error))
        else:
            request.session.cycle_key()
            django_otp.login(request, device)
            messages.success(request, _("Two-factor authentication is on."))
            return _recovery_codes_page(request, codes, next_url)
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "config_url": device.config_url,
        "secret": _grouped(b32encode(device.bin_key).decode()),
        "next": next_url,
    }
    return render(request, "accounts/two_factor_set_up.html", context)


@login_required
@never_cache
@sensitive_post_parameters("code")
@require_POST
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    form = ReplaceRecoveryCodesForm(request.POST)
    if form.is_valid():
        try:
            codes = services.recovery_codes_replace(
                user=request.user, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except services.TwoFactorError as error:
            form.add_error("code", str(error))
        else:
            messages.success(
                request, _("New recovery codes are ready; the old ones no longer work.")
            )
            return _recovery_codes_page(request, codes, "")
    return _two_factor_page(request, replace_form=form)


@login_required
@sensitive_post_parameters("password", "code")
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = DisableForm(request.POST)
    if form.is_valid():
        try:
            services.two_factor_disable(
                user=request.user,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
                ip=client_ip(request),
            )
        except (services.WrongCodeError, services.CodeThrottledError) as error:
            form.add_error("code", str(error))
        except services.TwoFactorError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("two_factor")
    return _two_factor_page(request, disable_form=form)


def _after_recovery_code(request: HttpRequest, device: Device) -> None:
    if not isinstance(device, StaticDevice):
        return
    left = selectors.recovery_codes_left(request.user)
    messages.warning(
        request,
        ngettext(
            "You used a recovery code; %(count)d is left. Lost your phone? Turn two-factor "
            "authentication off and on again to move it to a new one.",
            "You used a recovery code; %(count)d are left. Lost your phone? Turn two-factor "
            "authentication off and on again to move it to a new one.",
            left,
        )
        % {"count": left},
    )


def _finish_sign_in(
    request: HttpRequest, pending: session.PendingSignIn, device: Device, ip: str | None
) -> None:
    session.pending_sign_in_end(request)
    login(request, pending.user, backend=pending.backend)
    django_otp.login(request, device)
    account_services.user_record_sign_in(user=pending.user, ip=ip)


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    """The code step: after the password step, or for a person signed in without a
    second factor who opens something that needs one."""
    pending = None
    if request.user.is_authenticated:
        user, next_url = request.user, _next_url(request)
        if user.is_verified():
            return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
        if not selectors.user_has_two_factor(user):
            return redirect(f"{reverse('two_factor_set_up')}?{urlencode({'next': next_url})}")
    else:
        pending = session.pending_sign_in(request)
        if pending is None:
            messages.error(request, _("Your sign-in has expired. Please sign in again."))
            return redirect("login")
        user, next_url = pending.user, pending.next_url
    ip = client_ip(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.two_factor_verify(user=user, code=form.cleaned_data["code"], ip=ip)
        except services.WrongCodeError as error:
            if pending is not None and session.pending_sign_in_failed(request):
                services.two_factor_record_sign_in_stopped(user=user, ip=ip)
                messages.error(request, _("Too many wrong codes. Please sign in again."))
                return redirect("login")
            form.add_error("code", str(error))
        except services.CodeThrottledError as error:
            form.add_error("code", str(error))
        else:
            if pending is None:
                request.session.cycle_key()
                django_otp.login(request, device)
            else:
                _finish_sign_in(request, pending, device, ip)
            _after_recovery_code(request, device)
            return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    context = {"form": form, "next": next_url if pending is None else ""}
    return render(request, "accounts/sign_in_code.html", context)
