from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import (
    ApiKey,
    AuditAction,
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    User,
)


def default_organization_slug(user: User, last_used_slug: str | None) -> str | None:
    """The organisation to open for a signed-in user: the last used, else the first."""
    slugs = list(
        Membership.objects.filter(user=user, organization__deletion_requested_at__isnull=True)
        .order_by("organization__name")
        .values_list("organization__slug", flat=True)
    )
    if last_used_slug in slugs:
        return last_used_slug
    return slugs[0] if slugs else None


def members_for_org(organization: Organization):
    return (
        Membership.objects.for_org(organization)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def pending_invitations_for_org(organization: Organization):
    return Invitation.objects.for_org(organization).pending().select_related("invited_by")


def audit_events_for_org(organization: Organization):
    return AuditEvent.objects.for_org(organization).select_related("actor")


def user_for_email(email: str) -> User | None:
    return User.objects.with_email(email).first()


def recent_sign_ins(user: User, limit: int = 10):
    """The person's own latest sign-ins (recorded on them, in no organisation's log)."""
    return AuditEvent.objects.filter(
        actor=user, organization__isnull=True, action=AuditAction.SIGNED_IN
    )[:limit]


def active_api_keys(organization: Organization) -> QuerySet[ApiKey]:
    """The organisation's keys that work, newest first, with who made each."""
    return ApiKey.objects.for_org(organization).active().select_related("membership__user")
