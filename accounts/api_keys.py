"""Creating, revoking and recognising the organisation's API keys.

A key is `padu_` and 43 random URL-safe characters (256 bits), shown once when it is
created; only its SHA-256 is stored, so a copy of the database holds no usable key. A
key acts for the manager who created it, within its scope; see `ApiKey`."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiKey, ApiKeyScope, AuditAction, Membership
from accounts.services import MembershipRuleError, audit_record

KEY_PREFIX = "padu_"
MAX_ACTIVE_KEYS = 50
# How stale "last used" may get: a busy key is not written on every request.
LAST_USE_PRECISION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, membership: Membership, name: str, scope: str, ip: str | None = None
) -> tuple[ApiKey, str]:
    """Create a key acting for `membership` (an owner or admin); returns the key's row and
    the key itself, which is never shown again."""
    if not membership.is_manager:
        raise MembershipRuleError(_("Only owners and admins can create API keys."))
    if scope not in ApiKeyScope.values:
        raise MembershipRuleError(_("Unknown scope."))
    active = ApiKey.objects.for_org(membership.organization).active()
    if active.count() >= MAX_ACTIVE_KEYS:
        raise MembershipRuleError(
            _("An organisation can have at most %(count)d API keys. Revoke one first.")
            % {"count": MAX_ACTIVE_KEYS}
        )
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        organization=membership.organization,
        membership=membership,
        name=name,
        scope=scope,
        prefix=secret[:12],
        secret_hash=_hash(secret),
    )
    audit_record(
        action=AuditAction.API_KEY_CREATED,
        organization=membership.organization,
        actor=membership.user,
        target=f"{api_key} · {api_key.get_scope_display()}",
        ip=ip,
    )
    return api_key, secret


def api_key_revoke(*, membership: Membership, api_key: ApiKey, ip: str | None = None) -> bool:
    """Revoke the key at once; False if it already was."""
    if not membership.is_manager:
        raise MembershipRuleError(_("Only owners and admins can revoke API keys."))
    revoked = (
        ApiKey.objects.for_org(membership.organization)
        .active()
        .filter(pk=api_key.pk)
        .update(revoked_at=timezone.now())
    )
    if revoked:
        audit_record(
            action=AuditAction.API_KEY_REVOKED,
            organization=membership.organization,
            actor=membership.user,
            target=str(api_key),
            ip=ip,
        )
    return bool(revoked)


def api_key_for_secret(secret: str) -> ApiKey | None:
    """The active key this secret is, with its member, user and organisation; None for
    anything else."""
    if not secret.startswith(KEY_PREFIX):
        return None
    return (
        ApiKey.objects.active()
        .select_related("membership__user", "organization")
        .filter(secret_hash=_hash(secret))
        .first()
    )


def api_key_record_use(*, api_key: ApiKey, ip: str | None, now: datetime | None = None) -> None:
    """Note when and from where the key was last used (to the minute, or a new address)."""
    now = now or timezone.now()
    fresh = api_key.last_used_at and now - api_key.last_used_at < LAST_USE_PRECISION
    if fresh and api_key.last_used_ip == ip:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now, last_used_ip=ip)
