"""Tenant access: the one path from a request to its organisation and membership.

Tenant views are wrapped in `tenant_view`: it resolves `/o/<org_slug>/` to the signed-in
user's membership (404 when there is none, so another tenant's URL reveals nothing),
serves the suspended page for suspended organisations, asks for a second factor where
the organisation requires one, and checks the role in one place.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Invitation, Membership, Notice
from accounts.two_factor.session import redirect_to_second_factor

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponse

    from accounts.models import User


def membership_for_user(user: User, org_slug: str) -> Membership:
    """The user's membership in the organisation with this slug, or 404."""
    try:
        return Membership.objects.select_related("organization").get(
            user=user, organization__slug=org_slug
        )
    except Membership.DoesNotExist:
        raise Http404 from None


def membership_for_member(member: Membership, pk: int) -> Membership:
    """A membership of the member's organisation, or 404 (also for other tenants' ids)."""
    queryset = Membership.objects.for_org(member.organization).select_related("user")
    try:
        return queryset.get(pk=pk)
    except Membership.DoesNotExist:
        raise Http404 from None


def pending_invitation_for_member(member: Membership, pk: int) -> Invitation:
    """A pending invitation of the member's organisation, or 404."""
    try:
        return Invitation.objects.for_org(member.organization).pending().get(pk=pk)
    except Invitation.DoesNotExist:
        raise Http404 from None


def notice_for_member(member: Membership, pk: int) -> Notice:
    try:
        return Notice.objects.for_org(member.organization).get(pk=pk)
    except Notice.DoesNotExist:
        raise Http404 from None


def require_manager(membership: Membership) -> None:
    """Owners and admins only; agents get 403 (they are members, so the page exists)."""
    if not membership.is_manager:
        raise PermissionDenied


def require_owner(membership: Membership) -> None:
    if not membership.is_owner:
        raise PermissionDenied


def _ask_for_second_factor(request: HttpRequest, membership: Membership) -> HttpResponse:
    organization = membership.organization
    # After the code, a form's POST address would only answer 405: go to the overview.
    next_url = (
        request.get_full_path()
        if request.method == "GET"
        else reverse("organization_home", args=[organization.slug])
    )
    return redirect_to_second_factor(
        request,
        next_url=next_url,
        reason=_("%(organization)s requires two-factor authentication.")
        % {"organization": organization.name},
    )


def tenant_view(*, managers_only: bool = False) -> Callable:
    """Decorate a view taking `org_slug`; it receives `request.membership` and
    `request.organization` set for the signed-in member."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, org_slug: str, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_for_user(request.user, org_slug)
            organization = membership.organization
            if organization.is_suspended:
                return render(
                    request, "accounts/suspended.html", {"organization": organization}, status=403
                )
            if organization.require_two_factor and not request.user.is_verified():
                return _ask_for_second_factor(request, membership)
            if not request.user.email_confirmed and organization.created_by_id != request.user.pk:
                # Whoever registers an address first must not inherit what others give it.
                return render(
                    request,
                    "accounts/email_unconfirmed.html",
                    {"organization": organization},
                    status=403,
                )
            if managers_only:
                require_manager(membership)
            request.membership = membership
            request.organization = organization
            if request.session.get("current_org") != organization.slug:
                request.session["current_org"] = organization.slug
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
