"""Deleting an account, and deleting an organisation.

An account goes at once: the person's own records with it, their address wiped from
what organisations keep (audit lines, notices, invitations); the messages and notes
they wrote stay with each organisation, no longer naming them. An organisation is
closed at once and erased by a worker: every channel released at Meta, then every
customer, conversation, file and row it owns, in batches that can be cut off and
resumed."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import throttle
from accounts.errors import RuleError
from accounts.models import (
    AuditAction,
    AuditEvent,
    Invitation,
    Membership,
    Notice,
    Organization,
    User,
)
from accounts.services import audit_record
from accounts.tenancy import require_owner
from channels_meta.models import Channel, ChannelStatus
from channels_meta.services.channels import channel_disconnect
from inbox.services.downloads import files_delete
from padu.mail import email_on_commit
from privacy.models import (
    AccessLogEntry,
    DataRequest,
    Export,
    RequestKind,
    RequestSource,
    RequestStatus,
)
from privacy.selectors import organizations_only_owned_by
from privacy.services.retention import channel_erase

logger = logging.getLogger(__name__)

PASSWORD_TRIES_PER_HOUR = 5
# Longer than the erasing task's time limit: an erasure asked for this long ago was cut off.
ERASURE_LASTS = timedelta(minutes=70)


class DeletionRefused(RuleError):
    """An account or organisation that cannot be deleted as asked."""


def _wipe(model: type[AuditEvent] | type[Notice], field: str, address: str, by: str) -> int:
    """Replace the e-mail address (in any case, not inside a longer one) by `by` wherever
    `field` holds it, within the field's length; returns how many rows held it."""
    pattern = rf"(^|[^a-z0-9._%+-]){re.escape(address)}(?![a-z0-9-]|\.[a-z0-9])"
    length = model._meta.get_field(field).max_length
    holding = model.objects.filter(**{f"{field}__iregex": pattern}).only("pk", field)
    wiped = 0
    for row in holding.iterator():
        text = re.sub(pattern, rf"\g<1>{by}", getattr(row, field), flags=re.IGNORECASE)
        model.objects.filter(pk=row.pk).update(**{field: text[:length]})
        wiped += 1
    return wiped


def _exports_delete(exports) -> int:
    names = [export.file for export in exports if export.file]
    transaction.on_commit(lambda: files_delete(*names), robust=True)
    return exports.delete()[1].get("privacy.Export", 0)


def _password_check(user: User, password: str, *, deleting: str) -> None:
    """Refuse a wrong password, and every try beyond a few an hour."""
    within_budget = throttle.hit(
        f"{deleting}-delete", str(user.pk), limit=PASSWORD_TRIES_PER_HOUR, window_seconds=3600
    )
    if not within_budget:
        raise DeletionRefused(_("Too many tries. Wait an hour, then try again."))
    if not user.check_password(password):
        raise DeletionRefused(_("That password is not right."))


def user_delete(*, user: User, password: str, ip: str | None = None) -> DataRequest:
    """Delete the account of a person who gives their password, unless they are the last
    owner of an organisation; returns the record kept that it was done."""
    _password_check(user, password, deleting="account")
    with transaction.atomic():
        return _user_delete(user, ip)


def _user_delete(user: User, ip: str | None) -> DataRequest:
    blocking = organizations_only_owned_by(user, lock=True)
    if blocking:
        raise DeletionRefused(
            _(
                "You are the only owner of %(organizations)s. Make someone else an owner "
                "or delete the organisation first."
            )
            % {"organizations": ", ".join(organization.name for organization in blocking)}
        )
    email, language = user.email, user.language
    memberships = list(Membership.objects.filter(user=user).select_related("organization"))
    for membership in memberships:
        audit_record(
            action=AuditAction.MEMBER_LEFT,
            organization=membership.organization,
            target=f"account #{user.pk} (deleted)",
        )
    outcome = {
        "memberships": len(memberships),
        "exports": _exports_delete(Export.objects.filter(requested_by=user)),
        "activity": AuditEvent.objects.filter(actor=user, organization__isnull=True).delete()[0],
        "access_log": AccessLogEntry.objects.filter(user=user).delete()[0],
        "invitations": Invitation.objects.filter(email__iexact=email).delete()[0],
        "mentions": _wipe(AuditEvent, "target", email, f"account #{user.pk}")
        + _wipe(Notice, "message", email, f"account #{user.pk}"),
    }
    user.delete()
    now = timezone.now()
    record = DataRequest.objects.create(
        kind=RequestKind.ERASURE,
        source=RequestSource.ACCOUNT,
        status=RequestStatus.COMPLETED,
        verified_at=now,
        completed_at=now,
        outcome=outcome,
    )
    audit_record(action=AuditAction.ACCOUNT_DELETED, target=str(record), ip=ip)
    email_on_commit(
        subject=gettext_lazy("Your Padu account has been deleted"),
        template="privacy/email/account_deleted.txt",
        context={"code": record.confirmation_code},
        to=email,
        language=language,
    )
    return record


def organization_delete(
    *,
    membership: Membership,
    confirmation: str,
    password: str,
    erase_later: Callable[[int], None],
    ip: str | None = None,
) -> None:
    """An owner who types the organisation's name and their password closes it for
    everyone at once; `erase_later` hands its erasure to a worker once this commits."""
    require_owner(membership)
    if " ".join(confirmation.split()) != " ".join(membership.organization.name.split()):
        raise DeletionRefused(_("Type the organisation's name exactly as shown to delete it."))
    _password_check(membership.user, password, deleting="organization")
    with transaction.atomic():
        _organization_close(membership, erase_later, ip)


def _organization_close(
    membership: Membership, erase_later: Callable[[int], None], ip: str | None
) -> None:
    organization = Organization.objects.select_for_update().get(pk=membership.organization_id)
    if organization.deletion_requested_at is not None:
        return
    organization.deletion_requested_at = timezone.now()
    organization.save(update_fields=["deletion_requested_at"])
    audit_record(
        action=AuditAction.ORGANIZATION_DELETION_REQUESTED,
        actor=membership.user,
        target=f"{organization.name} ({organization.slug})",
        ip=ip,
    )
    for member in Membership.objects.for_org(organization).select_related("user"):
        email_on_commit(
            subject=gettext_lazy("An organisation you belonged to on Padu has been deleted"),
            template="privacy/email/organization_deleted.txt",
            context={"organization": organization.name, "by": membership.user.get_full_name()},
            to=member.user.email,
            language=member.user.language,
        )
    transaction.on_commit(lambda: erase_later(organization.pk), robust=True)


def _erasable() -> Q:
    """Deleted, and no worker at its erasure (or one that began longer ago than a worker
    may take over it)."""
    stale = timezone.now() - ERASURE_LASTS
    return Q(deletion_requested_at__isnull=False) & (
        Q(erasure_claimed_at__isnull=True) | Q(erasure_claimed_at__lt=stale)
    )


def organizations_to_erase() -> list[int]:
    """Organisations whose erasure was cut off or lost: asked for (and taken up, if it
    was) longer ago than a worker may take over it."""
    stale = timezone.now() - ERASURE_LASTS
    return list(
        Organization.objects.filter(_erasable(), deletion_requested_at__lt=stale).values_list(
            "pk", flat=True
        )
    )


def organization_erase(*, organization_id: int) -> dict[str, int]:
    """Erase an organisation whose deletion was asked for: release each channel at Meta
    (unsubscribe, revoke the grant), erase every channel's customers and deliveries,
    delete the stored exports, then the organisation with every row left; returns the
    counts (nothing when another worker is at it). Safe to run again after a cut-off."""
    claimed = Organization.objects.filter(_erasable(), pk=organization_id).update(
        erasure_claimed_at=timezone.now()
    )
    if not claimed:
        return {}
    organization = Organization.objects.get(pk=organization_id)
    erased: Counter[str] = Counter()
    channels = Channel.objects.for_org(organization)
    for channel in channels.exclude(status=ChannelStatus.DISCONNECTED):
        for problem in channel_disconnect(channel=channel, actor=None) or []:
            logger.warning("Organisation %s: channel %s: %s", organization.pk, channel.pk, problem)
    for channel in channels:
        erased.update(channel_erase(channel=channel))
    with transaction.atomic():
        erased["exports"] += _exports_delete(Export.objects.for_org(organization))
        erased["members"] += Membership.objects.for_org(organization).count()
        organization.delete()
        audit_record(
            action=AuditAction.ORGANIZATION_DELETED,
            target=f"{organization.name} ({organization.slug}): "
            + ", ".join(f"{name}: {count}" for name, count in sorted(erased.items()) if count),
        )
    return dict(+erased)
