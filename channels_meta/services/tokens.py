"""Keeping channel tokens alive: refresh Instagram Login tokens before they expire, check
the others, flag channels whose token Meta no longer accepts, and re-encrypt stored
tokens under the newest key.

A token Padu cannot decrypt is the operator's problem (a key missing from
TOKEN_ENCRYPTION_KEYS, or a damaged row), not the tenant's: the channel keeps its status,
and platform staff are told instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from accounts.models import AuditAction, User
from accounts.services import audit_record, managers_email, managers_notify
from channels_meta import vault
from channels_meta.graph.calls import tokens
from channels_meta.graph.errors import GraphError, PermissionMissing, PolicyBlocked, TokenInvalid
from channels_meta.models import Channel, ChannelStatus
from inbox.services import outbox

logger = logging.getLogger(__name__)

REFRESH_WHEN_DAYS_LEFT = 10
STAFF_ALERT_EVERY_SECONDS = 24 * 60 * 60


def _staff_addresses() -> list[str]:
    admins = [entry if isinstance(entry, str) else entry[1] for entry in settings.ADMINS]
    superusers = User.objects.filter(is_superuser=True, is_active=True).values_list(
        "email", flat=True
    )
    return sorted({*admins, *superusers} - {""})


def token_unreadable_report(*, channel: Channel, error: vault.VaultError) -> None:
    """Log a token Padu cannot decrypt for the operator, and e-mail platform staff (ADMINS
    and superusers) at most once a day per key. Tenants are told nothing: their channel
    is fine, Padu's configuration is not."""
    logger.error(
        "Channel %s: its stored token cannot be decrypted (%s). Check that "
        "TOKEN_ENCRYPTION_KEYS still holds the key it was stored under.",
        channel.pk,
        error,
    )
    key_id = error.key_id or "unknown"
    if not cache.add(f"padu:vault-alert:{key_id}", 1, timeout=STAFF_ALERT_EVERY_SECONDS):
        return
    recipients = _staff_addresses()
    if not recipients:
        return
    send_mail(
        "Padu: channel tokens cannot be decrypted",
        f"Padu could not decrypt the stored token of channel {channel.pk} ({error}).\n\n"
        "Channels keep their status and no tenant has been told. Restore the missing key to "
        "TOKEN_ENCRYPTION_KEYS (keep every key that still encrypts a token; "
        "rotate_token_keys moves them to the newest). Other channels stored under the "
        "same key are affected too; this alert is sent at most once a day per key.",
        settings.SERVER_EMAIL,
        recipients,
        fail_silently=True,
    )


@sensitive_variables()
def channel_token_get(*, channel: Channel) -> str | None:
    """The channel's token, for a call to Meta; None when it has none or Padu cannot
    decrypt it (then platform staff are told, see `token_unreadable_report`)."""
    if not channel.has_token:
        return None
    try:
        return channel.get_token()
    except vault.VaultError as error:
        token_unreadable_report(channel=channel, error=error)
        return None


@transaction.atomic
def channel_mark_needs_reauth(*, channel: Channel, reason: str, permission: str = "") -> bool:
    """Flag an active channel whose token Meta refuses (or that lacks `permission`),
    keeping why (`reason`, a key of REAUTH_REASONS), and e-mail its admins once. It
    keeps receiving webhooks; only sending waits for a reconnect."""
    flagged = Channel.objects.filter(pk=channel.pk, status=ChannelStatus.ACTIVE).update(
        status=ChannelStatus.NEEDS_REAUTH, reauth_reason=reason, reauth_permission=permission
    )
    if not flagged:
        return False
    channel.status = ChannelStatus.NEEDS_REAUTH
    channel.reauth_reason, channel.reauth_permission = reason, permission
    outbox.channel_forward(channel=channel)
    why = channel.reauth_reason_display
    audit_record(
        action=AuditAction.CHANNEL_NEEDS_REAUTH,
        organization=channel.organization,
        target=f"{channel}: {why}"[:255],
    )
    # No notice: the banner on every page says it until the channel is reconnected.
    managers_email(
        organization=channel.organization,
        subject=_("Padu: reconnect %(name)s") % {"name": channel.name},
        message=_(
            "%(name)s (%(kind)s) has lost its connection to Meta. %(why)s Messages still "
            "arrive, but replies cannot be sent until an owner or admin reconnects it on the "
            "Channels page."
        )
        % {"name": channel.name, "kind": channel.get_kind_display(), "why": why},
        link=reverse("channels", args=[channel.organization.slug]),
    )
    return True


@transaction.atomic
def channel_policy_block_record(*, channel: Channel, error: PolicyBlocked) -> bool:
    """Note that Meta blocked the channel for a while for a policy reason (error 368) and
    tell its admins, once per block: a block reported again while it lasts only extends
    it. Returns whether this was a new block."""
    now = timezone.now()
    until = now + timedelta(seconds=error.retry_after)
    fresh = (
        Channel.objects.filter(pk=channel.pk)
        .filter(Q(sending_blocked_until__isnull=True) | Q(sending_blocked_until__lte=now))
        .update(sending_blocked_until=until)
    )
    if not fresh:
        Channel.objects.filter(pk=channel.pk, sending_blocked_until__lt=until).update(
            sending_blocked_until=until
        )
        return False
    channel.sending_blocked_until = until
    logger.warning("Channel %s: Meta blocked sending: %s", channel.pk, error)
    managers_notify(
        organization=channel.organization,
        subject=_("Padu: Meta blocked %(name)s for now") % {"name": channel.name},
        message=_(
            "Meta temporarily blocked %(name)s (%(kind)s) from sending, for a policy reason. "
            "Padu tries again later. Check the account's quality and policy notices at "
            "Meta; repeated blocks can lead to restrictions."
        )
        % {"name": channel.name, "kind": channel.get_kind_display()},
        link=reverse("channels", args=[channel.organization.slug]),
        topic=channel.notice_topic,
    )
    return True


@contextmanager
def token_refusal_handled(channel: Channel) -> Iterator[None]:
    """Around a call to Meta with the channel's token: if Meta refuses the token
    (TokenInvalid) or says it lacks a permission (PermissionMissing), the channel is
    marked as needing a reconnect, naming the permission (its admins told once); if Meta
    blocks the account for a while (PolicyBlocked), its admins are told once. The error
    goes on to the caller, who stops what it was doing or retries later."""
    try:
        yield
    except TokenInvalid as error:
        # Meta's own message and codes are for the operator; the tenant sees the reason.
        logger.warning("Channel %s: Meta refused its token: %s", channel.pk, error)
        permission = error.permission if isinstance(error, PermissionMissing) else ""
        channel_mark_needs_reauth(channel=channel, reason=error.reason, permission=permission)
        raise
    except PolicyBlocked as error:
        channel_policy_block_record(channel=channel, error=error)
        raise


@sensitive_variables("token", "fresh")
def _refresh_instagram_token(channel: Channel, token: str) -> None:
    fresh = tokens.token_refresh(token=token)
    now = timezone.now()
    channel.set_token(fresh.token)
    channel.token_issued_at = now
    channel.token_checked_at = now
    channel.token_expires_at = now + timedelta(seconds=fresh.expires_in)
    channel.save(
        update_fields=[
            "token_ciphertext",
            "token_issued_at",
            "token_checked_at",
            "token_expires_at",
        ]
    )


def _refresh_due(channel: Channel) -> bool:
    if not channel.uses_instagram_login or channel.token_expires_at is None:
        return False
    old_enough = channel.token_issued_at is None or (
        timezone.now() - channel.token_issued_at >= timedelta(hours=24)
    )
    return old_enough and channel.token_expires_at - timezone.now() < timedelta(
        days=REFRESH_WHEN_DAYS_LEFT
    )


@sensitive_variables("token")
def channel_check_token(*, channel: Channel) -> str:
    """Refresh or check one channel's token; returns what happened ("refreshed", "ok",
    "needs_reauth", "unreachable", or "undecryptable" when Padu's own keys fail)."""
    if not channel.has_token:
        channel_mark_needs_reauth(channel=channel, reason="no_token")
        return "needs_reauth"
    try:
        token = channel.get_token()
    except vault.VaultError as error:
        token_unreadable_report(channel=channel, error=error)
        return "undecryptable"
    try:
        with token_refusal_handled(channel):
            if _refresh_due(channel):
                _refresh_instagram_token(channel, token)
                return "refreshed"
            tokens.token_check(
                account_id=channel.external_id,
                token=token,
                instagram_login=channel.uses_instagram_login,
            )
    except TokenInvalid:
        return "needs_reauth"
    except GraphError as error:
        logger.warning("Token check for channel %s did not complete: %s", channel.pk, error)
        return "unreachable"
    channel.token_checked_at = timezone.now()
    channel.save(update_fields=["token_checked_at"])
    return "ok"


def channels_check_tokens() -> dict[str, int]:
    """Check every active channel's token; counts by outcome."""
    outcomes: dict[str, int] = {}
    for channel in Channel.objects.filter(status=ChannelStatus.ACTIVE).select_related(
        "organization"
    ):
        outcome = channel_check_token(channel=channel)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@dataclass
class RotationReport:
    rotated: int = 0
    current: int = 0
    failed: int = 0


@sensitive_variables("token")
def channel_tokens_rotate(*, batch_size: int = 200) -> RotationReport:
    """Re-encrypt every stored token under the newest key. Each channel is committed on
    its own, so an interrupted run loses nothing and a second run finishes the work."""
    report = RotationReport()
    newest = vault.current_key_id()
    pending_ids = (
        Channel.objects.exclude(token_ciphertext="")
        .exclude(token_ciphertext__startswith=f"{vault.FORMAT_VERSION}:{newest}:")
        .values_list("pk", flat=True)
        .iterator(chunk_size=batch_size)
    )
    report.current = Channel.objects.filter(
        token_ciphertext__startswith=f"{vault.FORMAT_VERSION}:{newest}:"
    ).count()
    for channel_id in list(pending_ids):
        with transaction.atomic():
            channel = Channel.objects.select_for_update().get(pk=channel_id)
            try:
                token = channel.get_token()
            except vault.VaultError as error:
                logger.error("Channel %s: token not re-encrypted: %s", channel.pk, error)
                report.failed += 1
                continue
            channel.set_token(token)
            channel.save(update_fields=["token_ciphertext"])
            report.rotated += 1
    return report
