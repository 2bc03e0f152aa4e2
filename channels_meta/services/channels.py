"""Connecting, disconnecting and setting up channels."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from accounts.models import AuditAction, Organization, User
from accounts.services import audit_record
from channels_meta import tasks, vault
from channels_meta.connected import ChannelError, ConnectedAccount
from channels_meta.graph import calls
from channels_meta.graph.errors import GraphError, UnsafeRequest
from channels_meta.graph.ids import node_id
from channels_meta.models import Channel, ChannelKind, ChannelStatus
from channels_meta.services.tokens import token_unreadable_report

# What connecting (again) sets on a channel.
CONNECT_FIELDS = [
    "name",
    "handle",
    "waba_id",
    "status",
    "token_expires_at",
    "token_issued_at",
    "token_checked_at",
    "scopes",
    "meta_user_id",
    "uses_instagram_login",
    "connected_by",
    "connected_at",
    "disconnected_at",
]


def _check_ids(account: ConnectedAccount) -> None:
    """Refuse an account whose ids are not Meta's (digits only) before any is stored or
    put in a Graph path."""
    needed = [account.external_id]
    if account.kind == ChannelKind.WHATSAPP or account.waba_id:
        needed.append(account.waba_id)
    if account.meta_user_id:
        needed.append(account.meta_user_id)
    try:
        for value in needed:
            node_id(value)
    except UnsafeRequest:
        raise ChannelError(
            _("%(name)s does not have a valid Meta id, so nothing was connected.")
            % {"name": account.name}
        ) from None


@sensitive_variables("account")
def channel_connect(
    *,
    organization: Organization,
    account: ConnectedAccount,
    connected_by: User | None,
    ip: str | None = None,
) -> Channel:
    """Save (or bring back) the channel for `account` with its token encrypted. An account
    another organisation holds is refused; reconnecting keeps the channel's history."""
    _check_ids(account)
    now = timezone.now()
    with transaction.atomic():
        _check_not_held_elsewhere(organization, account)
        channel = (
            Channel.objects.for_org(organization)
            .select_for_update()
            .filter(kind=account.kind, external_id=account.external_id)
            .order_by("-connected_at")
            .first()
        )
        reconnect = channel is not None
        if channel is None:
            channel = Channel(
                organization=organization, kind=account.kind, external_id=account.external_id
            )
        channel.name = account.name[:200]
        channel.handle = account.handle[:200]
        channel.waba_id = account.waba_id
        channel.status = ChannelStatus.ACTIVE
        channel.token_expires_at = account.token_expires_at
        channel.token_issued_at = now
        channel.token_checked_at = now
        channel.scopes = account.scopes or []
        channel.meta_user_id = account.meta_user_id
        channel.uses_instagram_login = account.uses_instagram_login
        channel.connected_by = connected_by
        channel.connected_at = now
        channel.disconnected_at = None
        try:
            with transaction.atomic():
                channel.save(update_fields=CONNECT_FIELDS if reconnect else None)
        except IntegrityError:
            raise _held_elsewhere(account) from None
        channel.set_token(account.token)
        channel.save(update_fields=["token_ciphertext"])
        audit_record(
            action=AuditAction.CHANNEL_RECONNECTED if reconnect else AuditAction.CHANNEL_CONNECTED,
            organization=organization,
            actor=connected_by,
            target=str(channel),
            ip=ip,
        )
    return channel


@sensitive_variables("account")
def _subscribe(account: ConnectedAccount) -> None:
    """Ask Meta to send this account's webhooks to Padu (a WhatsApp number's come
    through its WhatsApp Business Account)."""
    whatsapp = account.kind == ChannelKind.WHATSAPP
    calls.app_subscribe(
        kind=account.kind,
        subscriber_id=account.waba_id if whatsapp else account.external_id,
        token=account.token,
        instagram_login=account.uses_instagram_login,
    )


def _held_elsewhere(account: ConnectedAccount) -> ChannelError:
    return ChannelError(
        _("%(name)s is already connected to another organisation on this Padu.")
        % {"name": account.name}
    )


def _check_not_held_elsewhere(organization: Organization, account: ConnectedAccount) -> None:
    held_elsewhere = (
        Channel.objects.connected()
        .filter(kind=account.kind, external_id=account.external_id)
        .exclude(organization=organization)
        .exists()
    )
    if held_elsewhere:
        raise _held_elsewhere(account)


@sensitive_variables("accounts", "account")
def channels_connect(
    *,
    organization: Organization,
    accounts: list[ConnectedAccount],
    connected_by: User | None,
    ip: str | None = None,
) -> list[Channel]:
    """Subscribe Padu to every account at Meta, then save them all. If Meta refuses one,
    another organisation holds one, or one has an id that is not Meta's, nothing is saved."""
    for account in accounts:
        _check_ids(account)
        _check_not_held_elsewhere(organization, account)
    for account in accounts:
        try:
            _subscribe(account)
        except GraphError as error:
            raise ChannelError(
                _("Meta refused to send %(name)s's messages to Padu: %(error)s")
                % {"name": account.name, "error": error}
            ) from None
    with transaction.atomic():
        channels = [
            channel_connect(
                organization=organization, account=account, connected_by=connected_by, ip=ip
            )
            for account in accounts
        ]
        for channel in channels:
            transaction.on_commit(
                lambda channel_id=channel.pk: tasks.webhook_events_reopen_for_channel.delay(
                    channel_id
                )
            )
    return channels


def _waba_still_needed(channel: Channel) -> bool:
    """Another connected number (in any organisation) gets its webhooks through the same
    WhatsApp Business Account subscription."""
    return (
        Channel.objects.connected()
        .filter(kind=ChannelKind.WHATSAPP, waba_id=channel.waba_id)
        .exclude(pk=channel.pk)
        .exists()
    )


@sensitive_variables("token")
def _unsubscribe(channel: Channel) -> list[str]:
    if channel.kind == ChannelKind.WHATSAPP:
        if _waba_still_needed(channel):
            return []
        subscription_id = channel.waba_id
    else:
        subscription_id = channel.external_id
    try:
        token = channel.get_token()
    except vault.VaultError as error:
        token_unreadable_report(channel=channel, error=error)
        return [_("Padu could not use the stored token to unsubscribe at Meta")]
    try:
        calls.app_unsubscribe(
            subscriber_id=subscription_id,
            token=token,
            instagram_login=channel.uses_instagram_login,
        )
    except GraphError as error:
        return [str(error)]
    return []


def _release_at_meta(channel: Channel) -> list[str]:
    """Unsubscribe (unless another connected number shares the WhatsApp Business
    Account) and, when no other channel needs it, revoke the connecting person's grant.
    Returns what failed, for the person disconnecting; failures do not stop it."""
    problems = _unsubscribe(channel)
    still_needed = (
        Channel.objects.connected()
        .filter(meta_user_id=channel.meta_user_id)
        .exclude(pk=channel.pk)
        .exists()
    )
    if channel.meta_user_id and not channel.uses_instagram_login and not still_needed:
        try:
            calls.grant_revoke(meta_user_id=channel.meta_user_id)
        except GraphError as error:
            problems.append(str(error))
    return problems


def channel_disconnect(
    *, channel: Channel, actor: User | None, ip: str | None = None
) -> list[str] | None:
    """Release the channel at Meta, forget its token, and mark it disconnected (its Meta
    data is purged later under the retention rules). Returns Meta's complaints, if any,
    or None when the channel was already disconnected (nothing is done then)."""
    if channel.status == ChannelStatus.DISCONNECTED:
        return None
    # Meta is asked first, outside the transaction: no database lock waits on Meta.
    problems = _release_at_meta(channel) if channel.has_token else []
    channel.status = ChannelStatus.DISCONNECTED
    channel.disconnected_at = timezone.now()
    channel.token_ciphertext = ""
    channel.token_expires_at = None
    with transaction.atomic():
        channel.save(
            update_fields=["status", "disconnected_at", "token_ciphertext", "token_expires_at"]
        )
        audit_record(
            action=AuditAction.CHANNEL_DISCONNECTED,
            organization=channel.organization,
            actor=actor,
            target=str(channel),
            ip=ip,
        )
    return problems


@transaction.atomic
def channel_set_human_agent(
    *, channel: Channel, enabled: bool, actor: User, ip: str | None = None
) -> None:
    """Allow or stop human-agent replies (Meta's HUMAN_AGENT tag) on a channel."""
    channel.human_agent_enabled = enabled
    channel.save(update_fields=["human_agent_enabled"])
    audit_record(
        action=AuditAction.CHANNEL_SETTINGS_CHANGED,
        organization=channel.organization,
        actor=actor,
        target=f"{channel}: human agent {'on' if enabled else 'off'}",
        ip=ip,
    )


def templates_sync_request(*, channel: Channel) -> None:
    """Ask the worker to fetch the channel's WhatsApp templates from Meta now. A broker
    that is down loses only this early sync: the nightly sync fetches them anyway."""
    if channel.status != ChannelStatus.ACTIVE:
        raise ChannelError(_("Meta no longer accepts this channel's token: reconnect it."))
    transaction.on_commit(lambda: tasks.templates_sync_channel.delay(channel.pk), robust=True)
