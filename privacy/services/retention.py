"""Retention, enforced: each organisation's conversations deleted once its policy says
so, disconnected channels' data after their grace period, and, for the whole platform,
Meta's raw deliveries after a week and the audit log after 90 days. Every purge works
in batches, can be cut off and run again, and touches only what its organisation owns;
each run is an audit event with what it erased."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditAction, Membership, Organization
from accounts.services import audit_events_purge, audit_record
from accounts.tenancy import require_owner
from channels_meta.models import Channel, ChannelStatus
from channels_meta.services.channels import channel_delete
from channels_meta.webhooks.retention import webhook_events_erase, webhook_events_purge
from inbox.models import Contact, Conversation, OrderRecord
from inbox.services.erasure import contacts_erase, conversations_erase
from inbox.services.orders import order_records_anonymize
from inbox.services.outbox import events_purge
from padu.batches import delete_in_batches
from privacy.models import ORDER_RECORD_YEARS, RetentionPolicy
from privacy.services.access_log import access_log_purge
from privacy.services.customer_requests import unconfirmed_requests_purge
from privacy.services.export_jobs import exports_purge

WEBHOOK_EVENTS_KEPT = timedelta(days=7)
AUDIT_EVENTS_KEPT = timedelta(days=90)
ACCESS_LOG_KEPT = timedelta(days=90)
FORWARDED_EVENTS_KEPT = timedelta(days=7)


def retention_policy(organization: Organization) -> RetentionPolicy:
    """The organisation's policy; the defaults (unsaved) when its owners chose none."""
    return RetentionPolicy.objects.filter(organization=organization).first() or (
        RetentionPolicy(organization=organization)
    )


@transaction.atomic
def retention_policy_set(
    *,
    membership: Membership,
    conversation_days: int | None,
    disconnected_channel_days: int,
    order_record_years: int = ORDER_RECORD_YEARS,
    ip: str | None = None,
) -> RetentionPolicy:
    """Owners choose how long their organisation keeps its customers' data."""
    require_owner(membership)
    policy, _created = RetentionPolicy.objects.update_or_create(
        organization=membership.organization,
        defaults={
            "conversation_days": conversation_days,
            "disconnected_channel_days": disconnected_channel_days,
            "order_record_years": order_record_years,
        },
    )
    kept = f"{conversation_days} days" if conversation_days else "while in use"
    audit_record(
        action=AuditAction.RETENTION_CHANGED,
        organization=membership.organization,
        actor=membership.user,
        target=f"conversations: {kept}; disconnected channels: {disconnected_channel_days} days; "
        f"order records anonymized after {order_record_years} years",
        ip=ip,
    )
    return policy


def channel_erase(*, channel: Channel) -> Counter[str]:
    """Delete a channel with every customer, conversation, message, file and note it
    brought, and Meta's deliveries to it that are done with; returns the counts."""
    erased: Counter[str] = Counter()
    erased["order_records_anonymized"] += order_records_anonymize(
        OrderRecord.objects.filter(channel=channel)
    )
    erased.update(conversations_erase(conversations=Conversation.objects.filter(channel=channel)))
    erased.update(contacts_erase(contacts=Contact.objects.filter(channel=channel)))
    erased["webhook_events"] += webhook_events_erase(meta_ids=[channel.external_id])
    channel_delete(channel=channel)
    erased["channels"] += 1
    return erased


def _disconnected_channels_purge(organization: Organization, now: datetime) -> Counter[str]:
    erased: Counter[str] = Counter()
    grace = timedelta(days=retention_policy(organization).disconnected_channel_days)
    for channel in Channel.objects.for_org(organization).filter(
        status=ChannelStatus.DISCONNECTED, disconnected_at__lt=now - grace
    ):
        erased.update(channel_erase(channel=channel))
    return erased


def organization_retention_enforce(
    *, organization: Organization, now: datetime | None = None
) -> dict[str, int]:
    """Delete what the organisation's policy no longer keeps: conversations whose last
    message is older than its limit, and the data of channels disconnected longer than
    their grace period; anonymize order records older than its years; returns how many
    of each were erased (an audit event when anything was)."""
    now = now or timezone.now()
    erased: Counter[str] = Counter()
    policy = retention_policy(organization)
    old_orders = OrderRecord.objects.for_org(organization).filter(
        ordered_at__lt=now - timedelta(days=365 * policy.order_record_years)
    )
    erased["order_records_anonymized"] += order_records_anonymize(old_orders, now=now)
    days = policy.conversation_days
    if days:
        expired = Conversation.objects.for_org(organization).filter(
            last_message_at__lt=now - timedelta(days=days)
        )
        erased.update(conversations_erase(conversations=expired))
    erased.update(_disconnected_channels_purge(organization, now))
    erased = +erased  # without the zeros
    if erased:
        audit_record(
            action=AuditAction.RETENTION_PURGED,
            organization=organization,
            target=_in_words(erased),
        )
    return dict(erased)


def _in_words(counts: Counter[str] | dict[str, int]) -> str:
    return ", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in sorted(counts.items()))


def platform_retention_enforce(*, now: datetime | None = None) -> dict[str, int]:
    """Delete Meta's raw deliveries a week after they were received and done with, audit
    events and access log entries older than 90 days, data requests nobody confirmed
    within a week, export files past their expiry, expired sessions and forwarded events
    after a week (delivered or given up on by then); returns how many
    (and records the run, always)."""
    now = now or timezone.now()
    erased = {
        "webhook events": webhook_events_purge(before=now - WEBHOOK_EVENTS_KEPT),
        "audit events": audit_events_purge(before=now - AUDIT_EVENTS_KEPT),
        "access log entries": access_log_purge(before=now - ACCESS_LOG_KEPT),
        "unconfirmed data requests": unconfirmed_requests_purge(now=now),
        "export files": exports_purge(now=now),
        "expired sessions": delete_in_batches(Session.objects.filter(expire_date__lt=now)),
        "forwarded events": events_purge(before=now - FORWARDED_EVENTS_KEPT),
    }
    audit_record(action=AuditAction.RETENTION_PURGED, target=_in_words(erased))
    return erased
