"""Signing up, in and out, and the password pages (Django's own views, themed)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import SignInForm, SignUpForm
from accounts.models import AuditAction
from accounts.net import client_ip


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "client_ip": client_ip(self.request)}

    def form_valid(self, form: SignInForm) -> HttpResponse:
        response = super().form_valid(form)
        services.user_record_sign_in(user=form.get_user(), ip=client_ip(self.request))
        return response

    def form_invalid(self, form: SignInForm) -> HttpResponse:
        if form.locked_now:
            services.audit_record(
                action=AuditAction.SIGN_IN_LOCKED,
                target=form.cleaned_data.get("username", ""),
                ip=client_ip(self.request),
            )
        return super().form_invalid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        services.audit_record(
            action=AuditAction.PASSWORD_CHANGED,
            actor=self.request.user,
            ip=client_ip(self.request),
        )
        messages.success(self.request, _("Your password has been changed."))
        return response


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_sign_up(
            email=form.cleaned_data["email"],
            full_name=form.cleaned_data["full_name"],
            password=form.cleaned_data["password1"],
            organization_name=form.cleaned_data["organization_name"],
            ip=client_ip(request),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to Padu! Invite your colleagues to get started."))
        return redirect("home")
    return render(request, "accounts/sign_up.html", {"form": form})
