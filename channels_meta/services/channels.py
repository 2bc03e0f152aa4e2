"""Connecting, disconnecting and setting up channels."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from accounts.models import AuditAction, Organization, User
from accounts.services import audit_record
from channels_meta import tasks, vault
from channels_meta.connected import ChannelError, ConnectedAccount
from channels_meta.graph.calls import subscriptions
from channels_meta.graph.errors import GraphError, UnsafeRequest
from channels_meta.graph.ids import node_id
from channels_meta.models import Channel, ChannelKind, ChannelStatus
from channels_meta.services.tokens import token_unreadable_report
from inbox.services import outbox

logger = logging.getLogger(__name__)

# What connecting (again) sets on a channel.
CONNECT_FIELDS = [
    "name",
    "handle",
    "waba_id",
    "page_id",
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
    "reauth_reason",
    "reauth_permission",
]


def _check_ids(account: ConnectedAccount) -> None:
    """Refuse an account whose ids are not Meta's (digits only) before any is stored or
    put in a Graph path."""
    needed = [account.external_id]
    if account.kind == ChannelKind.WHATSAPP or account.waba_id:
        needed.append(account.waba_id)
    if account.page_id:
        needed.append(account.page_id)
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
        channel.page_id = account.page_id
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
        channel.reauth_reason = channel.reauth_permission = ""
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


def _subscription_of(thing: ConnectedAccount | Channel) -> tuple[str, str] | None:
    """Which subscription at Meta brings an account's (or a channel's) webhooks to Padu:
    (subscriber, its id) for `subscriptions.app_subscribe`. A WhatsApp number's come through its
    WhatsApp Business Account, a Page-linked Instagram account's through its Page; None
    when that Page is not known (an Instagram account connected with a pasted token)."""
    if thing.kind == ChannelKind.WHATSAPP:
        return ("waba", thing.waba_id)
    if thing.kind == ChannelKind.MESSENGER:
        return ("page", thing.external_id)
    if thing.uses_instagram_login:
        return ("instagram_login", thing.external_id)
    return ("page", thing.page_id) if thing.page_id else None


@dataclass
class Connection:
    """What connecting did: the channels saved, and what Meta did not do (for the person
    connecting; none of it stopped the connection)."""

    channels: list[Channel]
    problems: list[str] = field(default_factory=list)


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
def _subscribe_all(accounts: list[ConnectedAccount]) -> list[str]:
    """Subscribe Padu once to each subscription the accounts need; raise ChannelError when
    Meta refuses one. Returns what could not be asked for."""
    problems = []
    done = set()
    for account in accounts:
        subscription = _subscription_of(account)
        if subscription is None:
            problems.append(
                _(
                    "Meta sends %(name)s's messages through its Facebook Page's subscription, "
                    "and Padu does not know that Page: connect the Page with Facebook Login "
                    "too, or Padu receives nothing for this account."
                )
                % {"name": account.name}
            )
            continue
        if subscription in done:
            continue
        subscriber, subscriber_id = subscription
        try:
            subscriptions.app_subscribe(
                subscriber=subscriber, subscriber_id=subscriber_id, token=account.token
            )
        except GraphError as error:
            logger.warning("Subscribing to %s %s failed: %s", subscriber, subscriber_id, error)
            raise ChannelError(
                _("Meta refused to send %(name)s's messages to Padu. %(error)s")
                % {"name": account.name, "error": error.explain()}
            ) from None
        done.add(subscription)
    return problems


@sensitive_variables("accounts", "account")
def channels_connect(
    *,
    organization: Organization,
    accounts: list[ConnectedAccount],
    connected_by: User | None,
    ip: str | None = None,
) -> Connection:
    """Subscribe Padu to every account at Meta, then save them all. If Meta refuses a
    subscription, another organisation holds one, or one has an id that is not Meta's,
    nothing is saved."""
    for account in accounts:
        _check_ids(account)
        _check_not_held_elsewhere(organization, account)
    problems = _subscribe_all(accounts)
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
    return Connection(channels=channels, problems=problems)


def _subscription_still_needed(channel: Channel, subscriber: str, subscriber_id: str) -> bool:
    """Another connected channel (in any organisation) gets its webhooks through the same
    subscription: the same WhatsApp Business Account, or the same Page (its Messenger
    channel, or an Instagram account linked to it)."""
    others = Channel.objects.connected().exclude(pk=channel.pk)
    if subscriber == "waba":
        return others.filter(kind=ChannelKind.WHATSAPP, waba_id=subscriber_id).exists()
    if subscriber == "page":
        return others.filter(
            Q(kind=ChannelKind.MESSENGER, external_id=subscriber_id)
            | Q(kind=ChannelKind.INSTAGRAM, uses_instagram_login=False, page_id=subscriber_id)
        ).exists()
    return False


@sensitive_variables("token")
def _unsubscribe(channel: Channel) -> list[str]:
    subscription = _subscription_of(channel)
    if subscription is None:
        return []
    subscriber, subscriber_id = subscription
    if _subscription_still_needed(channel, subscriber, subscriber_id):
        return []
    try:
        token = channel.get_token()
    except vault.VaultError as error:
        token_unreadable_report(channel=channel, error=error)
        return [_("Padu could not use the stored token to unsubscribe at Meta")]
    try:
        subscriptions.app_unsubscribe(
            subscriber_id=subscriber_id,
            token=token,
            instagram_login=subscriber == "instagram_login",
        )
    except GraphError as error:
        logger.warning("Channel %s: unsubscribing at Meta failed: %s", channel.pk, error)
        return [error.explain()]
    return []


def _release_at_meta(channel: Channel) -> list[str]:
    """Unsubscribe (unless another connected channel shares the subscription) and, when
    no other channel needs it, revoke the connecting person's grant.
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
            subscriptions.grant_revoke(meta_user_id=channel.meta_user_id)
        except GraphError as error:
            logger.warning("Channel %s: revoking the grant at Meta failed: %s", channel.pk, error)
            problems.append(error.explain())
    return problems


def channel_disconnect(
    *, channel: Channel, actor: User | None, ip: str | None = None, at_meta: bool = True
) -> list[str] | None:
    """Release the channel at Meta (unless `at_meta` is false: Meta has removed the app
    already), forget its token, and mark it disconnected (its Meta data is purged later
    under the retention rules). Returns Meta's complaints, if any, or None when the
    channel was already disconnected (nothing is done then)."""
    if channel.status == ChannelStatus.DISCONNECTED:
        return None
    # Meta is asked first, outside the transaction: no database lock waits on Meta.
    problems = _release_at_meta(channel) if at_meta and channel.has_token else []
    channel.status = ChannelStatus.DISCONNECTED
    channel.disconnected_at = timezone.now()
    channel.token_ciphertext = ""
    channel.token_expires_at = None
    with transaction.atomic():
        channel.save(
            update_fields=["status", "disconnected_at", "token_ciphertext", "token_expires_at"]
        )
        outbox.channel_forward(channel=channel)
        audit_record(
            action=AuditAction.CHANNEL_DISCONNECTED,
            organization=channel.organization,
            actor=actor,
            target=str(channel),
            ip=ip,
        )
    return problems


@transaction.atomic
def channel_delete(*, channel: Channel, actor: User | None = None) -> None:
    """Delete a channel and what is kept of it (its templates, its health); the
    customers' data goes first, through the inbox's erasure."""
    organization, name = channel.organization, str(channel)
    channel.delete()
    audit_record(
        action=AuditAction.CHANNEL_DELETED, organization=organization, actor=actor, target=name
    )


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
