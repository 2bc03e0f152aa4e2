"""The platform administration: Django admin for staff who have passed a second factor
in this browser session.

It has no sign-in form of its own. Its login address sends people to Padu's sign-in page,
so staff sign in through the same throttled and audited path as everyone else.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.net import safe_next_url
from accounts.two_factor.session import redirect_to_second_factor


class PlatformAdminSite(AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and request.user.is_verified()

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        next_url = safe_next_url(request, request.GET.get(REDIRECT_FIELD_NAME)) or reverse(
            "admin:index", current_app=self.name
        )
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url)
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        if user.is_verified():
            return redirect(next_url)
        return redirect_to_second_factor(
            request,
            next_url=next_url,
            reason=_("The platform administration needs a second factor."),
        )
