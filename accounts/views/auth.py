"""Signing in and out, and changing a password (Django's own views, themed)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from accounts import services
from accounts.forms import SignInForm
from accounts.models import AuditAction
from accounts.net import client_ip
from accounts.two_factor.selectors import user_has_two_factor
from accounts.two_factor.session import pending_sign_in_start


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "client_ip": client_ip(self.request)}

    def form_valid(self, form: SignInForm) -> HttpResponse:
        user = form.get_user()
        if user_has_two_factor(user):
            # The password was right, but nothing opens until the code step accepts a code.
            pending_sign_in_start(self.request, user=user, next_url=self.get_redirect_url())
            return redirect("sign_in_code")
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
