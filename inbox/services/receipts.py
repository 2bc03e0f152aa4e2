"""Meta's word on the business's messages: sent, delivered, read, failed, and what else
it says about them (WhatsApp's pricing and conversation, statuses Padu does not track).
Statuses only move forward; a report about a message not recorded yet waits for it in
`PendingReceipt`, and Messenger's watermarks wait on the conversation for replies whose
send is recorded after them."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from channels_meta.models import Channel
from channels_meta.webhooks.events import StatusEvent
from inbox.models import (
    STATUS_ORDER,
    Conversation,
    Direction,
    EventType,
    Message,
    MessageStatus,
    PendingReceipt,
)
from inbox.services import outbox

# Known outbound statuses; others Meta reports (WhatsApp's `played`) go to the history.
KNOWN_STATUSES = {*STATUS_ORDER, MessageStatus.FAILED}
# Where a conversation keeps each kind of Messenger watermark.
WATERMARK_FIELDS = {
    MessageStatus.DELIVERED: "delivered_watermark",
    MessageStatus.READ: "read_watermark",
}


def pending_receipts_apply(*, channel: Channel, external_ids: list[str]) -> None:
    """Apply the receipts that waited for these messages, now recorded."""
    if not external_ids:
        return
    receipts = PendingReceipt.objects.filter(channel=channel, external_id__in=external_ids)
    for receipt in receipts:
        target = Message.objects.filter(channel=channel, external_id=receipt.external_id)
        advance(
            target,
            receipt.status,
            receipt.at,
            receipt.error_code,
            receipt.error_reason,
            organization_id=channel.organization_id,
        )
        _status_details_record(target, receipt.status, receipt.at, receipt.details)
    receipts.delete()


def pending_receipts_sweep(*, batch: int = 500) -> int:
    """Apply waiting receipts whose message has been recorded since: a receipt and the
    recording of its message can cross in concurrent transactions, each missing the
    other. Returns how many were applied."""
    matched = PendingReceipt.objects.filter(
        Exists(
            Message.objects.filter(
                channel_id=OuterRef("channel_id"), external_id=OuterRef("external_id")
            )
        )
    )
    applied = 0
    for channel_id in matched.values_list("channel_id", flat=True).distinct()[:batch]:
        external_ids = list(
            matched.filter(channel_id=channel_id).values_list("external_id", flat=True)[:batch]
        )
        with transaction.atomic():
            channel = Channel.objects.get(pk=channel_id)
            pending_receipts_apply(channel=channel, external_ids=external_ids)
        applied += len(external_ids)
    return applied


def advance(
    queryset,
    status: str,
    at: datetime,
    error_code: int | None = None,
    error_reason: str = "",
    *,
    organization_id: int,
) -> int:
    """Move outbound messages forward to `status`, never back; endpoints that want
    `message.updated` hear of each message that moved."""
    if status == MessageStatus.FAILED:
        moving = queryset.filter(status__in=[MessageStatus.QUEUED, MessageStatus.SENT])
        changes = {"status": MessageStatus.FAILED, "error_code": error_code}
        changes["error_reason"] = error_reason
    elif status in STATUS_ORDER:
        moving = queryset.filter(status__in=STATUS_ORDER[: STATUS_ORDER.index(status)])
        changes = {"status": status}
        stamp = {
            MessageStatus.SENT: "sent_at",
            MessageStatus.DELIVERED: "delivered_at",
            MessageStatus.READ: "read_at",
        }.get(status)
        if stamp:
            queryset.filter(**{f"{stamp}__isnull": True}).update(**{stamp: at})
    else:
        return 0
    if not outbox.wanted(organization_id, EventType.MESSAGE_UPDATED):
        return moving.update(**changes)
    moved = list(moving.values_list("pk", flat=True))
    Message.objects.filter(pk__in=moved).update(**changes)
    outbox.messages_forward(
        organization_id=organization_id, message_ids=moved, event_type=EventType.MESSAGE_UPDATED
    )
    return len(moved)


@transaction.atomic(savepoint=False)
def status_record(*, channel: Channel, event: StatusEvent) -> int:
    """Apply a sent/delivered/read/failed report; a report about a message Padu has not
    recorded yet waits for it. Returns how many messages moved."""
    outbound = Message.objects.filter(channel=channel, direction=Direction.OUTBOUND)
    moved = 0
    if event.external_ids:
        ids = [external_id for external_id in event.external_ids if external_id]
        known = set(outbound.filter(external_id__in=ids).values_list("external_id", flat=True))
        moved += advance(
            outbound.filter(external_id__in=known),
            event.status,
            event.at,
            event.error_code,
            event.error_reason,
            organization_id=channel.organization_id,
        )
        if known:
            _status_details_record(
                outbound.filter(external_id__in=known), event.status, event.at, event.details
            )
        PendingReceipt.objects.bulk_create(
            [
                PendingReceipt(
                    organization_id=channel.organization_id,
                    channel=channel,
                    external_id=external_id,
                    status=event.status[:10],
                    at=event.at,
                    error_code=event.error_code,
                    error_reason=event.error_reason,
                    details=event.details,
                )
                for external_id in ids
                if external_id not in known
            ],
            ignore_conflicts=True,
        )
    if event.watermark is not None and event.customer_id:
        conversations = Conversation.objects.filter(channel=channel).filter(
            Q(contact__external_id=event.customer_id) | Q(contact__other_id=event.customer_id)
        )
        # Kept before the messages move, for `watermarks_catch_up`.
        _watermark_keep(conversations, event.status, event.watermark)
        moved += advance(
            outbound.filter(conversation__in=conversations).filter(_taken_by(event.watermark)),
            event.status,
            event.at,
            organization_id=channel.organization_id,
        )
    return moved


def _taken_by(watermark: datetime) -> Q:
    """The outbound messages Meta had by `watermark`, which a Messenger receipt covers:
    sent ones (never queued or failed), Padu's replies counted from when Padu asked Meta
    for them (Meta's time for a reply falls between then and Meta's answer, and its
    receipt can reach Padu before that answer does), others from their time at Meta."""
    return Q(status__in=[MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ]) & (
        Q(send_claimed_at__lte=watermark) | Q(send_claimed_at=None, sent_at__lte=watermark)
    )


def _watermark_keep(conversations, status: str, watermark: datetime) -> None:
    field = WATERMARK_FIELDS.get(status)
    if field:
        conversations.filter(Q(**{field: None}) | Q(**{f"{field}__lt": watermark})).update(
            **{field: watermark}
        )


def watermarks_catch_up(*, message: Message) -> None:
    """Apply to a reply whose send is recorded the Messenger receipts of its conversation
    that came while Meta's answer was on the way and cover it."""
    # Read once the send is committed, holding nothing else: a receipt being recorded
    # meanwhile either sees the reply as sent or holds the conversation until it commits.
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update()
            .only(*WATERMARK_FIELDS.values())
            .get(pk=message.conversation_id)
        )
    for status, field in WATERMARK_FIELDS.items():
        watermark = getattr(conversation, field)
        if watermark is not None:
            # The customer had the reply by the watermark: it stands for when they got it.
            covered = Message.objects.filter(pk=message.pk).filter(_taken_by(watermark))
            advance(covered, status, watermark, organization_id=message.organization_id)


def _status_details_record(queryset, status: str, at: datetime, details: dict) -> None:
    """Keep on the messages what Meta said besides the status (WhatsApp's pricing,
    conversation, biz_opaque_callback_data, errors), and a status Padu does not track
    (WhatsApp's `played`) in their `extra["statuses"]` history. Writes only changes."""
    unknown = status not in KNOWN_STATUSES
    if not details and not unknown:
        return
    changed = []
    for message in queryset.select_for_update().only("pk", "extra"):
        extra = {**message.extra, **details}
        if unknown:
            seen = {"status": status, "at": at.isoformat()}
            history = message.extra.get("statuses", [])
            extra["statuses"] = history if seen in history else [*history, seen]
        if extra != message.extra:
            message.extra = extra
            changed.append(message)
    if changed:
        Message.objects.bulk_update(changed, ["extra"])
