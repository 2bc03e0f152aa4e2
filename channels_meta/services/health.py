"""WhatsApp channel health from Meta's webhooks: the account's standing, a number's
quality, messaging limit and display name, and templates' status, quality and category.

Every change is stored on the channel or template. Owners and admins are told, once per
change (Meta repeats deliveries), when someone must act: the account is disabled,
restricted, reported for a violation, deleted or no longer shared; a number's quality is
flagged or its limit lowered; a display name is rejected; a template is paused,
disabled, flagged, rejected or its quality drops.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import managers_notify
from channels_meta.models import (
    MESSAGING_LIMITS,
    AccountStatus,
    Channel,
    ChannelKind,
    DisplayNameStatus,
    QualityRating,
    meta_reason_words,
)
from channels_meta.services import templates
from channels_meta.services.tokens import channel_mark_needs_reauth
from channels_meta.webhooks.events import (
    AccountUpdateEvent,
    PhoneNameEvent,
    PhoneQualityEvent,
    TemplateCategoryEvent,
    TemplateQualityEvent,
    TemplateStatusEvent,
)
from inbox.services import outbox

# The normalized events this module records.
HEALTH_EVENTS = (
    AccountUpdateEvent,
    PhoneQualityEvent,
    PhoneNameEvent,
    TemplateStatusEvent,
    TemplateQualityEvent,
    TemplateCategoryEvent,
)
BAN_STATES = {
    "DISABLE": AccountStatus.DISABLED,
    "SCHEDULE_FOR_DISABLE": AccountStatus.SCHEDULED_FOR_DISABLE,
    "REINSTATE": AccountStatus.GOOD,
}
# The account is no longer shared with Padu's app: the token cannot reach it any more.
UNSHARED_EVENTS = {"PARTNER_REMOVED", "PARTNER_APP_UNINSTALLED"}
SHARED_EVENTS = {"PARTNER_ADDED", "PARTNER_APP_INSTALLED", "ACCOUNT_RECONNECTED"}
# Standings whose end managers hear about ("reinstated: it can send again").
STOPPED_STATUSES = {
    AccountStatus.DISABLED,
    AccountStatus.SCHEDULED_FOR_DISABLE,
    AccountStatus.RESTRICTED,
}
# Messaging limit tiers, lowest first.
LIMIT_ORDER = [
    "TIER_NOT_SET",
    "TIER_50",
    "TIER_250",
    "TIER_1K",
    "TIER_2K",
    "TIER_10K",
    "TIER_100K",
    "TIER_UNLIMITED",
]
SCORE_ORDER = {QualityRating.RED: 0, QualityRating.YELLOW: 1, QualityRating.GREEN: 2}


def health_event_record(*, channel: Channel, event: object) -> None:
    """Record one health event (one of HEALTH_EVENTS) for one of the channels it routes to."""
    if channel.kind != ChannelKind.WHATSAPP:
        return
    if isinstance(event, AccountUpdateEvent):
        account_update_record(channel=channel, event=event)
    elif isinstance(event, PhoneQualityEvent):
        phone_quality_record(channel=channel, event=event)
    elif isinstance(event, PhoneNameEvent):
        phone_name_record(channel=channel, event=event)
    elif isinstance(event, TemplateStatusEvent):
        templates.template_set_status(
            channel=channel,
            name=event.name,
            language=event.language,
            status=event.status,
            reason=event.reason,
            category=event.category,
            from_webhook=True,
        )
    elif isinstance(event, TemplateQualityEvent):
        templates.template_set_quality(
            channel=channel,
            name=event.name,
            language=event.language,
            score=event.new_score,
        )
    elif isinstance(event, TemplateCategoryEvent):
        templates.template_set_category(
            channel=channel,
            name=event.name,
            language=event.language,
            category=event.new_category,
            change_to=event.correct_category,
            change_at=event.change_at,
        )


def _tell(channel: Channel, subject: str, message: str) -> None:
    managers_notify(
        organization=channel.organization,
        subject=subject,
        message=message,
        link=reverse("channels", args=[channel.organization.slug]),
        topic=channel.notice_topic,
    )


def _locked(channel: Channel) -> Channel:
    """The channel's row, locked until the transaction ends (workers may record several
    events of one channel at once)."""
    return (
        Channel.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=channel.pk)
    )


def _restrictions_text(restrictions: list[dict]) -> str:
    words = {
        "RESTRICTED_BIZ_INITIATED_MESSAGING": _("it cannot start conversations"),
        "RESTRICTED_CUSTOMER_INITIATED_MESSAGING": _("it cannot answer customers"),
        "RESTRICTED_ADD_PHONE_NUMBER_ACTION": _("it cannot add phone numbers"),
    }
    parts = []
    for restriction in restrictions:
        text = str(words.get(restriction["type"], restriction["type"].replace("_", " ").lower()))
        if restriction.get("expiration"):
            text += " " + _("until %(date)s") % {"date": restriction["expiration"][:10]}
        parts.append(text)
    return "; ".join(parts)


def _account_state(event: AccountUpdateEvent, current: str) -> tuple[str, str, list[dict]] | None:
    """(status, detail, restrictions) after `event`, or None when it says nothing about
    the account's standing."""
    if event.event == "DISABLED_UPDATE" and event.ban_state in BAN_STATES:
        detail = event.ban_date if event.ban_state != "REINSTATE" else ""
        return BAN_STATES[event.ban_state], detail, []
    if event.event == "ACCOUNT_RESTRICTION":
        restrictions = list(event.restrictions)
        if not restrictions:  # nothing listed: the restrictions were lifted
            return AccountStatus.GOOD, "", []
        return AccountStatus.RESTRICTED, _restrictions_text(restrictions), restrictions
    if event.event == "ACCOUNT_VIOLATION":
        return AccountStatus.VIOLATION, event.violation_type, []
    if event.event == "ACCOUNT_DELETED":
        return AccountStatus.DELETED, "", []
    if event.event == "ACCOUNT_OFFBOARDED":
        return AccountStatus.OFFBOARDED, event.disconnection_reason, []
    if event.event in UNSHARED_EVENTS:
        return AccountStatus.REMOVED, event.disconnection_reason, []
    if event.event in SHARED_EVENTS and current in {"", AccountStatus.REMOVED}:
        return AccountStatus.GOOD, "", []
    if event.event == "ACCOUNT_RECONNECTED":
        return AccountStatus.GOOD, "", []
    return None


def _account_message(channel: Channel, status: str, detail: str) -> str | None:
    name = {"name": channel.name, "detail": meta_reason_words(detail)}
    messages = {
        AccountStatus.DISABLED: _(
            "Meta disabled the WhatsApp Business Account of %(name)s for a policy "
            "violation: it can no longer send messages. Appeal in WhatsApp Manager."
        ),
        AccountStatus.SCHEDULED_FOR_DISABLE: _(
            "Meta will disable the WhatsApp Business Account of %(name)s for a policy "
            "violation. Review the violation and appeal in WhatsApp Manager."
        ),
        AccountStatus.GOOD: _(
            "The WhatsApp Business Account of %(name)s is in good standing again: Meta "
            "lifted its ban or restrictions."
        ),
        AccountStatus.RESTRICTED: _(
            "Meta restricted the WhatsApp Business Account of %(name)s: %(detail)s."
        ),
        AccountStatus.VIOLATION: _(
            "Meta reports a policy violation (%(detail)s) on the WhatsApp Business Account "
            "of %(name)s. Review it in WhatsApp Manager: repeated violations lead to "
            "restrictions."
        ),
        AccountStatus.DELETED: _(
            "The WhatsApp Business Account of %(name)s was deleted: it receives and sends "
            "nothing any more."
        ),
        AccountStatus.OFFBOARDED: _(
            "The WhatsApp Business Account of %(name)s was disconnected from the Cloud API "
            "after a device change or a new registration of its number."
        ),
    }
    message = messages.get(status)
    return message % name if message else None


@transaction.atomic
def account_update_record(*, channel: Channel, event: AccountUpdateEvent) -> None:
    """Store what account_update says about the account's standing; tell managers of a
    change they must act on (and of a reinstatement)."""
    channel = _locked(channel)
    state = _account_state(event, channel.account_status)
    if state is None:
        return
    status, detail, restrictions = state
    changed = (channel.account_status, channel.account_status_detail, channel.account_restrictions)
    if changed == (status, detail[:300], restrictions):
        return
    was_stopped = channel.account_status in STOPPED_STATUSES
    channel.account_status = status
    channel.account_status_detail = detail[:300]
    channel.account_restrictions = restrictions
    channel.health_updated_at = timezone.now()
    channel.save(
        update_fields=[
            "account_status",
            "account_status_detail",
            "account_restrictions",
            "health_updated_at",
        ]
    )
    outbox.channel_forward(channel=channel)
    if status == AccountStatus.REMOVED:
        # Reconnecting shares the account again; this tells the managers so.
        channel_mark_needs_reauth(channel=channel, reason="account_unshared")
        return
    if status == AccountStatus.GOOD and not was_stopped:
        return
    message = _account_message(channel, status, detail)
    if message:
        _tell(channel, _("Padu: WhatsApp account of %(name)s") % {"name": channel.name}, message)


def _digits(value: str) -> str:
    return "".join(char for char in value if char.isdigit())


def _is_number_of(channel: Channel, display_phone_number: str) -> bool:
    """Whether a phone-number webhook (which names the number only by its display
    number) is about this channel: its number matches, or it is the only connected
    number of its WhatsApp Business Account."""
    if _digits(channel.handle) and _digits(channel.handle) == _digits(display_phone_number):
        return True
    siblings = Channel.objects.connected().filter(
        kind=ChannelKind.WHATSAPP, waba_id=channel.waba_id
    )
    return siblings.count() == 1


def _limit_words(limit: str) -> str:
    return str(MESSAGING_LIMITS.get(limit, limit))


def _lowered(old: str, new: str) -> bool:
    if old not in LIMIT_ORDER or new not in LIMIT_ORDER or "TIER_NOT_SET" in (old, new):
        return False
    return LIMIT_ORDER.index(new) < LIMIT_ORDER.index(old)


@transaction.atomic
def phone_quality_record(*, channel: Channel, event: PhoneQualityEvent) -> None:
    """Store a number's quality and messaging limit; tell managers when Meta flags its
    quality or lowers its limit."""
    if not _is_number_of(channel, event.display_phone_number):
        return
    channel = _locked(channel)
    quality = {"FLAGGED": QualityRating.RED, "UNFLAGGED": QualityRating.GREEN}.get(
        event.event, channel.quality_rating
    )
    limit = event.current_limit or channel.messaging_limit
    old_limit = event.old_limit or channel.messaging_limit
    if (quality, limit) == (channel.quality_rating, channel.messaging_limit):
        return
    flagged = quality == QualityRating.RED and channel.quality_rating != QualityRating.RED
    lowered = event.event == "DOWNGRADE" or _lowered(old_limit, limit)
    channel.quality_rating = quality
    channel.messaging_limit = limit
    channel.health_updated_at = timezone.now()
    channel.save(update_fields=["quality_rating", "messaging_limit", "health_updated_at"])
    outbox.channel_forward(channel=channel)
    subject = _("Padu: WhatsApp number quality of %(name)s") % {"name": channel.name}
    if lowered:
        _tell(
            channel,
            subject,
            _(
                "Meta lowered the messaging limit of %(name)s to %(limit)s because of its "
                "quality rating. Fewer new customers can be messaged each day until the "
                "quality improves."
            )
            % {"name": channel.name, "limit": _limit_words(limit)},
        )
    elif flagged:
        _tell(
            channel,
            subject,
            _(
                "Meta flagged the quality of %(name)s as low: customers have been blocking "
                "or reporting its messages. If it does not improve within 7 days, its "
                "messaging limit is lowered."
            )
            % {"name": channel.name},
        )


@transaction.atomic
def phone_name_record(*, channel: Channel, event: PhoneNameEvent) -> None:
    """Store Meta's review of a number's display name; tell managers of a rejection."""
    if not _is_number_of(channel, event.display_phone_number):
        return
    if event.decision not in DisplayNameStatus.values:
        return
    channel = _locked(channel)
    state = (event.decision, event.requested_name, event.rejection_reason)
    current = (
        channel.display_name_status,
        channel.display_name_requested,
        channel.display_name_rejection,
    )
    if state == current:
        return
    channel.display_name_status = event.decision
    channel.display_name_requested = event.requested_name
    channel.display_name_rejection = event.rejection_reason
    channel.health_updated_at = timezone.now()
    channel.save(
        update_fields=[
            "display_name_status",
            "display_name_requested",
            "display_name_rejection",
            "health_updated_at",
        ]
    )
    if event.decision == DisplayNameStatus.REJECTED:
        message = _(
            "Meta rejected the display name %(requested)s of %(name)s. Edit it in WhatsApp "
            "Manager, following Meta's display name guidelines."
        ) % {"requested": event.requested_name or "—", "name": channel.name}
        if event.rejection_reason:
            reason = meta_reason_words(event.rejection_reason)
            message += " " + _("Reason: %(reason)s") % {"reason": reason}
        _tell(
            channel, _("Padu: display name of %(name)s rejected") % {"name": channel.name}, message
        )
