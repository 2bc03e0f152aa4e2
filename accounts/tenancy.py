"""Tenant access: the one path from a request to its organisation and membership.

`tenant_membership` resolves `/o/<org_slug>/` to the signed-in user's membership (404
when there is none, so another tenant's URL reveals nothing) and applies the
organisation's conditions of entry. Web views are wrapped in `tenant_view`, API views
extend `TenantAPIView`; both call it, so the web and the API cannot disagree about who
is in. Objects are then fetched with `get_for_member`, which scopes every look-up to
the member's organisation.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS
from rest_framework.views import APIView

from accounts.models import ApiKey, Membership
from accounts.two_factor.session import redirect_to_second_factor

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django.db.models import Model, QuerySet
    from django.http import HttpRequest, HttpResponse
    from rest_framework.request import Request

    from accounts.models import TenantQuerySet, User

ModelT = TypeVar("ModelT", bound="Model")


class EntryRefused(PermissionDenied):
    """A member whom the organisation's conditions of entry keep out, for now."""

    def __init__(self, message: str, *, membership: Membership) -> None:
        super().__init__(message)
        self.membership = membership
        self.organization = membership.organization


class OrganizationSuspended(EntryRefused):
    """The organisation is suspended: its members may open nothing in it."""


class SecondFactorRequired(EntryRefused):
    """The organisation requires two-factor authentication and this sign-in had none."""


class EmailUnconfirmed(EntryRefused):
    """The member has not confirmed their address, and did not create the organisation."""


def user_memberships(user: User) -> QuerySet[Membership]:
    """Every membership of the user, with its organisation, by the organisation's name."""
    return (
        Membership.objects.filter(user=user, organization__deletion_requested_at__isnull=True)
        .select_related("organization")
        .order_by("organization__name")
    )


def tenant_membership(
    user: User,
    org_slug: str,
    memberships: Iterable[Membership] | None = None,
    *,
    suspended_too: bool = False,
) -> Membership:
    """The user's membership in the organisation with this slug: 404 for anyone who is
    not a member, and a PermissionDenied subclass saying why when the organisation's
    conditions of entry are not met. `memberships`, when given, are all of the user's
    (`user_memberships`), read once for the page's organisation switcher too.
    `suspended_too` lets members into a suspended organisation (to delete it)."""
    if not user.is_authenticated:
        raise Http404
    if memberships is None:
        memberships = Membership.objects.select_related("organization").filter(
            user=user, organization__slug=org_slug
        )
    membership = next((m for m in memberships if m.organization.slug == org_slug), None)
    if membership is None or membership.organization.deletion_requested_at is not None:
        raise Http404
    organization = membership.organization
    if organization.is_suspended and not suspended_too:
        raise OrganizationSuspended(_("This organisation is suspended."), membership=membership)
    if organization.require_two_factor and not user.is_verified():
        raise SecondFactorRequired(
            _("%(organization)s requires two-factor authentication.")
            % {"organization": organization.name},
            membership=membership,
        )
    if not user.email_confirmed and organization.created_by_id != user.pk:
        # Whoever registers an address first must not inherit what others give it.
        raise EmailUnconfirmed(_("Confirm your e-mail address first."), membership=membership)
    return membership


def get_for_member(queryset: TenantQuerySet[ModelT], membership: Membership, pk: object) -> ModelT:
    """The row with this primary key among the member's organisation's rows, or 404
    (for a missing row and another tenant's alike)."""
    try:
        return queryset.for_org(membership.organization).get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None


def require_manager(membership: Membership) -> None:
    """Owners and admins only; agents get 403 (they are members, so the page exists)."""
    if not membership.is_manager:
        raise PermissionDenied


def require_owner(membership: Membership) -> None:
    if not membership.is_owner:
        raise PermissionDenied


def _ask_for_second_factor(request: HttpRequest, org_slug: str, reason: str) -> HttpResponse:
    # After the code, a form's POST address would only answer 405: go to the overview.
    next_url = (
        request.get_full_path()
        if request.method == "GET"
        else reverse("organization_home", args=[org_slug])
    )
    return redirect_to_second_factor(request, next_url=next_url, reason=reason)


def _refusal_page(request: HttpRequest, refusal: EntryRefused) -> HttpResponse:
    if isinstance(refusal, SecondFactorRequired):
        return _ask_for_second_factor(request, refusal.organization.slug, str(refusal))
    template = (
        "accounts/suspended.html"
        if isinstance(refusal, OrganizationSuspended)
        else "accounts/email_unconfirmed.html"
    )
    context = {"organization": refusal.organization, "membership": refusal.membership}
    return render(request, template, context, status=403)


def tenant_view(*, managers_only: bool = False, suspended_too: bool = False) -> Callable:
    """Decorate a view taking `org_slug`; it receives `request.membership` and
    `request.organization` set for the signed-in member (of a suspended organisation
    too, when `suspended_too`)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, org_slug: str, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            request.memberships = list(user_memberships(request.user))
            try:
                membership = tenant_membership(
                    request.user, org_slug, request.memberships, suspended_too=suspended_too
                )
            except EntryRefused as refusal:
                return _refusal_page(request, refusal)
            request.membership = membership
            request.organization = membership.organization
            if managers_only:
                require_manager(membership)
            if request.session.get("current_org") != org_slug:
                request.session["current_org"] = org_slug
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def api_key_membership(api_key: ApiKey, org_slug: str, method: str) -> Membership:
    """The membership a key acts for, in the organisation with this slug: 404 for another
    organisation's key, 403 in a suspended organisation or when a read key would write.
    (The organisation's second-factor rule was met by the manager who made the key.)"""
    organization = api_key.organization
    if organization.slug != org_slug or organization.deletion_requested_at is not None:
        raise Http404
    membership = api_key.membership
    membership.organization = organization
    if organization.is_suspended:
        raise OrganizationSuspended(_("This organisation is suspended."), membership=membership)
    if method not in SAFE_METHODS and not api_key.can_write:
        raise PermissionDenied(_("This API key may only read."))
    return membership


class TenantAPIView(APIView):
    """Base of every API view under `/o/<org_slug>/` or `/api/v1/o/<org_slug>/`: after
    DRF's authentication and permission checks, `initial` resolves the member (of a
    signed-in user through `tenant_membership`, of an API key through
    `api_key_membership`), so a non-member gets 404 and a refused member 403."""

    membership: Membership
    managers_only = False

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if isinstance(request.auth, ApiKey):
            self.membership = api_key_membership(request.auth, kwargs["org_slug"], request.method)
        else:
            self.membership = tenant_membership(request.user, kwargs["org_slug"])
        if self.managers_only:
            require_manager(self.membership)
        self.organization = self.membership.organization
