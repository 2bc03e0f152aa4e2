"""The members page: who is in the organisation, invitations, roles."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import InvitationForm, InvitedSignUpForm, RoleForm
from accounts.models import Invitation, Membership, User
from accounts.net import client_ip
from accounts.tenancy import get_for_member, tenant_view


def _members_page(request: HttpRequest, invitation_form: InvitationForm) -> HttpResponse:
    organization = request.organization
    context = {
        "members": selectors.members_for_org(organization),
        "pending_invitations": selectors.pending_invitations_for_org(organization),
        "invitation_form": invitation_form,
        "role_form": RoleForm(),
    }
    return render(request, "accounts/members.html", context)


def _to_members(request: HttpRequest) -> HttpResponse:
    return redirect("members", org_slug=request.organization.slug)


def _confirmation(request: HttpRequest, template: str, **context) -> HttpResponse:
    """The members page's question before an action that cannot be undone."""
    cancel_url = reverse("members", args=[request.organization.slug])
    return render(request, template, {**context, "cancel_url": cancel_url})


def _member(request: HttpRequest, membership_id: int) -> Membership:
    return get_for_member(
        Membership.objects.select_related("user"), request.membership, membership_id
    )


@require_GET
@tenant_view()
def members(request: HttpRequest) -> HttpResponse:
    return _members_page(request, InvitationForm())


@require_POST
@tenant_view(managers_only=True)
def invitation_create(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _members_page(request, form)
    try:
        invitation = services.invitation_create(
            actor=request.membership,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            ip=client_ip(request),
        )
    except services.MembershipRuleError as error:
        form.add_error(None, str(error))
        return _members_page(request, form)
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
    return _to_members(request)


@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True)
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """GET asks to confirm; POST withdraws the invitation."""
    invitation = get_for_member(Invitation.objects.pending(), request.membership, invitation_id)
    if request.method == "GET":
        return _confirmation(
            request, "accounts/invitation_revoke_confirm.html", invitation=invitation
        )
    try:
        services.invitation_revoke(
            actor=request.membership, invitation=invitation, ip=client_ip(request)
        )
    except services.MembershipRuleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The invitation has been withdrawn."))
    return _to_members(request)


@require_POST
@tenant_view(managers_only=True)
def member_change_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _member(request, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
        return _to_members(request)
    try:
        services.membership_change_role(
            actor=request.membership,
            membership=membership,
            role=form.cleaned_data["role"],
            ip=client_ip(request),
        )
    except services.MembershipRuleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s is now %(role)s.")
            % {"name": membership.user.get_full_name(), "role": membership.get_role_display()},
        )
    return _to_members(request)


@require_http_methods(["GET", "POST"])
@tenant_view(managers_only=True)
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    """GET asks to confirm; POST removes the member."""
    membership = _member(request, membership_id)
    if request.method == "GET":
        return _confirmation(request, "accounts/member_remove_confirm.html", member=membership)
    try:
        services.membership_remove(
            actor=request.membership, membership=membership, ip=client_ip(request)
        )
    except services.MembershipRuleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s has been removed.") % {"name": membership.user.get_full_name()},
        )
    return _to_members(request)


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the invitation e-mail: join with the account of the invited
    address, creating it when there is none."""
    invitation = services.invitation_for_token(token)
    if invitation is None or invitation.accepted_at or invitation.is_expired:
        return render(request, "accounts/invitation_invalid.html", status=404)
    if invitation.organization.is_suspended:
        return render(
            request,
            "accounts/suspended.html",
            {"organization": invitation.organization},
            status=403,
        )
    existing_user = selectors.user_for_email(invitation.email)
    context = {"invitation": invitation, "existing_user": existing_user}
    if request.user.is_authenticated:
        if request.user.email.lower() != invitation.email.lower():
            return render(request, "accounts/invitation_other_account.html", context)
        if request.method == "POST":
            return _join(request, invitation, request.user)
        return render(request, "accounts/invitation_accept.html", context)
    if existing_user:
        return render(request, "accounts/invitation_accept.html", context)
    form = InvitedSignUpForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept_with_sign_up(
                invitation=invitation,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                ip=client_ip(request),
            )
        except services.MembershipRuleError as error:
            messages.error(request, str(error))
            return redirect("home")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return _joined(request, invitation)
    return render(request, "accounts/invitation_accept.html", {**context, "form": form})


def _join(request: HttpRequest, invitation: Invitation, user: User) -> HttpResponse:
    try:
        services.invitation_accept(invitation=invitation, user=user, ip=client_ip(request))
    except services.MembershipRuleError as error:
        messages.error(request, str(error))
        return redirect("home")
    return _joined(request, invitation)


def _joined(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    messages.success(
        request, _("Welcome to %(organization)s.") % {"organization": invitation.organization}
    )
    return redirect("organization_home", org_slug=invitation.organization.slug)
