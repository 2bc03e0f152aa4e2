"""Every change to users, organisations, memberships and invitations goes through here."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail, send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts import throttle
from accounts.errors import RuleError
from accounts.models import (
    MANAGER_ROLES,
    ApiKey,
    AuditAction,
    AuditEvent,
    Invitation,
    Membership,
    Notice,
    Organization,
    Role,
    User,
)
from padu.batches import delete_in_batches


class MembershipRuleError(RuleError):
    """A change the role rules forbid."""


def audit_record(
    *,
    action: str,
    organization: Organization | None = None,
    actor: User | None = None,
    target: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """Append one audit event."""
    return AuditEvent.objects.create(
        organization=organization, actor=actor, action=action, target=target[:255], ip=ip
    )


def audit_events_purge(*, before: datetime) -> int:
    """Delete audit events older than `before`; returns how many."""
    return delete_in_batches(AuditEvent.objects.filter(created_at__lt=before))


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug = base
    while Organization.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


@transaction.atomic
def organization_create(*, name: str, owner: User | None, ip: str | None = None) -> Organization:
    """Create an organisation with `owner` as its creator and first owner (None: an
    operator creates it and provides its owner)."""
    organization = Organization.objects.create(name=name, slug=_unique_slug(name), created_by=owner)
    if owner is not None:
        Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
    audit_record(
        action=AuditAction.ORGANIZATION_CREATED,
        organization=organization,
        actor=owner,
        target=name,
        ip=ip,
    )
    return organization


@transaction.atomic
def organization_rename(*, membership: Membership, name: str, ip: str | None = None) -> None:
    organization = membership.organization
    organization.name = name
    organization.save(update_fields=["name"])
    audit_record(
        action=AuditAction.ORGANIZATION_RENAMED,
        organization=organization,
        actor=membership.user,
        target=name,
        ip=ip,
    )


@transaction.atomic
def organization_set_suspended(
    *, organization: Organization, suspended: bool, actor: User | None, ip: str | None = None
) -> bool:
    """Suspend or reinstate an organisation; False when it already was in that state."""
    changed = Organization.objects.filter(pk=organization.pk, is_suspended=not suspended).update(
        is_suspended=suspended, suspended_at=timezone.now() if suspended else None
    )
    if not changed:
        return False
    organization.refresh_from_db(fields=["is_suspended", "suspended_at"])
    audit_record(
        action=(
            AuditAction.ORGANIZATION_SUSPENDED
            if suspended
            else AuditAction.ORGANIZATION_UNSUSPENDED
        ),
        organization=organization,
        actor=actor,
        target=organization.name,
        ip=ip,
    )
    return True


def create_user_who_agreed(
    *, email: str, full_name: str, password: str, email_confirmed: bool = False
) -> User:
    """An account whose holder accepted the terms and the current privacy policy and
    confirmed being 18 or older now."""
    now, version = timezone.now(), settings.PRIVACY_POLICY_VERSION
    return User.objects.create_user(
        email=email,
        password=password,
        full_name=full_name,
        terms_accepted_at=now,
        adult_confirmed_at=now,
        policy_version_accepted=version,
        policy_version_emailed=version,
        policy_version_seen=version,
        email_confirmed_at=now if email_confirmed else None,
    )


def user_record_sign_in(*, user: User, ip: str | None) -> None:
    """Record a sign-in on the person, not in any organisation's log: a member of two
    organisations shows neither where they sign in from."""
    audit_record(action=AuditAction.SIGNED_IN, actor=user, target=user.email, ip=ip)


@transaction.atomic
def user_confirm_email(*, user: User, ip: str | None = None) -> bool:
    """Mark the account's address as confirmed; False when it already was."""
    confirmed = User.objects.filter(pk=user.pk, email_confirmed_at__isnull=True).update(
        email_confirmed_at=timezone.now()
    )
    if not confirmed:
        return False
    user.refresh_from_db(fields=["email_confirmed_at"])
    audit_record(action=AuditAction.EMAIL_CONFIRMED, actor=user, target=user.email, ip=ip)
    return True


def _check_role_change_allowed(actor: Membership, membership: Membership, new_role: str) -> None:
    if not actor.is_manager:
        raise MembershipRuleError(_("Only owners and admins can manage members."))
    touches_owner = Role.OWNER in (membership.role, new_role)
    if touches_owner and not actor.is_owner:
        raise MembershipRuleError(_("Only owners can grant or remove the owner role."))


def _check_not_last_owner(membership: Membership) -> None:
    if membership.role != Role.OWNER:
        return
    owners = Membership.objects.for_org(membership.organization).filter(role=Role.OWNER)
    # Lock the owners' rows so two owners demoting each other at once cannot both succeed.
    if len(owners.select_for_update().values_list("pk", flat=True)) <= 1:
        raise MembershipRuleError(
            _("An organisation needs at least one owner. Make someone else an owner first.")
        )


@transaction.atomic
def membership_change_role(
    *, actor: Membership, membership: Membership, role: str, ip: str | None = None
) -> None:
    """Change a member's role under the role rules."""
    if role not in Role.values:
        raise MembershipRuleError(_("Unknown role."))
    if role == membership.role:
        return
    _check_role_change_allowed(actor, membership, role)
    _check_not_last_owner(membership)
    old_role = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if role not in MANAGER_ROLES:
        _api_keys_revoke(membership, actor=actor.user, ip=ip)
    audit_record(
        action=AuditAction.MEMBER_ROLE_CHANGED,
        organization=membership.organization,
        actor=actor.user,
        target=f"{membership.user.email}: {old_role} → {role}",
        ip=ip,
    )


def _api_keys_revoke(membership: Membership, *, actor: User | None, ip: str | None) -> None:
    """A key acts for its creator: it stops when they stop being a manager or leave."""
    keys = list(
        ApiKey.objects.for_org(membership.organization).active().filter(membership=membership)
    )
    ApiKey.objects.filter(pk__in=[key.pk for key in keys]).update(revoked_at=timezone.now())
    for key in keys:
        audit_record(
            action=AuditAction.API_KEY_REVOKED,
            organization=membership.organization,
            actor=actor,
            target=f"{key}, created by {membership.user.email}",
            ip=ip,
        )


def _membership_end(*, membership: Membership, actor: User, action: str, ip: str | None) -> None:
    _check_not_last_owner(membership)
    _api_keys_revoke(membership, actor=actor, ip=ip)
    membership.delete()
    audit_record(
        action=action,
        organization=membership.organization,
        actor=actor,
        target=membership.user.email,
        ip=ip,
    )


@transaction.atomic
def membership_remove(*, actor: Membership, membership: Membership, ip: str | None = None) -> None:
    """Remove another member under the role rules (leaving is `membership_leave`)."""
    if actor.pk == membership.pk:
        raise MembershipRuleError(_("To leave the organisation, use Leave in its settings."))
    _check_role_change_allowed(actor, membership, membership.role)
    _membership_end(
        membership=membership, actor=actor.user, action=AuditAction.MEMBER_REMOVED, ip=ip
    )


@transaction.atomic
def membership_leave(*, membership: Membership, ip: str | None = None) -> None:
    """The member leaves the organisation (unless they are its last owner)."""
    _membership_end(
        membership=membership, actor=membership.user, action=AuditAction.MEMBER_LEFT, ip=ip
    )


@transaction.atomic
def membership_add(
    *, organization: Organization, user: User, role: str, actor: User | None = None
) -> Membership:
    """Put `user` in `organization` with `role` (an operator's action: no invitation)."""
    membership = (
        Membership.objects.for_org(organization).select_for_update().filter(user=user).first()
    )
    if membership is None:
        membership = Membership.objects.create(user=user, organization=organization, role=role)
        action = AuditAction.MEMBER_ADDED
    elif membership.role != role:
        _check_not_last_owner(membership)
        membership.role = role
        membership.save(update_fields=["role"])
        if role not in MANAGER_ROLES:
            _api_keys_revoke(membership, actor=actor, ip=None)
        action = AuditAction.MEMBER_ROLE_CHANGED
    else:
        return membership
    audit_record(
        action=action, organization=organization, actor=actor, target=f"{user.email} ({role})"
    )
    return membership


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_for_token(token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=_token_hash(token))
        .first()
    )


def _send_invitation_email(invitation: Invitation, token: str, language: str) -> None:
    link = settings.SITE_URL + reverse("invitation_accept", args=[token])
    context = {"invitation": invitation, "link": link}
    with translation.override(language):
        # Names come from people; a line break in a header would end the e-mail's headers.
        subject = _("You are invited to %(organization)s on Padu") % {
            "organization": " ".join(invitation.organization.name.split())
        }
        body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])


@transaction.atomic
def invitation_issue(
    *,
    organization: Organization,
    email: str,
    role: str,
    invited_by: User | None,
    ip: str | None = None,
) -> Invitation:
    """Invite `email` to `organization` (replacing a pending invitation to the same
    address); the link is single-use and expires after INVITATION_VALID_DAYS. The e-mail
    goes out once the invitation is committed."""
    email = User.objects.normalize_email(email).lower()
    Invitation.objects.for_org(organization).pending().filter(email=email).delete()
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    audit_record(
        action=AuditAction.INVITATION_SENT,
        organization=organization,
        actor=invited_by,
        target=f"{email} ({role})",
        ip=ip,
    )
    language = translation.get_language()
    transaction.on_commit(lambda: _send_invitation_email(invitation, token, language))
    return invitation


def _check_invitation_budget(actor: Membership) -> None:
    hour, day = 60 * 60, 24 * 60 * 60
    within_budget = throttle.hit(
        "invitations:member",
        str(actor.pk),
        limit=settings.INVITATIONS_PER_MEMBER_PER_HOUR,
        window_seconds=hour,
    ) and throttle.hit(
        "invitations:organization",
        str(actor.organization_id),
        limit=settings.INVITATIONS_PER_ORGANIZATION_PER_DAY,
        window_seconds=day,
    )
    if not within_budget:
        raise MembershipRuleError(
            _("You have sent many invitations recently. Please try again later.")
        )


@transaction.atomic
def invitation_create(
    *, actor: Membership, email: str, role: str, ip: str | None = None
) -> Invitation:
    """A member's invitation, under the role rules and the invitation budgets (per
    member an hour, per organisation a day)."""
    _check_role_change_allowed(actor, Membership(role=Role.AGENT), role)
    organization = actor.organization
    members = Membership.objects.for_org(organization)
    if members.filter(user__in=User.objects.with_email(email)).exists():
        raise MembershipRuleError(_("%(email)s is already a member.") % {"email": email})
    _check_invitation_budget(actor)
    return invitation_issue(
        organization=organization, email=email, role=role, invited_by=actor.user, ip=ip
    )


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation, ip: str | None = None) -> None:
    _check_role_change_allowed(actor, Membership(role=Role.AGENT), invitation.role)
    invitation.delete()
    audit_record(
        action=AuditAction.INVITATION_REVOKED,
        organization=actor.organization,
        actor=actor.user,
        target=invitation.email,
        ip=ip,
    )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User, ip: str | None = None) -> Membership:
    """Join the invitation's organisation. The claim on the invitation is atomic, so a
    link used twice at once still adds one member."""
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).update(accepted_at=timezone.now(), accepted_by=user)
    if not claimed:
        raise MembershipRuleError(_("This invitation has expired or has already been used."))
    membership, created = Membership.objects.get_or_create(
        user=user, organization=invitation.organization, defaults={"role": invitation.role}
    )
    # The link reached the invited address, and the account is that address's.
    user_confirm_email(user=user, ip=ip)
    if created:
        audit_record(
            action=AuditAction.INVITATION_ACCEPTED,
            organization=invitation.organization,
            actor=user,
            target=f"{user.email} ({invitation.role})",
            ip=ip,
        )
    return membership


@transaction.atomic
def invitation_accept_with_sign_up(
    *, invitation: Invitation, full_name: str, password: str, ip: str | None = None
) -> User:
    """Create the invited person's account (with the terms accepted) and join."""
    user = create_user_who_agreed(email=invitation.email, full_name=full_name, password=password)
    invitation_accept(invitation=invitation, user=user, ip=ip)
    return user


def invitations_purge_expired(*, older_than_days: int = 30) -> int:
    """Delete invitations that expired more than `older_than_days` ago, and used ones as
    old; returns how many went. The audit log keeps the record that they existed."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _per_model = Invitation.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


def managers_notify(
    *, organization: Organization, subject: str, message: str, link: str = "", topic: str = ""
) -> Notice:
    """Tell the organisation's owners and admins: a notice in the app until dismissed,
    and an e-mail once the change is committed. `topic` names what the notice is about
    (e.g. a channel), so a page that shows that thing's state in place can leave the
    notice out."""
    notice = Notice.objects.create(
        organization=organization, message=message[:500], link=link, topic=topic
    )
    managers_email(organization=organization, subject=subject, message=message, link=link)
    return notice


def managers_email(
    *, organization: Organization, subject: str, message: str, link: str = ""
) -> None:
    """E-mail the organisation's owners and admins once the change is committed (and no
    notice: for what the app already shows on every page while it lasts)."""
    recipients = list(
        Membership.objects.for_org(organization)
        .filter(role__in=MANAGER_ROLES, user__is_active=True)
        .values_list("user__email", flat=True)
    )
    body = message + (f"\n\n{settings.SITE_URL}{link}" if link else "")
    if recipients:
        emails = tuple((subject, body, None, [recipient]) for recipient in recipients)
        transaction.on_commit(lambda: send_mass_mail(emails))


def notice_dismiss(*, membership: Membership, notice: Notice) -> None:
    Notice.objects.for_org(membership.organization).filter(
        pk=notice.pk, dismissed_at__isnull=True
    ).update(dismissed_at=timezone.now())
