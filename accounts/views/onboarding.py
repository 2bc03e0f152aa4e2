"""Signing up, confirming an e-mail address, and choosing or resetting a password."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import user_has_device

from accounts import onboarding, services, throttle
from accounts.forms import EmailConfirmForm, PasswordResetForm, SignUpForm
from accounts.net import client_ip, safe_next_url

SIGNED_UP_SESSION_KEY = "signed_up_user"
HOUR = 60 * 60


def _within(scope: str, subject: str, limit: int) -> bool:
    return throttle.hit(scope, subject, limit=limit, window_seconds=HOUR)


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    """Whether or not the address already has an account, the answer is the same page:
    sign-up reveals no one's account (its holder is e-mailed instead)."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        within_budget = _within(
            "sign-up:ip", client_ip(request) or "", settings.SIGN_UPS_PER_IP_PER_HOUR
        ) and _within("sign-up:address", email, settings.SIGN_UPS_PER_ADDRESS_PER_HOUR)
        if not within_budget:
            form.add_error(None, _("Too many sign-ups from here. Please try again in an hour."))
            return render(request, "accounts/sign_up.html", {"form": form})
        user = onboarding.user_sign_up(
            email=email,
            full_name=form.cleaned_data["full_name"],
            password=form.cleaned_data["password1"],
            organization_name=form.cleaned_data["organization_name"],
            ip=client_ip(request),
        )
        if user is not None:
            request.session[SIGNED_UP_SESSION_KEY] = user.pk
        request.session["signed_up_email"] = email
        return redirect("sign_up_sent")
    return render(request, "accounts/sign_up.html", {"form": form})


@require_GET
def sign_up_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/sign_up_sent.html", {"email": request.session.get("signed_up_email")}
    )


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the confirmation e-mail. Opening it changes nothing (mail scanners
    open links); the person confirms with a button. Whoever holds the link must also
    hold the account: the browser that signed up, the signed-in account, or its
    password; so an address someone else registered is not confirmed by its holder's
    click. In the browser that signed up, confirming also signs the new account in."""
    user = onboarding.user_for_confirmation_token(token)
    if user is None:
        return render(request, "accounts/email_confirm_invalid.html", status=404)
    signed_up_here = request.session.get(SIGNED_UP_SESSION_KEY) == user.pk
    holds_account = signed_up_here or request.user == user
    form = EmailConfirmForm(
        request.POST if request.method == "POST" else None,
        user=user,
        needs_password=not holds_account,
    )
    if request.method == "GET" or not form.is_valid():
        return render(request, "accounts/email_confirm.html", {"form": form, "account": user})
    services.user_confirm_email(user=user, ip=client_ip(request))
    messages.success(request, _("Thank you: your e-mail address is confirmed."))
    if request.user.is_authenticated:
        return redirect("home")
    request.session.pop(SIGNED_UP_SESSION_KEY, None)
    if signed_up_here and not user_has_device(user):
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        services.user_record_sign_in(user=user, ip=client_ip(request))
        return redirect("home")
    return redirect("login")


@login_required
@require_POST
def email_confirm_resend(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.email_confirmed:
        return redirect("home")
    if _within("email-confirmation", str(user.pk), settings.SIGN_UPS_PER_ADDRESS_PER_HOUR):
        onboarding.email_confirmation_send(user=user)
        message = _("A new confirmation link is on its way to %(email)s.")
        messages.success(request, message % {"email": user.email})
    else:
        messages.error(request, _("Several links were sent already. Please try again later."))
    return redirect(safe_next_url(request, request.POST.get("next")) or "profile")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, under per-address and per-IP budgets. Over budget, the
    answer is the same "check your e-mail" page and nothing is sent."""

    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        within_budget = _within(
            "password-reset:ip",
            client_ip(self.request) or "",
            settings.PASSWORD_RESETS_PER_IP_PER_HOUR,
        ) and _within(
            "password-reset:address",
            form.cleaned_data["email"].strip().lower(),
            settings.PASSWORD_RESETS_PER_ADDRESS_PER_HOUR,
        )
        if not within_budget:
            return redirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choosing a password from an e-mailed link also proves the address."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        services.user_confirm_email(user=form.user, ip=client_ip(self.request))
        # Whoever spent the account's sign-in budget cannot keep its holder out.
        throttle.sign_in_budget_restore(account=f"user:{form.user.pk}")
        return response
